"""The ``evaluate`` job: compute and store the evaluations of a run's models for one set of options.

Bootstrap intervals take 15 s to a minute per model, too long for a page request. The job runs on a
Dask worker, reports which model and which step it is at, stops at the next step when cancelled
(models already stored stay stored), and is started once per (model, options): a second request
for the same evaluation, by the same user or another, finds the job already queued or running.
The training job starts one for the options the results page opens with, so a finished run is
usually evaluated before anyone looks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from permissions.actions import Action
from permissions.policy import Actor
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Job, ModelRow, Run
from workbench.jobs import JobContext
from workbench.services import audit, results
from workbench.services._access import load_actor
from workbench.services._evaluate import EvalOptions, ModelEvaluation
from workbench.services._evaluation_store import ACTIVE, JOB_KIND, evaluation_jobs, stored_model_ids

__all__ = ["JOB_KIND", "EvaluationStatus", "evaluation_status", "request_evaluation", "evaluate_after_training",
           "run_evaluation_job"]

_LIVE_WRITE_SECONDS = 0.5


@dataclass(frozen=True)
class EvaluationStatus:
    """What the results page shows: the stored evaluations now, and the job computing the rest."""

    run_id: int
    options: EvalOptions
    evaluations: dict[int, ModelEvaluation]  # stored, by model
    pending: tuple[int, ...]  # models without a stored evaluation for these options
    job_id: int | None = None  # the newest job for these options (running, or how the last one ended)
    state: str | None = None
    fraction: float = 0.0
    live: dict[str, Any] = field(default_factory=dict)  # models_done, models_total, model_id, step
    error_key: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.state in ACTIVE


def _model_ids(workbench: Workbench, run_id: int) -> list[int]:
    with session_scope(workbench.engine, read_only=True) as session:
        return list(session.scalars(select(ModelRow.id).where(ModelRow.run_id == run_id).order_by(ModelRow.rank)))


def evaluation_status(workbench: Workbench, actor: Actor, *, run_id: int, options: EvalOptions,
                      model_ids: Sequence[int] | None = None, read: bool = True, action: Action = Action.RESULTS_VIEW,
                      part: str = "metrics") -> EvaluationStatus:
    """Stored evaluations of the run's models for ``options`` and the state of the job computing
    the others. Reads only: never computes, never starts a job. ``read=False`` (a progress bar
    polling every few seconds) leaves ``evaluations`` empty: ``pending`` says what is done."""
    stored = results.stored_evaluations(workbench, actor, run_id=run_id, options=options, action=action, part=part,
                                        model_ids=model_ids if read else ())  # () : the check, nothing read
    wanted = list(model_ids) if model_ids is not None else _model_ids(workbench, run_id)
    done = set(stored) if read else stored_model_ids(workbench, run_id, results.options_digest(options))
    pending = tuple(m for m in wanted if m not in done)
    with session_scope(workbench.engine, read_only=True) as session:
        run = session.get(Run, run_id)
        jobs = evaluation_jobs(session, run.project_id, run_id, results.options_digest(options))
        active = [j for j in jobs if j.state in ACTIVE and set(pending) & set(j.params.get("model_ids", []))]
        job = active[0] if active else (jobs[0] if jobs and pending else None)
        if job is None:
            return EvaluationStatus(run_id=run_id, options=options, evaluations=stored, pending=pending)
        return EvaluationStatus(run_id=run_id, options=options, evaluations=stored, pending=pending, job_id=job.id,
                                state=job.state, fraction=float(job.progress or 0.0),
                                live=dict((job.result or {}).get("live") or {}), error_key=job.error_key,
                                error_params=dict(job.error_params or {}))


def request_evaluation(workbench: Workbench, actor: Actor, *, run_id: int, options: EvalOptions,
                       model_ids: Sequence[int] | None = None, action: Action = Action.RESULTS_VIEW,
                       part: str = "metrics") -> int | None:
    """Start the job computing what is not stored yet for ``options``; the id of the job that will
    compute it (an already queued or running one when there is one), None when all is stored."""
    stored = results.stored_evaluations(workbench, actor, run_id=run_id, options=options, model_ids=model_ids,
                                        action=action, part=part)
    wanted = list(model_ids) if model_ids is not None else _model_ids(workbench, run_id)
    missing = [m for m in wanted if m not in stored]
    if not missing:
        return None
    return _enqueue(workbench, run_id=run_id, model_ids=missing, options=options, user_id=actor.user_id,
                    actor_name=getattr(actor, "name", "") or "", submit=_submitter(workbench), access=(action.value, part))


def evaluate_after_training(workbench: Workbench, *, run_id: int, user_id: int | None, actor_name: str = "") -> int | None:
    """Called by the training job once the run is stored: evaluate it for the options the results
    page opens with, as its own job (the training job does not wait). Without a cluster to submit to
    (a job run in-process), nothing is started and the results page starts it when opened."""
    submit = _submitter(workbench)
    if submit is None:
        return None
    with session_scope(workbench.engine) as session:
        run = session.get(Run, run_id)
        summary = dict(run.summary or {})
    return _enqueue(workbench, run_id=run_id, model_ids=_model_ids(workbench, run_id), submit=submit,
                    options=results.run_default_options(workbench, summary), user_id=user_id, actor_name=actor_name)


def _enqueue(workbench: Workbench, *, run_id: int, model_ids: list[int], options: EvalOptions, user_id: int | None,
             actor_name: str, submit: Any, access: tuple[str, str] = (Action.RESULTS_VIEW.value, "metrics")) -> int:
    """``access``: the action and shared part the requester reached the run through (an export by a
    collaborator with only the paper pack shared); the job computes under the same check."""
    digest = results.options_digest(options)
    with session_scope(workbench.engine) as session:
        # the run row, locked: two requests for the same evaluation at once queue here and the
        # second finds the first one's job (SQLite takes the write lock at BEGIN already)
        run = session.get(Run, run_id, with_for_update=True)
        covered: set[int] = set()
        for job in evaluation_jobs(session, run.project_id, run_id, digest):
            if job.state in ACTIVE:
                covered |= set(job.params.get("model_ids", []))
        todo = [m for m in model_ids if m not in covered]
        if not todo:
            return next(j.id for j in evaluation_jobs(session, run.project_id, run_id, digest)
                        if j.state in ACTIVE and set(model_ids) & set(j.params.get("model_ids", [])))
        job = Job(kind=JOB_KIND, project_id=run.project_id, created_by=user_id, state="queued",
                  params={"run_id": run_id, "model_ids": todo, "options": options.to_dict(), "options_sha256": digest,
                          "user_id": user_id, "actor_name": actor_name, "access": list(access)})
        session.add(job)
        session.flush()
        job_id = job.id
        audit.record(session, actor_id=user_id, actor_name=actor_name, action="results.evaluate", outcome="queued",
                     resource_type="job", resource_id=job_id, project_id=run.project_id,
                     details={"run_id": run_id, "model_ids": todo, "options": options.to_dict()})
    submit(job_id)
    return job_id


def _submitter(workbench: Workbench) -> Any:
    """How to hand a job to Dask from here: the server's queue, or, inside a Dask task (the training
    job), the worker's own client; None when neither exists."""
    if workbench.jobs is not None:
        return workbench.jobs.submit
    try:
        from distributed import fire_and_forget, get_client, get_worker

        get_worker()  # raises ValueError outside a Dask task
        client = get_client()
    except (ImportError, ValueError):
        return None
    from workbench.jobs._queue import job_settings
    from workbench.jobs._runner import execute_job

    def submit(job_id: int) -> None:
        fire_and_forget(client.submit(execute_job, job_id, job_settings(workbench.settings),
                                      key=f"workbench-job-{job_id}-{uuid.uuid4().hex[:8]}", pure=False))

    return submit


