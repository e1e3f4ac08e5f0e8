"""Ingestion and viewer benchmark (a script, not a timed test).

Generates a 1,000,000 x 50 mixed-type CSV (numbers with gaps, integer counts, 0/1 flags,
categories, dates; about 270 MB) in a temporary folder, then measures in the same run:

* plain ``pandas.read_csv`` + ``DataFrame.to_parquet`` (the baseline),
* the workbench path the upload page takes: ``read_table`` (format/encoding/dialect detection,
  type inference, identifier flags) + ``profile_and_write`` (the stored profile computed while the
  zstd Parquet version is written, as the ingest job does),
* the viewer over that Parquet: first page, a sorted page and a filtered page.

Each measurement runs in a fresh child process so that its peak RSS (``ru_maxrss``) is its own:
peak memory cannot be separated for two workloads inside one process.

    python benchmarks/ingest.py [--rows 1000000] [--keep DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1_000_000


def generate(path: Path, rows: int, seed: int = 7) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    chunk = 200_000
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        cols: dict[str, pa.Array] = {}
        for i in range(20):  # lab values / vitals with ~5% gaps
            values = rng.normal(100 + 10 * i, 15, n).round(2)
            cols[f"lab_{i:02d}"] = pa.array(values, mask=rng.random(n) < 0.05)
        for i in range(10):  # counts
            cols[f"count_{i}"] = pa.array(rng.poisson(3 + i, n))
        for i in range(8):  # flags
            cols[f"flag_{i}"] = pa.array(rng.integers(0, 2, n))
        levels = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])
        for i in range(8):  # categories with a few gaps
            cats = levels[rng.integers(0, 3 + i % 4, n)]
            cols[f"group_{i}"] = pa.array(cats, mask=rng.random(n) < 0.02)
        base = np.datetime64("2015-01-01")
        for i in range(4):  # visit dates
            days = base + rng.integers(0, 3000, n).astype("timedelta64[D]")
            cols[f"date_{i}"] = pa.array(np.datetime_as_string(days, unit="D"))
        table = pa.table(cols)
        if writer is None:
            writer = pcsv.CSVWriter(str(path), table.schema, write_options=pcsv.WriteOptions(quoting_style="needed"))
        writer.write_table(table)
    writer.close()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_pandas(csv: Path, out: Path) -> dict:
    import pandas as pd

    cpu = _cpu_seconds()
    start = time.perf_counter()
    frame = pd.read_csv(csv)
    frame.to_parquet(out / "pandas.parquet")
    return {"seconds": time.perf_counter() - start, "peak_mib": _peak_mib(), "cpu": _cpu_seconds() - cpu}


def child_workbench(csv: Path, out: Path) -> dict:
    from pipelines.ingest import profile_and_write, read_table

    cpu = _cpu_seconds()
    start = time.perf_counter()
    result = read_table(csv, filename=csv.name)
    read_done = time.perf_counter()
    with open(out / "workbench.parquet", "wb") as sink:  # the upload path writes to the store's handle alike
        stored = profile_and_write(result.frame, types=result.types, flags=result.identifier_flags, sink=sink)
    end = time.perf_counter()
    kinds: dict[str, int] = {}
    for column in result.columns:
        kinds[column.inferred_type] = kinds.get(column.inferred_type, 0) + 1
    return {
        "seconds": end - start,
        "cpu": _cpu_seconds() - cpu,
        "read_seconds": read_done - start,
        "profile_write_seconds": end - read_done,
        "peak_mib": _peak_mib(),
        "shape": list(result.frame.shape),
        "types": kinds,
        "flags": len(result.identifier_flags),
        "profile_columns": len(stored.columns),
    }


def child_viewer(parquet: Path) -> dict:
    from pipelines.viewer import Between, Equals, column_summary, correlation, duplicate_rows, missingness_map, page

    times = {}
    start = time.perf_counter()
    first = page(parquet, offset=0, limit=100)
    times["first_page"] = time.perf_counter() - start
    start = time.perf_counter()
    page(parquet, offset=500_000 if first.total_rows > 500_100 else 0, limit=100, sort=[("lab_03", False), ("count_2", True)])
    times["sorted_page"] = time.perf_counter() - start
    start = time.perf_counter()
    filtered = page(parquet, offset=0, limit=100, filters=[Between("lab_00", 110, 130), Equals("group_1", "beta")], sort=[("date_0", True)])
    times["filtered_page"] = time.perf_counter() - start
    times["filtered_rows"] = filtered.total_rows
    extras = {
        "row search": lambda: page(parquet, offset=0, limit=100, search="epsilon"),
        "column summary": lambda: column_summary(parquet, "lab_05"),
        "missingness map": lambda: missingness_map(parquet, bins=100),
        "correlation": lambda: correlation(parquet),
        "duplicate rows": lambda: duplicate_rows(parquet),
    }
    for name, call in extras.items():
        start = time.perf_counter()
        call()
        times[name] = time.perf_counter() - start
    times["peak_mib"] = _peak_mib()
    return times


def _run_child(mode: str, *args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the generated CSV in")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the runs this often and keep each one's fastest")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        if mode == "pandas":
            result = child_pandas(Path(rest[0]), Path(rest[1]))
        elif mode == "workbench":
            result = child_workbench(Path(rest[0]), Path(rest[1]))
        else:
            result = child_viewer(Path(rest[0]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="wb-bench-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        csv = work / "mixed_1m_x_50.csv"
        if not csv.exists():
            start = time.perf_counter()
            generate(csv, args.rows)
            print(f"generated {csv.name}: {csv.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - start:.1f} s")
        pandas_runs, workbench_runs, viewer_runs = [], [], []
        for _ in range(args.repeat):  # alternated, so a busy moment hurts both sides alike
            pandas_runs.append(_run_child("pandas", str(csv), str(work)))
            workbench_runs.append(_run_child("workbench", str(csv), str(work)))
            viewer_runs.append(_run_child("viewer", str(work / "workbench.parquet")))
        pandas = min(pandas_runs, key=lambda r: r["seconds"])
        workbench = min(workbench_runs, key=lambda r: r["seconds"])
        viewer = min(viewer_runs, key=lambda r: r["sorted_page"])

    print(f"{'':28s}{'wall s':>9s}{'cpu s':>9s}{'peak MiB':>10s}   (best of {args.repeat})")
    print(f"{'pandas read_csv+to_parquet':28s}{pandas['seconds']:9.2f}{pandas['cpu']:9.2f}{pandas['peak_mib']:10.0f}")
    print(f"{'workbench ingest (all)':28s}{workbench['seconds']:9.2f}{workbench['cpu']:9.2f}{workbench['peak_mib']:10.0f}")
    print(
        f"  read_table {workbench['read_seconds']:.2f} s, profile beside the Parquet write "
        f"{workbench['profile_write_seconds']:.2f} s; shape {workbench['shape']}, types {workbench['types']}, "
        f"identifier flags {workbench['flags']}"
    )
    print(
        f"ratios: wall {workbench['seconds'] / pandas['seconds']:.2f}x (goal <= 1.5x), "
        f"cpu {workbench['cpu'] / pandas['cpu']:.2f}x, "
        f"peak memory {workbench['peak_mib'] / pandas['peak_mib']:.2f}x (goal <= 0.6x)"
    )
    print(
        f"viewer: first page {viewer['first_page']:.3f} s, sorted page {viewer['sorted_page']:.3f} s, "
        f"filtered page {viewer['filtered_page']:.3f} s ({viewer['filtered_rows']} rows match); "
        f"peak {viewer['peak_mib']:.0f} MiB (goal < 1 s each)"
    )
    extras = ("row search", "column summary", "missingness map", "correlation", "duplicate rows")
    print("viewer panels: " + ", ".join(f"{name} {viewer[name]:.2f} s" for name in extras))


if __name__ == "__main__":
    main()
