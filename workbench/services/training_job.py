"""The ``train`` job: prepare the approved recipe's data, search on a Dask worker, store the run.

Progress goes into the job row as the search goes (``status_text``, ``progress`` and a ``live``
block in ``result`` with the trials so far and each family's best), so the Train page can show
the leaderboard filling after the tab was closed and reopened. The run is stored in one
transaction at the end: a cancelled or failed job leaves no half run behind.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
from sqlalchemy import update

from pipelines.automl import METRICS, default_metric, SearchProgress, SearchResult, SearchSettings, run_search
from pipelines.recipe import Prepared, build_preprocessor, make_split_plan, prepare
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Job, ModelRow, Run
from workbench.jobs import JobContext
from workbench.jobs.status import part
from workbench.services import audit
from workbench.services._access import load_actor
from workbench.services.evaluation_job import evaluate_after_training
from workbench.services._frames import read_dataset_frame
from workbench.services._run_store import (
    StoredModel,
    leaderboard_models,
    library_versions,
    model_zip,
    plain,
    predictions_frame,
    predictions_parquet,
)
from workbench.services.recipes import ApprovedRecipe, require_approved
from workbench.services.review import load_tables

__all__ = ["run_training_job", "store_run"]

_LIVE_WRITE_SECONDS = 1.0
_SEARCH_SHARE = 0.85  # of the progress bar; the rest is refitting and storing


class _Live:
    """Collects the search's progress and writes it into the job row, at most once a second."""

    def __init__(self, ctx: JobContext, settings: SearchSettings, metric: str | None, notices: list[dict[str, Any]]) -> None:
        self.ctx = ctx
        self.settings = settings
        self.metric = metric
        self.notices = notices
        self.trials: list[dict[str, Any]] = []
        self.best: dict[str, dict[str, Any]] = {}
        self.last_write = 0.0
        self.state: dict[str, Any] = {}

    def __call__(self, progress: SearchProgress) -> None:
        record = progress.last_trial
        if record is not None:
            self.trials.append({
                "number": record.number, "family": record.family, "state": record.state, "source": record.source,
                "value": record.cv_mean, "cv_sd": record.cv_sd, "seconds": record.fit_seconds,
                "device": record.device, "params": plain(record.params),
            })
            if record.state == "complete":
                current = self.best.get(record.family)
                better = current is None or _better(record.cv_mean, current["cv_mean"], self.greater_is_better)
                if better:
                    self.best[record.family] = {"family": record.family, "cv_mean": record.cv_mean,
                                                "cv_sd": record.cv_sd, "trial": record.number, "device": record.device}
        fraction = _fraction(progress)
        self.state = {
            "stage": progress.stage, "trials_done": progress.trials_done, "trials_total": progress.trials_total,
            "best_score": progress.best_score, "best_family": progress.best_family, "metric": self.metric,
            "elapsed_s": round(progress.elapsed_s, 2), "time_budget_s": progress.time_budget_s,
            "device": progress.device,
        }
        trials = (part("jobs.status.trials_of", done=progress.trials_done, total=progress.trials_total)
                  if progress.trials_total else part("jobs.status.trials", done=progress.trials_done))
        best = (part("jobs.status.best", metric=self.metric, score=progress.best_score, family=progress.best_family)
                if progress.best_score is not None else part("jobs.status.no_best"))
        self.ctx.progress(fraction * _SEARCH_SHARE, "jobs.status.search", trials=trials, best=best,
                          seconds=progress.elapsed_s, device=progress.device)
        now = time.monotonic()
        if progress.stage in ("final", "done") or now - self.last_write >= _LIVE_WRITE_SECONDS:
            self.write()

    @property
    def greater_is_better(self) -> bool:
        return METRICS[self.metric].greater_is_better

    def write(self, **extra: Any) -> None:
        self.last_write = time.monotonic()
        board = sorted(self.best.values(), key=lambda r: r["cv_mean"], reverse=self.greater_is_better)
        live = {**self.state, **extra, "leaderboard": board, "trials": self.trials, "notices": self.notices}
        with session_scope(self.ctx.workbench.engine) as session:
            session.execute(update(Job).where(Job.id == self.ctx.job_id).values(result={"live": live}))


def trial_limit(params: dict[str, Any], settings: SearchSettings) -> float | None:
    """The web server's ``max_training_seconds`` (sent with the job: workers may run with other
    settings) for a run with a trial budget only; a time budget was held to it at the start. No
    trial starts after it, and the run says so."""
    limit = params.get("max_training_seconds")
    return float(limit) if limit is not None and settings.time_budget_s is None else None


