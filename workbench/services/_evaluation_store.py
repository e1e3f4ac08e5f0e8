"""Where evaluations live: the ``evaluations`` rows and their JSON artifacts, the run's analysis
table and predictions they are computed from, and the ``evaluate`` jobs computing them.

Private to ``results`` and ``evaluation_job``: permission checks happen there, before anything here.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from permissions.policy import Actor
from pipelines.errors import NotFound
from pipelines.recipe import Recipe, prepare
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import DatasetVersion, Evaluation, Job, ModelRow, RecipeVersion, Run
from workbench.services import _codec, audit
from workbench.services._evaluate import EvalOptions, Progress, contributions_for, evaluate_model
from workbench.services._frames import read_dataset_frame
from workbench.services._run_store import load_model_zip

__all__ = ["JOB_KIND", "ACTIVE", "options_digest", "prepared_frame", "predictions", "stored_row", "stored_model_ids",
           "evaluation_jobs", "wait_for_job", "compute"]

JOB_KIND = "evaluate"
ACTIVE = ("queued", "running")
_RECENT_JOBS = 200  # of the project, searched for one computing the same evaluation
_POLL_SECONDS = 1.0


def options_digest(options: EvalOptions) -> str:
    """Names one stored evaluation per model (and the job computing it)."""
    return hashlib.sha256(json.dumps(options.to_dict(), sort_keys=True).encode()).hexdigest()


def prepared_frame(workbench: Workbench, run: Run) -> pd.DataFrame | None:
    """The run's analysis table, rebuilt from its dataset version and recipe (never shown)."""
    if run.recipe_version_id is None:
        return None
    with session_scope(workbench.engine) as session:
        version = session.get(RecipeVersion, run.recipe_version_id)
        dataset = session.get(DatasetVersion, version.dataset_version_id) if version is not None else None
        if version is None or dataset is None:
            return None
        session.expunge(version)
        session.expunge(dataset)
    return prepare(Recipe.from_json(version.recipe_json), read_dataset_frame(workbench, dataset)).frame


def predictions(workbench: Workbench, run: Run, model_id: int) -> pd.DataFrame:
    digest = (run.summary or {}).get("predictions_sha256")
    if not digest:
        raise NotFound("results.no_predictions", model_id=model_id)
    import pyarrow.parquet as pq

    frame = pq.read_table(workbench.store.verified_path(digest), filters=[("model_id", "=", model_id)]).to_pandas()
    for column in ("model_id", "row", "fold"):
        frame[column] = frame[column].astype(np.int64)
    return frame


def stored_row(workbench: Workbench, model_id: int, digest: str) -> Evaluation | None:
    with session_scope(workbench.engine) as session:
        row = session.scalar(select(Evaluation).where(Evaluation.model_id == model_id,
                                                      Evaluation.options_sha256 == digest))
        if row is not None:
            session.expunge(row)
        return row


def compute(workbench: Workbench, actor: Actor, run: Run, model: ModelRow, label: str, options: EvalOptions,
             digest: str, on_progress: Progress | None = None) -> Evaluation:
    frame = prepared_frame(workbench, run)
    fitted = load_model_zip(workbench.store, model.manifest_sha256).model if model.manifest_sha256 else None
    result = evaluate_model(model_id=model.id, label=label, predictions=predictions(workbench, run, model.id),
                            summary=run.summary, options=options, prepared_frame=frame, model=fitted,
                            on_progress=on_progress)
    patient_digest = None
    if frame is not None and fitted is not None:
        rows = predictions(workbench, run, model.id)
        rows = rows[rows["part"] == result.main.part]["row"].to_numpy()
        contributions = contributions_for(fitted, frame.iloc[rows][list(run.summary.get("features", []))])
        if contributions is not None:
            patient_digest = workbench.store.put_bytes(_codec.dumps(contributions))
    stored = Evaluation(run_id=run.id, model_id=model.id, options_sha256=digest, options=options.to_dict(),
                        result_sha256=workbench.store.put_bytes(_codec.dumps(result)),
                        patient_level_sha256=patient_digest, created_by=actor.user_id if actor else None)
    try:
        with session_scope(workbench.engine) as session:
            session.add(stored)
            audit.record(session, actor_id=actor.user_id if actor else None, actor_name=getattr(actor, "name", ""),
                         action="results.evaluate", outcome="succeeded", resource_type="model", resource_id=model.id,
                         project_id=run.project_id, details={"run_id": run.id, "options": options.to_dict()})
    except IntegrityError:  # someone else stored the same evaluation meanwhile: theirs is the one
        existing = stored_row(workbench, model.id, digest)
        if existing is None:
            raise
        return existing
    return stored_row(workbench, model.id, digest) or stored


def stored_model_ids(workbench: Workbench, run_id: int, digest: str) -> set[int]:
    """The run's models with a stored evaluation for these options (nothing decoded)."""
    with session_scope(workbench.engine) as session:
        return set(session.scalars(select(Evaluation.model_id).where(Evaluation.run_id == run_id,
                                                                     Evaluation.options_sha256 == digest)))


def evaluation_jobs(session: Any, project_id: int, run_id: int, digest: str) -> list[Job]:
    """This run's evaluate jobs for these options, newest first."""
    query = (select(Job).where(Job.project_id == project_id, Job.kind == JOB_KIND)
             .order_by(Job.id.desc()).limit(_RECENT_JOBS))
    return [j for j in session.scalars(query)
            if j.params.get("run_id") == run_id and j.params.get("options_sha256") == digest]


def wait_for_job(workbench: Workbench, run: Run, model_id: int, digest: str, *, timeout: float) -> Evaluation | None:
    """The evaluation an active job is computing, once it is stored: a caller that must have the
    numbers now (an export) waits for the job instead of computing the same bootstrap beside it.
    None when no job is on it, or it ended or took longer than ``timeout`` without storing it."""
    deadline = time.monotonic() + timeout
    while True:
        row = stored_row(workbench, model_id, digest)
        if row is not None:
            return row
        with session_scope(workbench.engine) as session:
            busy = any(j.state in ACTIVE and model_id in j.params.get("model_ids", [])
                       for j in evaluation_jobs(session, run.project_id, run.id, digest))
        if not busy or time.monotonic() >= deadline:
            return None
        time.sleep(_POLL_SECONDS)

