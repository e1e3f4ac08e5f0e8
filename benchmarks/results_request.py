"""What a Results page request costs now that evaluations are computed by the ``evaluate`` job.

Trains one tiny heart failure run (linear + XGBoost, 3 trials, as the tests do), then, for each
number of resamples, measures in this one process:

- the old request: ``results.evaluate`` computing every model's evaluation (bootstrap CIs,
  subgroups, permutation importance, SHAP) as the page used to before showing anything;
- the job: the same computation through ``run_evaluation_job`` (what a worker runs);
- the new request: what the page does on every rerun (``evaluation_status`` reading the stored
  evaluations, plus ``request_evaluation``, which finds them stored).

    python benchmarks/results_request.py --resamples 200 1000

Timings on a shared machine are noisy; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class _Temp:
    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name))


class _NoQueue:
    def submit(self, job_id: int) -> None:  # the benchmark runs jobs itself
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()

    from tests.workbench.test_results_service import train_heart_failure
    from workbench.jobs import execute_job
    from workbench.jobs._queue import job_settings
    from workbench.services import evaluation_job, results

    trained = train_heart_failure(_Temp(), args.datasets, runs=1)
    workbench, owner = trained.workbench, trained.actor()
    workbench.jobs = _NoQueue()
    view = results.run_results(workbench, owner, trained.run_id)
    print(f"run {trained.run_id}: {', '.join(r.name for r in view.rows)}; subgroups sex, age")
    print(f"{'resamples':>9} {'old request s':>14} {'job s':>7} {'new request ms':>15} {'old/new':>8}")
    for n in args.resamples:
        old_options = results.default_options(workbench, subgroup_columns=("sex", "age"), n_resamples=n, seed=101)
        started = time.perf_counter()
        for row in view.rows:
            results.evaluate(workbench, owner, run_id=trained.run_id, model_id=row.model_id, options=old_options)
        old = time.perf_counter() - started

        options = results.default_options(workbench, subgroup_columns=("sex", "age"), n_resamples=n, seed=202)
        job_id = evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options)
        started = time.perf_counter()
        execute_job(job_id, job_settings(workbench.settings))
        job = time.perf_counter() - started

        requests = []
        for _ in range(5):
            started = time.perf_counter()
            status = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options)
            evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options)
            requests.append(time.perf_counter() - started)
            assert not status.pending
        new = statistics.median(requests)
        print(f"{n:>9} {old:>14.1f} {job:>7.1f} {new * 1000:>15.0f} {old / new:>8.0f}x")


if __name__ == "__main__":
    main()