def run_evaluation_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    workbench = ctx.workbench
    with session_scope(workbench.engine) as session:
        actor = load_actor(session, params["user_id"])
    options = EvalOptions(**{**params["options"], "subgroup_columns": tuple(params["options"]["subgroup_columns"])})
    model_ids = [int(m) for m in params["model_ids"]]
    action, part = params.get("access") or (Action.RESULTS_VIEW.value, "metrics")
    total = len(model_ids)
    last_write = 0.0

    def live(done: int, model_id: int, fraction: float, step: str) -> None:
        nonlocal last_write
        ctx.progress((done + fraction) / total, "jobs.status.evaluating", number=done + 1, total=total,
                     model_id=model_id, step=step)
        now = time.monotonic()
        if now - last_write >= _LIVE_WRITE_SECONDS:
            last_write = now
            state = {"models_done": done, "models_total": total, "model_id": model_id, "step": step}
            with session_scope(workbench.engine) as session:
                session.execute(update(Job).where(Job.id == ctx.job_id).values(result={"live": state}))

    for done, model_id in enumerate(model_ids):
        live(done, model_id, 0.0, "start")
        results.evaluate(workbench, actor, run_id=params["run_id"], model_id=model_id, options=options, wait=False,
                         action=Action(action), part=part,
                         on_progress=lambda fraction, step, d=done, m=model_id: live(d, m, fraction, step))
    ctx.progress(1.0, "jobs.status.evaluated", total=total)
    return {"run_id": params["run_id"], "model_ids": model_ids, "options_sha256": params["options_sha256"],
            "live": {"models_done": total, "models_total": total, "step": "done"}}