def _better(a: float | None, b: float | None, greater: bool) -> bool:
    if a is None:
        return False
    if b is None:
        return True
    return a > b if greater else a < b


def _fraction(progress: SearchProgress) -> float:
    if progress.stage in ("final", "done"):
        return 1.0
    parts = []
    if progress.trials_total:
        parts.append(progress.trials_done / progress.trials_total)
    if progress.time_budget_s:
        parts.append(progress.elapsed_s / progress.time_budget_s)
    return max(0.0, min(1.0, max(parts) if parts else 0.0))


def run_training_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    workbench = ctx.workbench
    with session_scope(workbench.engine) as session:
        actor = load_actor(session, params["user_id"])
    # The gate again, as the starter: the approval or the permission may have gone since submission.
    approved = require_approved(workbench, actor, params["recipe_version_id"])
    settings = SearchSettings.from_dict(params["settings"])
    notices = [*params.get("reasons", []), *params.get("notices", [])]
    ctx.progress(0.0, "jobs.status.preparing")
    if params.get("distributed"):  # large tables: xgboost.dask / lightgbm.dask on the cluster
        from workbench.services._training_dask import run_distributed_job

        done = run_distributed_job(ctx, params, approved=approved, settings=settings, notices=notices)
        if done is not None:
            return done
    frame = read_dataset_frame(workbench, approved.dataset_version)
    recipe = approved.recipe
    n_folds = int(params.get("n_folds") or recipe.split.n_folds)
    split = recipe.split if n_folds == recipe.split.n_folds else _with_folds(recipe.split, n_folds)
    tables, _ = load_tables(workbench, actor, project_id=approved.recipe_version.project_id, recipe=recipe)
    prepared = prepare(recipe, frame, tables=tables)
    plan = make_split_plan(split, prepared, seed=settings.seed)
    metric = settings.metric or default_metric(prepared.task)
    live = _Live(ctx, settings, metric, notices)
    groups = prepared.frame[prepared.group_column] if prepared.group_column else None

    def make_preprocessor():
        return build_preprocessor(recipe, prepared)

    result = run_search(X=prepared.X, y=prepared.y, plan=plan, task=prepared.task, make_preprocessor=make_preprocessor,
                        settings=settings, groups=groups, on_progress=live, should_stop=lambda: ctx.cancel_requested,
                        positive_label=prepared.positive_label, stop_trials_after_s=trial_limit(params, settings))
    live.notices = [*notices, *[n.to_dict() for n in result.notices if n.to_dict() not in notices]]
    ctx.progress(_SEARCH_SHARE, "jobs.status.storing_models")
    models = leaderboard_models(result=result)
    ctx.check_cancel()
    run_id = store_run(workbench, job_id=ctx.job_id, approved=approved, prepared=prepared, result=result,
                       models=models, folds=plan.folds, notices=live.notices, user_id=params["user_id"],
                       actor_name=params.get("actor_name", ""))
    live.write(stage="done", run_id=run_id)
    evaluate_after_training(workbench, run_id=run_id, user_id=params["user_id"], actor_name=params.get("actor_name", ""))
    best = models[0]
    ctx.progress(1.0, "jobs.status.trained", count=len(result.trials), metric=result.metric, score=best.cv_mean,
                 family=best.name, seconds=result.elapsed_s, device=result.device)
    return {"run_id": run_id, "live": {**live.state, "stage": "done", "leaderboard": [
        {"family": m.name, "cv_mean": m.cv_mean, "cv_sd": m.cv_sd, "test_score": m.test_score, "device": m.device}
        for m in models], "trials": live.trials, "notices": live.notices}}


def _with_folds(split: Any, n_folds: int) -> Any:
    return dataclasses.replace(split, n_folds=n_folds)


