"""Long work on Dask, with state, progress and cancellation in the database."""

from workbench.jobs._context import JobContext
from workbench.jobs._queue import JobQueue, JOB_STATES, TERMINAL_STATES
from workbench.jobs._runner import execute_job
from workbench.jobs._service import (
    create_job,
    fail_interrupted_jobs,
    get_job,
    list_jobs,
    request_cancel,
    sweep_stale_jobs,
)

__all__ = [
    "JobContext",
    "JobQueue",
    "JOB_STATES",
    "TERMINAL_STATES",
    "execute_job",
    "create_job",
    "get_job",
    "list_jobs",
    "request_cancel",
    "sweep_stale_jobs",
    "fail_interrupted_jobs",
]
