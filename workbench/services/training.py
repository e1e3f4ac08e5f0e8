"""Training: recommended settings, starting a search as a Dask job, live progress, stored runs.

Only an approved recipe trains (``recipes.require_approved``). A clinician trains with the
recommended settings; changing them needs the override permissions, so the settings a run used
are always ones its starter was allowed to choose. Recommendations use the table's
meta-features, the shipped table and earlier finished runs of this workbench, and nothing of
another project except its hyperparameters and meta-features.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from permissions.actions import Action
from permissions.policy import Actor, Resource, check
from pipelines.automl import (
    Notice,
    Overrides,
    SearchSettings,
    parse_overrides,
    resolve_device,
)
from pipelines.automl.meta import MetaFeatures
from pipelines.automl.persist import LoadedModel
from pipelines.automl.recommend import PastRun, recommend
from pipelines.errors import InputError, NotFound
from pipelines.recipe import Recipe, prepare
from workbench.context import Workbench
from workbench.db.engine import read_all, session_scope
from workbench.db.models import (
    DatasetVersion,
    Job,
    ModelRow,
    Project,
    RecipeApproval,
    RecipeVersion,
    Run,
    utcnow,
)
from workbench.services import audit
from workbench.services._access import authorize
from workbench.services._frames import read_dataset_frame
from workbench.services._recipe_meta import (
    TrainingMeta,
    recall,
    remember,
    training_meta,
)
from workbench.services._run_store import load_model_zip
from workbench.services.recipes import ApprovedRecipe, require_approved
from workbench.services.review import load_tables

__all__ = [
    "Recommended",
    "TrainingProgress",
    "RunView",
    "recommended_settings",
    "trainable_recipes",
    "check_overrides",
    "start_training",
    "training_jobs",
    "run_progress",
    "list_runs",
    "get_run",
    "load_run_predictions",
    "load_model",
    "SEARCH_FIELDS",
    "ADVANCED_FIELDS",
]

JOB_KIND = "train"
#: Settings whose change needs ``training.override_search``; ``overrides`` needs
#: ``training.override_hyperparameters``; these need ``training.advanced_settings``.
SEARCH_FIELDS = ("families", "n_trials", "time_budget_s", "metric", "enqueue", "calibration", "ensemble")
ADVANCED_FIELDS = ("seed", "device")


@dataclass(frozen=True)
class Recommended:
    """What the page shows before Start: the settings and why."""

    settings: SearchSettings
    reasons: tuple[Notice, ...]
    enqueue: tuple[dict[str, Any], ...]
    device_notices: tuple[Notice, ...]
    meta: MetaFeatures
    n_folds: int

    def __iter__(self):  # ``settings, reasons, enqueue = recommended_settings(...)``
        return iter((self.settings, self.reasons, self.enqueue))


@dataclass(frozen=True)
class TrainingProgress:
    """A training job as the page shows it, live while it runs and final afterwards."""

    job_id: int
    state: str
    fraction: float
    stage: str
    trials_done: int
    trials_total: int | None
    best_score: float | None
    best_family: str | None
    metric: str | None
    elapsed_s: float
    time_budget_s: float | None
    device: str | None
    leaderboard: tuple[dict[str, Any], ...]  # best trial per family so far
    trials: tuple[dict[str, Any], ...]  # empty without training.view_trials
    notices: tuple[Notice, ...]
    run_id: int | None
    error_key: str | None
    error_params: dict[str, Any]
    recipe_version_id: int | None
    created_at: datetime | None


@dataclass(frozen=True)
class RunView:
    run: Run
    models: tuple[ModelRow, ...]  # by rank; rank 1 is the final model

    @property
    def summary(self) -> dict[str, Any]:
        return self.run.summary


# --------------------------------------------------------------------------- recommendations


def trainable_recipes(workbench: Workbench, actor: Actor, project_id: int) -> list[tuple[RecipeVersion, RecipeApproval]]:
    """Recipe versions of the project whose latest approval still matches, newest first."""
    authorize(workbench, actor, Action.RECIPE_VIEW, project_id=project_id)
    out = []
    with session_scope(workbench.engine) as session:
        versions = list(session.scalars(select(RecipeVersion).where(RecipeVersion.project_id == project_id)
                                        .order_by(RecipeVersion.version.desc())))
        for version in versions:
            approval = session.scalar(select(RecipeApproval).where(RecipeApproval.recipe_version_id == version.id)
                                      .order_by(RecipeApproval.id.desc()))
            dataset = session.get(DatasetVersion, version.dataset_version_id)
            if approval is None or approval.recipe_sha256 != version.content_sha256 \
                    or approval.dataset_sha256 != dataset.parquet_sha256:
                continue
            session.expunge(version)
            session.expunge(approval)
            out.append((version, approval))
    return out


def _approved_meta(workbench: Workbench, actor: Actor, recipe_version_id: int) -> tuple[ApprovedRecipe, TrainingMeta]:
    """The approved recipe and its meta-features: stored at approval, or computed here once."""
    approved = require_approved(workbench, actor, recipe_version_id)
    authorize(workbench, actor, Action.TRAINING_START, project_id=approved.recipe_version.project_id)
    hashes = {"recipe_sha256": approved.approval.recipe_sha256, "dataset_sha256": approved.approval.dataset_sha256}
    stored = recall(workbench, **hashes)
    if stored is None:  # approved before meta-features were stored with the approval
        frame = read_dataset_frame(workbench, approved.dataset_version)
        tables, _ = load_tables(workbench, actor, project_id=approved.recipe_version.project_id, recipe=approved.recipe)
        stored = training_meta(approved.recipe, prepare(approved.recipe, frame, tables=tables))
        remember(workbench, **hashes, computed=stored)
    return approved, stored


def _past_runs(workbench: Workbench) -> list[PastRun]:
    """Earlier finished runs of this workbench, reduced to meta-features and best configurations."""
    out: list[PastRun] = []
    with session_scope(workbench.engine) as session:
        rows = session.execute(select(Run.id, Run.summary, Project.name).join(Project, Project.id == Run.project_id)
                               .order_by(Run.id)).all()
    for run_id, summary, project_name in rows:
        meta = (summary or {}).get("meta_features")
        board = [m for m in (summary or {}).get("leaderboard", []) if m.get("family") != "ensemble"]
        if not meta or not board:
            continue
        best = tuple({"family": m["family"], "params": dict(m["params"]), "cv_score": m.get("cv_mean")}
                     for m in sorted(board, key=lambda m: m["rank"]))
        out.append(PastRun(name=f"{project_name} (run {run_id})", meta=MetaFeatures.from_dict(meta), best=best,
                           metric=str(summary.get("metric", "")), source="workbench"))
    return out


def recommended_settings(workbench: Workbench, actor: Actor, *, recipe_version_id: int) -> Recommended:
    """Recommended settings for an approved recipe; unpacks as ``(settings, reasons, enqueue)``."""
    approved, stored = _approved_meta(workbench, actor, recipe_version_id)
    return _recommend(workbench, approved.recipe, stored.meta)


def _recommend(workbench: Workbench, recipe: Recipe, meta: MetaFeatures) -> Recommended:
    rec = recommend(meta, past_runs=_past_runs(workbench))
    device = resolve_device(workbench.settings.compute)
    settings = dataclasses.replace(rec.settings, device=workbench.settings.compute)
    reasons = rec.reasons
    limit = workbench.settings.max_training_seconds
    if settings.time_budget_s is not None and settings.time_budget_s > limit:
        reasons = (*reasons, Notice("training.recommend_budget_capped",
                                    {"limit": limit, "seconds": int(settings.time_budget_s)}))
        settings = dataclasses.replace(settings, time_budget_s=float(limit))
    return Recommended(settings=settings, reasons=reasons, enqueue=rec.enqueue, device_notices=device.notices,
                       meta=meta, n_folds=recipe.split.n_folds)


def check_overrides(workbench: Workbench, actor: Actor, *, project_id: int, text: str) -> tuple[Overrides, tuple[Notice, ...]]:
    """Read a YAML/JSON override box and return what it means plus its notices (``gpu_hist`` ...)."""
    authorize(workbench, actor, Action.TRAINING_OVERRIDE_HYPERPARAMETERS, project_id=project_id)
    return parse_overrides(text)


# --------------------------------------------------------------------------- start


def _merge_overrides(base: Overrides, extra: Overrides) -> Overrides:
    pins = {f: dict(p) for f, p in base.pins.items()}
    bounds = {f: dict(b) for f, b in base.bounds.items()}
    for family, values in extra.pins.items():
        pins.setdefault(family, {}).update(values)
        for name in values:
            bounds.get(family, {}).pop(name, None)
    for family, values in extra.bounds.items():
        bounds.setdefault(family, {}).update(values)
        for name in values:
            pins.get(family, {}).pop(name, None)
    return Overrides(pins={f: p for f, p in pins.items() if p}, bounds={f: b for f, b in bounds.items() if b})


def _needed_actions(chosen: SearchSettings, recommended: SearchSettings, *, n_folds_changed: bool) -> list[Action]:
    a, b = chosen.to_dict(), recommended.to_dict()
    needed = []
    if chosen.overrides.pins or chosen.overrides.bounds:
        needed.append(Action.TRAINING_OVERRIDE_HYPERPARAMETERS)
    if any(a[name] != b[name] for name in SEARCH_FIELDS):
        needed.append(Action.TRAINING_OVERRIDE_SEARCH)
    if n_folds_changed or any(a[name] != b[name] for name in ADVANCED_FIELDS):
        needed.append(Action.TRAINING_ADVANCED_SETTINGS)
    return needed


def start_training(workbench: Workbench, actor: Actor, *, recipe_version_id: int, settings: SearchSettings | None,
                   overrides_text: str | None, n_folds: int | None = None, distributed: bool = False) -> int:
    """Submit a training job for an approved recipe; returns the job id.

    ``settings=None`` means the recommended ones. Anything that differs from them, override text,
    or a different number of folds needs the matching override permission. ``distributed`` asks
    for the Dask path (``xgboost.dask`` / ``lightgbm.dask``) below the ``dask_train_rows`` threshold.
    """
    approved, stored = _approved_meta(workbench, actor, recipe_version_id)
    project_id = approved.recipe_version.project_id
    recommended = _recommend(workbench, approved.recipe, stored.meta)
    chosen = settings or recommended.settings
    notices: tuple[Notice, ...] = ()
    if overrides_text and overrides_text.strip():
        authorize(workbench, actor, Action.TRAINING_OVERRIDE_HYPERPARAMETERS, project_id=project_id)
        parsed, notices = parse_overrides(overrides_text)
        chosen = dataclasses.replace(chosen, overrides=_merge_overrides(chosen.overrides, parsed))
    if n_folds is not None and (isinstance(n_folds, bool) or not isinstance(n_folds, int) or not 2 <= n_folds <= 20):
        raise InputError("train.bad_folds", value=n_folds)
    limit = workbench.settings.max_training_seconds
    if chosen.time_budget_s is not None and chosen.time_budget_s > limit:
        raise InputError("train.budget_over_limit", seconds=int(chosen.time_budget_s), limit=limit)
    folds = n_folds or approved.recipe.split.n_folds
    for action in _needed_actions(chosen, recommended.settings, n_folds_changed=folds != approved.recipe.split.n_folds):
        authorize(workbench, actor, action, project_id=project_id)
    if distributed:
        authorize(workbench, actor, Action.TRAINING_ADVANCED_SETTINGS, project_id=project_id)
    resolve_device(chosen.device)  # "gpu" on a machine without one is refused now, not in the job
    from workbench.jobs import create_job

    params = {
        "project_id": project_id, "recipe_version_id": recipe_version_id, "user_id": actor.user_id,
        "actor_name": getattr(actor, "name", ""), "settings": chosen.to_dict(), "n_folds": folds,
        "notices": [n.to_dict() for n in notices],
        "reasons": [n.to_dict() for n in (*recommended.reasons, *recommended.device_notices)],
        "distributed": bool(distributed) or stored.prepared_rows >= workbench.settings.dask_train_rows,
        "max_training_seconds": limit,
    }
    job_id = create_job(workbench, kind=JOB_KIND, params=params, project_id=project_id, user_id=actor.user_id)
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="training.start",
                     outcome="succeeded", resource_type="job", resource_id=job_id, project_id=project_id,
                     details={"recipe_version_id": recipe_version_id, "settings": chosen.to_dict(), "n_folds": folds,
                              "recommended": chosen == recommended.settings and not notices})
    workbench.jobs.submit(job_id)
    return job_id


# --------------------------------------------------------------------------- progress


def training_jobs(workbench: Workbench, actor: Actor, project_id: int, *, limit: int = 20) -> list[Job]:
    """The project's training jobs, newest first (what the page reopens after a closed tab)."""
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=project_id)
    return read_all(workbench.engine, select(Job).where(Job.project_id == project_id, Job.kind == JOB_KIND)
                    .order_by(Job.id.desc()).limit(limit))