def store_run(workbench: Workbench, *, job_id: int | None, approved: ApprovedRecipe, prepared: Prepared,
              result: SearchResult, models: list[StoredModel], folds: Any, notices: list[dict[str, Any]],
              user_id: int | None, actor_name: str) -> int:
    """Write the artifacts, then the run, its models and the predictions, in one transaction."""
    classes = tuple(plain(c) for c in result.classes)
    extra = {"target": prepared.target, "positive_label": plain(prepared.positive_label),
             "features": list(prepared.features), "recipe_sha256": approved.recipe_version.content_sha256}
    digests = [workbench.store.put_bytes(model_zip(m.model, task=result.task, classes=classes,
                                                   extra={**extra, "family": m.name}))
               for m in models]
    fold_of_row = np.full(len(result.train_index), -1, dtype=np.int64)
    for i, (_, va) in enumerate(folds):
        fold_of_row[va] = i
    project_id = approved.recipe_version.project_id
    with session_scope(workbench.engine) as session:
        run = Run(project_id=project_id, job_id=job_id, recipe_version_id=approved.recipe_version.id,
                  settings=result.settings.to_dict(), device=result.device, created_by=user_id, summary={})
        session.add(run)
        session.flush()
        rows = []
        for rank, (stored, digest) in enumerate(zip(models, digests), start=1):
            row = ModelRow(run_id=run.id, family=stored.family, rank=rank, manifest_sha256=digest, params=stored.params,
                           metrics=plain({"cv_mean": stored.cv_mean, "cv_sd": stored.cv_sd,
                                          "test_score": stored.test_score, "metric": result.metric,
                                          "oof_score": stored.oof_score, "calibration": stored.calibration,
                                          "final": stored.final}))
            session.add(row)
            rows.append(row)
        session.flush()
        frame = predictions_frame(models=[(row.id, stored) for row, stored in zip(rows, models)], result=result,
                                  fold_of_row=fold_of_row)
        predictions = workbench.store.put_bytes(predictions_parquet(frame))
        cut = {t.number: t.time_cut for t in result.trials if t.time_cut}
        leaderboard = [plain({
            "model_id": row.id, "rank": row.rank, "name": stored.name, "family": stored.family, "params": stored.params,
            "cv_mean": stored.cv_mean, "cv_sd": stored.cv_sd, "test_score": stored.test_score,
            "oof_score": stored.oof_score, "metric": result.metric, "device": stored.device,
            "fit_seconds": stored.fit_seconds, "trial_number": stored.trial_number, "final": stored.final,
            "calibration": stored.calibration, "time_cut": cut.get(stored.trial_number),
        }) for row, stored in zip(rows, models)]
        run.summary = plain({
            "task": result.task, "target": prepared.target, "positive_label": prepared.positive_label,
            "classes": list(classes), "metric": result.metric, "greater_is_better": result.greater_is_better,
            "features": list(prepared.features), "group_column": prepared.group_column,
            "n_train": int(len(result.train_index)), "n_test": int(len(result.test_index)), "n_folds": len(folds),
            "split": approved.recipe.split.kind, "meta_features": result.meta_features.to_dict(),
            "leaderboard": leaderboard,
            "trials": [{"number": t.number, "family": t.family, "value": t.cv_mean, "cv_sd": t.cv_sd,
                        "state": t.state, "source": t.source, "params": t.params, "seconds": t.fit_seconds,
                        "device": t.device, "fold_scores": list(t.fold_scores), "error": t.error,
                        "time_cut": t.time_cut}
                       for t in result.trials],
            "final": {"kind": result.final.kind, "members": [list(m) for m in result.final.members],
                      "calibration": result.final.calibration,
                      "calibration_scores": result.final.calibration_scores,
                      "oof_score": result.final.oof_score, "test_score": result.final.test_score},
            "device": result.device, "notices": notices, "libraries": library_versions(), "seed": result.settings.seed,
            "elapsed_s": round(result.elapsed_s, 2), "predictions_sha256": predictions,
            "y_true": {"binary": "1 = positive_label", "multiclass": "class label",
                       "regression": "value"}[result.task],
            "dataset_version_id": approved.dataset_version.id, "dataset_sha256": approved.dataset_version.parquet_sha256,
            "recipe_sha256": approved.recipe_version.content_sha256, "rows_in": prepared.rows_in,
            "cohort_flow": [{"step": f.step, "kind": f.kind, "rows_in": f.rows_in, "rows_out": f.rows_out,
                             "reason": f.reason} for f in prepared.cohort_flow],
        })
        audit.record(session, actor_id=user_id, actor_name=actor_name, action="training.finish", outcome="succeeded",
                     resource_type="run", resource_id=run.id, project_id=project_id,
                     details={"job_id": job_id, "models": len(rows), "metric": result.metric,
                              "best": leaderboard[0]["name"], "cv_mean": leaderboard[0]["cv_mean"]})
        return run.id
