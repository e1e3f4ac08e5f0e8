"""Job rows: create, read, cancel, and recover from dead workers or a restarted server."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from pipelines.errors import NotFound
from workbench.context import Workbench
from workbench.db.engine import read_all, session_scope
from workbench.db.models import Job, utcnow
from workbench.jobs._kinds import JOB_KINDS
from workbench.jobs._queue import TERMINAL_STATES

__all__ = ["create_job", "get_job", "list_jobs", "request_cancel", "sweep_stale_jobs", "fail_interrupted_jobs"]


def create_job(workbench: Workbench, *, kind: str, params: dict[str, Any], project_id: int | None, user_id: int | None) -> int:
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with session_scope(workbench.engine) as session:
        job = Job(kind=kind, params=params, project_id=project_id, created_by=user_id, state="queued")
        session.add(job)
        session.flush()
        return job.id


def get_job(workbench: Workbench, job_id: int) -> Job:
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound("jobs.not_found", job_id=job_id)
        session.expunge(job)
        return job


def list_jobs(workbench: Workbench, *, project_id: int | None = None, limit: int = 50) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if project_id is not None:
        query = query.where(Job.project_id == project_id)
    return read_all(workbench.engine, query)


def request_cancel(workbench: Workbench, job_id: int) -> str:
    """Ask a job to stop. A queued job is cancelled at once; a running one stops at its next check."""
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise NotFound("jobs.not_found", job_id=job_id)
        if job.state in TERMINAL_STATES:
            return job.state
        job.cancel_requested_at = utcnow()
        if job.state == "queued":
            job.state, job.finished_at = "cancelled", utcnow()
        return job.state


def sweep_stale_jobs(workbench: Workbench, *, now: datetime | None = None) -> list[int]:
    """Mark running jobs whose worker stopped sending heartbeats as failed, with the reason."""
    now = now or utcnow()
    limit = now - timedelta(seconds=workbench.settings.job_stale_seconds)
    failed: list[int] = []
    with session_scope(workbench.engine) as session:
        for job in session.scalars(select(Job).where(Job.state == "running")):
            last = job.heartbeat_at or job.started_at or job.created_at
            if last < limit:
                _fail(job, "jobs.worker_lost", {"seconds": int((now - last).total_seconds())})
                failed.append(job.id)
    return failed


def fail_interrupted_jobs(workbench: Workbench) -> list[int]:
    """At the start of a server with its own local cluster no earlier job can still be running."""
    failed: list[int] = []
    with session_scope(workbench.engine) as session:
        for job in session.scalars(select(Job).where(Job.state.in_(("queued", "running")))):
            _fail(job, "jobs.interrupted_by_restart", {"state": job.state})
            failed.append(job.id)
    return failed


def _fail(job: Job, key: str, params: dict[str, Any]) -> None:
    job.state = "failed"
    job.finished_at = utcnow()
    job.error_key, job.error_params = key, params
    job.log += f"[{utcnow():%Y-%m-%d %H:%M:%S} UTC] {key}\n"