def run_progress(workbench: Workbench, actor: Actor, job_id: int) -> TrainingProgress:
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id)
        if job is not None:
            session.expunge(job)
    if job is None or job.kind != JOB_KIND:
        raise NotFound("train.job_not_found", job_id=job_id)
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=job.project_id)
    result = job.result or {}
    live = result.get("live") or {}
    see_trials = check(actor, Action.TRAINING_VIEW_TRIALS, Resource.project(job.project_id), now=utcnow()).allowed
    elapsed = live.get("elapsed_s")
    if elapsed is None or job.state == "running" and live.get("stage") in (None, "preparing"):
        end = job.finished_at or utcnow()
        elapsed = (end - job.started_at).total_seconds() if job.started_at else 0.0
    notices = tuple(Notice.from_dict(n) for n in live.get("notices", job.params.get("notices", [])))
    return TrainingProgress(
        job_id=job.id, state=job.state, fraction=float(job.progress or 0.0),
        stage=str(live.get("stage") or ("preparing" if job.state == "running" else "queued")),
        trials_done=int(live.get("trials_done", 0)), trials_total=live.get("trials_total"),
        best_score=live.get("best_score"), best_family=live.get("best_family"), metric=live.get("metric"),
        elapsed_s=float(elapsed), time_budget_s=live.get("time_budget_s", job.params.get("settings", {}).get("time_budget_s")),
        device=live.get("device"), leaderboard=tuple(live.get("leaderboard", ())),
        trials=tuple(live.get("trials", ())) if see_trials else (), notices=notices,
        run_id=result.get("run_id"), error_key=job.error_key, error_params=dict(job.error_params or {}),
        recipe_version_id=job.params.get("recipe_version_id"), created_at=job.created_at,
    )


