"""CPU vs GPU wall time of the same XGBoost search on the 101,766-row readmission table.

    python benchmarks/gpu.py [--trials 10]

Both runs use the same split, folds, seed and trial budget, so they do the same work; only the
device differs. On a machine where the XGBoost probe finds no usable GPU it says so and stops
(exit status 0), because there is nothing to compare.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import automl as bench

from pipelines.automl import SearchSettings, probe_cuda, run_search
from pipelines.automl.device import enable_cudf_pandas, resolve_device


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    probe = probe_cuda()
    print(f"XGBoost probe: effective device {probe.effective_device!r} {probe.detail}")
    if not probe.cuda:
        print("no usable GPU on this machine: nothing to compare (run this where the probe finds one)")
        return 0
    print(f"cudf.pandas enabled: {enable_cudf_pandas()}")
    task = bench.readmission()
    plan = bench.split(task, args.seed)
    timings = {}
    for device in ("cpu", "cuda"):
        settings = SearchSettings(families=("xgboost",), n_trials=args.trials, time_budget_s=None, seed=args.seed,
                                  device=device, ensemble=False)
        start = time.perf_counter()
        result = run_search(X=task.X, y=task.y, plan=plan, task="binary", make_preprocessor=bench.preprocessor,
                            settings=settings, groups=task.groups, positive_label=1,
                            device_choice=resolve_device(device))
        timings[device] = time.perf_counter() - start
        used = sorted({t.device for t in result.trials})
        print(f"{device:5s}: {timings[device]:8.1f} s  for {len(result.trials)} trials on {used}, "
              f"test AUROC {result.final.test_score:.4f}", flush=True)
    print(f"speed-up GPU over CPU: {timings['cpu'] / timings['cuda']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
