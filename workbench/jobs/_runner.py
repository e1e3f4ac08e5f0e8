"""Runs one job on a Dask worker and records how it ended.

When the worker process running a job dies (killed, out of memory, its machine lost), Dask gives
the task to another worker. The job then starts once more from the beginning (jobs store their
results in one transaction at the end, so a second attempt finds nothing half-done); if that
worker dies too, the job is failed with ``jobs.worker_died`` instead of being tried again, because
a job that killed two workers (most often by using more memory than they have) would kill the
next one as well. Each restart is noted in the job log, and removes the temporary files of writers
that died (see ``workbench/artifacts.py``).
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from typing import Any

from pipelines.errors import JobCancelled, WorkbenchError
from workbench.context import worker_workbench
from workbench.db.engine import session_scope
from workbench.db.models import Job, utcnow
from workbench.jobs._context import JobContext
from workbench.jobs._kinds import resolve
from workbench.jobs._queue import TERMINAL_STATES

__all__ = ["execute_job"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
_RESTART_NOTE = "[restart]"


def execute_job(job_id: int, settings_values: dict[str, Any]) -> str:
    """Entry point submitted to Dask. Returns the final state; never raises for job errors."""
    workbench = worker_workbench(settings_values)
    ended, restarted, kind, params = _claim(workbench, job_id)
    if restarted:  # the dead worker's half-written artifacts (their file locks died with it)
        workbench.store.clean_partial()
    if ended:
        return ended

    ctx = JobContext(workbench, job_id)
    ctx.start()
    state, result, error_key, error_params, trace = "succeeded", {}, None, {}, ""
    try:
        result = resolve(kind)(ctx, params) or {}
    except JobCancelled:
        state = "cancelled"
    except WorkbenchError as exc:
        state, error_key, error_params = "failed", exc.key, _jsonable(exc.params)
    except Exception as exc:  # a bug: keep the traceback in the job log, show the user a sentence
        state, error_key = "failed", "jobs.internal_error"
        error_params = {"error": type(exc).__name__}
        trace = traceback.format_exc()
        log.exception("job %s crashed", job_id)
    finally:
        ctx.stop()

    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            return "missing"
        if job.state != "running":  # already failed by a sweep (e.g. after a restart): keep that verdict
            return job.state
        job.state = state
        job.finished_at = utcnow()
        job.result = _jsonable(result)
        job.error_key, job.error_params = error_key, error_params
        if state == "succeeded":
            job.progress = 1.0
        if trace:
            job.log += trace
    return state


def _claim(workbench, job_id: int) -> tuple[str, bool, str, dict[str, Any]]:
    """Mark the job running on this worker: (the state it ended in instead, or "";
    whether a worker died running it before; its kind and parameters)."""
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.state in TERMINAL_STATES:
            return (job.state if job else "missing"), False, "", {}
        if job.cancel_requested_at is not None:
            job.state, job.finished_at = "cancelled", utcnow()
            return job.state, False, "", {}
        restarted = job.state == "running"
        if restarted:  # the worker running it died and Dask gave the task to this one
            attempt = job.log.count(_RESTART_NOTE) + 2
            if attempt > MAX_ATTEMPTS:
                job.state, job.finished_at = "failed", utcnow()
                job.error_key, job.error_params = "jobs.worker_died", {"attempts": attempt - 1}
                job.log += f"[{utcnow():%Y-%m-%d %H:%M:%S} UTC] jobs.worker_died: {job.worker} stopped\n"
                return job.state, True, "", {}
            job.log += (f"{_RESTART_NOTE} The worker {job.worker} stopped while running this job; "
                        f"attempt {attempt} of {MAX_ATTEMPTS} starts from the beginning.\n")
            job.progress, job.status_text, job.status_params, job.result = 0.0, "", {}, {}
        job.state = "running"
        job.started_at = job.heartbeat_at = utcnow()
        job.worker = f"{socket.gethostname()}:{os.getpid()}"
        return "", restarted, job.kind, dict(job.params)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
