"""Peak memory and wall time: the Dask path against the single-process path on the readmission table.

The 101,766-encounter diabetes readmission table (outcome: readmitted within 30 days, split by
``patient_nbr``) is written to Parquet as the workbench stores a dataset version (one row group),
and a 10x copy (patients renumbered per copy, so ten times the patients) in row groups of 100,000
rows. Each scenario runs in its own process, so every peak RSS below belongs to that scenario:

* ``single``: the training job's single-process path (read the Parquet into pandas, prepare,
  ``run_search``) in one process;
* ``dask``: ``run_distributed_search`` on a local cluster of two worker processes (one thread
  each); the driver (the job) and each worker report their own peak.

    python benchmarks/dask_scale.py [--scales 1 10] [--folds 2] [--scenarios single dask] [--json OUT]
                                    [--budget SECONDS]

Both paths run the same suggested recipe, XGBoost and LightGBM with their default configurations
(two trials), the same seed and the same number of folds (``--folds``; the single-process path
holds one preprocessed matrix per fold, so fewer folds makes it leaner and the comparison harder
for the Dask path). ``--budget`` searches under that time budget instead (as many trials as fit;
each trial's rounds and what the time budget cut are printed). Wall times depend on whatever else
the machine runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATASETS = Path(os.environ.get("WORKBENCH_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
TARGET, GROUP = "readmitted_30", "patient_nbr"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def write_tables(folder: Path, scales: list[int]) -> dict[int, Path]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(DATASETS / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False, na_values=[""],
                        low_memory=False)
    frame[TARGET] = (frame.pop("readmitted") == "<30").astype("int64")
    out = {}
    for scale in scales:
        path = folder / f"readmission_x{scale}.parquet"
        if scale == 1:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")
        else:
            writer = None
            for copy in range(scale):  # one copy at a time: the writer never holds the big table
                part = frame.copy()
                part[GROUP] = part[GROUP].astype("int64") + np.int64(copy) * 1_000_000_000
                part["encounter_id"] = part["encounter_id"].astype("int64") + np.int64(copy) * 1_000_000_000
                table = pa.Table.from_pandas(part, preserve_index=False)
                writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=100_000)
            writer.close()
        out[scale] = path
    return out


def _recipe(path: Path, folds: int):
    import dataclasses

    import pyarrow.parquet as pq

    from pipelines.recipe import suggest_recipe

    head = next(pq.ParquetFile(path).iter_batches(batch_size=20_000)).to_pandas()
    recipe = suggest_recipe(head, target=TARGET)
    return dataclasses.replace(recipe, split=dataclasses.replace(recipe.split, kind="grouped_kfold", group_column=GROUP,
                                                                 n_folds=folds))


def _settings(budget: float | None = None):
    from pipelines.automl import SearchSettings

    return SearchSettings(families=("xgboost", "lightgbm"), n_trials=None if budget else 2, time_budget_s=budget,
                          seed=0, calibration=False, ensemble=False, device="cpu")


def _trials(trials) -> list:
    return [(t.family, t.cv_mean, t.params.get("n_estimators"), t.time_cut) for t in trials]


def scenario_single(path: Path, folds: int, budget: float | None = None) -> dict:
    import pyarrow.parquet as pq

    from pipelines.automl import run_search
    from pipelines.recipe import build_preprocessor, make_split_plan, prepare

    started = time.perf_counter()
    recipe = _recipe(path, folds)
    frame = pq.read_table(path).to_pandas()
    prepared = prepare(recipe, frame)
    del frame
    plan = make_split_plan(recipe.split, prepared, seed=0)
    result = run_search(X=prepared.X, y=prepared.y, plan=plan, task=prepared.task,
                        make_preprocessor=lambda: build_preprocessor(recipe, prepared), settings=_settings(budget),
                        groups=prepared.frame[GROUP], positive_label=prepared.positive_label)
    return {"wall_s": time.perf_counter() - started, "peak_mb": {"process": _peak_mb()},
            "rows": len(prepared.frame), "test_auroc": result.final.test_score,
            "trials": _trials(result.trials)}


def scenario_dask(path: Path, folds: int, scratch: Path, budget: float | None = None) -> dict:
    from distributed import Client, LocalCluster

    from pipelines.automl.distributed import run_distributed_search, storage_for
    from workbench.services._training_dask import rows_per_partition

    import pyarrow.parquet as pq

    recipe = _recipe(path, folds)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit=0) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        run = run_distributed_search(client, recipe=recipe, source=path, scratch=scratch, storage=storage_for(scratch),
                                     study_key=f"bench-{path.stem}-{time.time_ns()}", settings=_settings(budget),
                                     rows_per_partition=rows_per_partition(pq.ParquetFile(path).metadata.num_rows, 2))
        wall = time.perf_counter() - started
        workers = client.run(_peak_mb)
    return {"wall_s": wall, "peak_mb": {"driver": _peak_mb(), **{f"worker {i + 1}": mb for i, mb in
                                                                  enumerate(workers.values())}},
            "rows": int(len(run.plan.train_index) + len(run.plan.test_index)), "test_auroc": run.result.final.test_score,
            "partitions": run.info["partitions"], "trials": _trials(run.result.trials)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", choices=("single", "dask"), default=["single", "dask"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--budget", type=float, help="a time budget in seconds instead of the two default trials")
    parser.add_argument("--scenario", choices=("single", "dask"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:  # one scenario in this process; its peak RSS is its own
        out = scenario_single(args.path, args.folds, args.budget) if args.scenario == "single" \
            else scenario_dask(args.path, args.folds, args.scratch, args.budget)
        print("RESULT " + json.dumps(out))
        return
    with tempfile.TemporaryDirectory(prefix="wb-dask-bench-") as tmp:
        tables = write_tables(Path(tmp), args.scales)
        results = []
        for scale, path in tables.items():
            for scenario in args.scenarios:
                command = [sys.executable, __file__, "--scenario", scenario, "--path", str(path), "--folds",
                           str(args.folds), "--scratch", str(Path(tmp) / "scratch")]
                command += ["--budget", str(args.budget)] if args.budget else []
                done = subprocess.run(command, capture_output=True, text=True)
                line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
                if line is None:
                    print(f"x{scale} {scenario}: failed\n{done.stderr[-3000:]}", flush=True)
                    continue
                result = {"scale": scale, "scenario": scenario, **json.loads(line[len("RESULT "):])}
                results.append(result)
                peaks = ", ".join(f"{k} {v:,.0f} MB" for k, v in result["peak_mb"].items())
                print(f"x{scale:<3} {scenario:<6} rows {result['rows']:>9,}  wall {result['wall_s']:7.1f} s  "
                      f"peak RSS: {peaks}  test AUROC {result['test_auroc']:.3f}", flush=True)
                if args.budget:
                    print(f"  budget {args.budget:.0f} s; trials (family, score, rounds, cut): {result['trials']}",
                          flush=True)
        for scale in args.scales:
            single = next((r for r in results if r["scale"] == scale and r["scenario"] == "single"), None)
            dask = next((r for r in results if r["scale"] == scale and r["scenario"] == "dask"), None)
            if single and dask:
                worst = max(v for k, v in dask["peak_mb"].items() if k.startswith("worker"))
                print(f"x{scale}: largest worker peak / single-process peak = {worst / single['peak_mb']['process']:.2f}"
                      f"  (goal below 1 on the replicated table); wall dask / single = "
                      f"{dask['wall_s'] / single['wall_s']:.2f}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