# --------------------------------------------------------------------------- runs


def list_runs(workbench: Workbench, actor: Actor, project_id: int) -> list[Run]:
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=project_id)
    with session_scope(workbench.engine) as session:
        runs = list(session.scalars(select(Run).where(Run.project_id == project_id).order_by(Run.id.desc())))
        for run in runs:
            session.expunge(run)
    return runs


def get_run(workbench: Workbench, actor: Actor, run_id: int) -> RunView:
    with session_scope(workbench.engine) as session:
        run = session.get(Run, run_id)
        models: list[ModelRow] = []
        if run is not None:
            models = list(session.scalars(select(ModelRow).where(ModelRow.run_id == run_id).order_by(ModelRow.rank)))
            for item in (run, *models):
                session.expunge(item)
    if run is None:
        raise NotFound("train.run_not_found", run_id=run_id)
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=run.project_id)
    return RunView(run=run, models=tuple(models))


def load_run_predictions(workbench: Workbench, actor: Actor, run_id: int) -> pd.DataFrame:
    """Per-patient out-of-fold and holdout predictions of every stored model (row-level data)."""
    view = get_run(workbench, actor, run_id)
    authorize(workbench, actor, Action.RESULTS_VIEW_PREDICTIONS, project_id=view.run.project_id)
    digest = view.summary.get("predictions_sha256")
    if not digest:
        raise NotFound("train.no_predictions", run_id=run_id)
    import pyarrow.parquet as pq

    frame = pq.read_table(workbench.store.verified_path(digest)).to_pandas()
    for column in ("model_id", "row", "fold"):
        frame[column] = frame[column].astype(np.int64)
    return frame


def load_model(workbench: Workbench, actor: Actor, model_id: int) -> LoadedModel:
    """A stored model, loaded for predicting inside the app (downloading the file is another action)."""
    with session_scope(workbench.engine) as session:
        row = session.get(ModelRow, model_id)
        run = session.get(Run, row.run_id) if row is not None else None
        if row is not None:
            session.expunge(row)
            session.expunge(run)
    if row is None or not row.manifest_sha256:
        raise NotFound("train.model_not_found", model_id=model_id)
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=run.project_id)
    return load_model_zip(workbench.store, row.manifest_sha256)
