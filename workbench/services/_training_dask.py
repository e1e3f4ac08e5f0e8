"""The ``train`` job on the distributed path: large tables through ``xgboost.dask`` / ``lightgbm.dask``.

:func:`run_distributed_job` is called by the training job when the submission chose the Dask path
(a table of at least ``dask_train_rows`` rows, or a data scientist's choice). It reads the approved
dataset version's Parquet in partitions on the cluster the job runs on, and stores an ordinary run
(same models, predictions and summary format) through the same ``store_run``, so results,
evaluation and export need nothing new. A recipe whose data-level steps are not row by row (a
hand-edited cell, a time-series aggregation) trains on the single-process path instead, with a
notice, rather than failing.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import update

from pipelines.automl import SearchSettings, default_metric
from pipelines.automl.device import Notice
from pipelines.automl.distributed import VALIDATION_FOLD, DistributedRun, is_row_local, run_distributed_search, storage_for
from workbench.db.engine import session_scope
from workbench.db.models import Run
from workbench.jobs import JobContext
from workbench.services._run_store import StoredModel, plain
from workbench.services.recipes import ApprovedRecipe

__all__ = ["run_distributed_job", "rows_per_partition"]

_MIN_PARTITION, _MAX_PARTITION = 1_000, 250_000


def rows_per_partition(n_rows: int, n_workers: int) -> int:
    """About four partitions per worker (work to steal, and a bounded piece per task), never tiny
    pieces and never more than a quarter of a million rows in one."""
    return max(_MIN_PARTITION, min(_MAX_PARTITION, math.ceil(n_rows / (4 * max(1, n_workers)))))


@contextmanager
def cluster_client(settings: Any) -> Iterator[Any]:
    """The cluster the job runs on (a job is a task on a Dask worker); outside a worker, the
    configured scheduler, or a local two-worker cluster for the duration of the job."""
    from distributed import Client, LocalCluster, get_worker, worker_client

    try:
        get_worker()
    except ValueError:
        if settings.dask_scheduler:
            with Client(settings.dask_scheduler, timeout="10s") as client:
                yield client
            return
        with LocalCluster(n_workers=max(2, settings.dask_workers), threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
        return
    with worker_client() as client:  # the job's thread leaves the worker's pool while it waits
        yield client


def run_distributed_job(ctx: JobContext, params: dict[str, Any], *, approved: ApprovedRecipe,
                        settings: SearchSettings, notices: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Train and store the run; ``None`` (with a notice added) when the recipe needs the whole table."""
    from workbench.services.training_job import _SEARCH_SHARE, _Live, store_run, trial_limit

    recipe = approved.recipe
    if not is_row_local(recipe):
        kinds = sorted({s.kind for s in recipe.steps if s.enabled and s.level == "data"})
        notices.append(Notice("distributed.not_row_local", {"steps": ", ".join(kinds)}).to_dict())
        return None
    workbench = ctx.workbench
    source = workbench.store.verified_path(approved.dataset_version.parquet_sha256)
    live = _Live(ctx, settings, settings.metric, notices)

    def prepared(meta: Any) -> None:
        live.metric = settings.metric or default_metric(meta.task)

    def progress(update: Any) -> None:
        if live.metric is None:  # the task (and so the default metric) is known once the table is read
            ctx.progress(0.0, "jobs.status.preparing")
        else:
            live(update)

    with cluster_client(workbench.settings) as client:
        workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        n_rows = pq.ParquetFile(source).metadata.num_rows
        run = run_distributed_search(
            client, recipe=recipe, source=source, scratch=workbench.data_path / "scratch" / "partitions",
            storage=storage_for(workbench.data_path), study_key=f"job-{ctx.job_id}-{uuid.uuid4().hex[:8]}",
            settings=settings, rows_per_partition=rows_per_partition(n_rows, workers),
            n_folds=params.get("n_folds"), on_progress=progress, on_prepared=prepared,
            should_stop=lambda: ctx.cancel_requested, stop_trials_after_s=trial_limit(params, settings))
    result = run.result
    live.notices = [*notices, *[n.to_dict() for n in result.notices if n.to_dict() not in notices]]
    ctx.progress(_SEARCH_SHARE, "jobs.status.storing_models")
    ctx.check_cancel()
    models = stored_models(run)
    run_id = store_run(workbench, job_id=ctx.job_id, approved=approved, prepared=run.prepared, result=result,
                       models=models, folds=(run.plan.folds[VALIDATION_FOLD],), notices=live.notices,
                       user_id=params["user_id"], actor_name=params.get("actor_name", ""))
    with session_scope(workbench.engine) as session:  # the run's settings say how it was tuned
        session.execute(update(Run).where(Run.id == run_id)
                        .values(settings={**result.settings.to_dict(), "distributed": plain(run.info)}))
    live.write(stage="done", run_id=run_id)
    best = models[0]
    ctx.progress(1.0, "jobs.status.trained_dask", count=len(result.trials), metric=result.metric, score=best.cv_mean,
                 family=best.name, seconds=result.elapsed_s, device=result.device)
    board = [{"family": m.name, "cv_mean": m.cv_mean, "cv_sd": m.cv_sd, "test_score": m.test_score, "device": m.device}
             for m in models]
    return {"run_id": run_id, "live": {**live.state, "stage": "done", "leaderboard": board, "trials": live.trials,
                                       "notices": live.notices}}


def stored_models(run: DistributedRun) -> list[StoredModel]:
    """The final model first, then each other family's best, as ``store_run`` expects them."""
    result = run.result
    final_row = next(r for r in result.leaderboard if r.selected)
    out = [StoredModel(
        name=final_row.name, family=final_row.family, params=plain(final_row.params), cv_mean=final_row.cv_mean,
        cv_sd=final_row.cv_sd, test_score=result.final.test_score, oof_score=result.final.oof_score,
        device=final_row.device, fit_seconds=final_row.fit_seconds, trial_number=final_row.trial_number, final=True,
        calibration=result.final.calibration, model=result.model, oof=result.oof_predictions,
        test=result.test_predictions)]
    by_name = {fit.row.name: fit for fit in run.others}
    for row in result.leaderboard:
        if row.selected:
            continue
        fit = by_name[row.name]
        out.append(StoredModel(
            name=row.name, family=row.family, params=plain(row.params), cv_mean=row.cv_mean, cv_sd=row.cv_sd,
            test_score=row.test_score, oof_score=fit.oof_score, device=row.device, fit_seconds=row.fit_seconds,
            trial_number=row.trial_number, final=False,
            calibration="none" if result.task != "regression" else "not applicable", model=fit.model, oof=fit.oof,
            test=fit.test))
    return out
