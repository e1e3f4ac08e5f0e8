"""Helpers of the service tests that run jobs (on a real Dask cluster or in a thread)."""

from __future__ import annotations

import time

FINISHED = ("succeeded", "failed", "cancelled")


def wait_for_job(workbench, job_id: int, *, until=FINISHED, timeout: float = 90.0, poll: float = 0.2):
    """The job once its state is one of ``until`` (a finished one by default), read every ``poll``
    seconds; fails after ``timeout`` seconds with the state it is in and the end of its log."""
    from workbench.jobs import get_job

    deadline = time.monotonic() + timeout
    while True:
        job = get_job(workbench, job_id)
        if job.state in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.state} after {timeout:.0f}s: {(job.log or '')[-2000:]}")
        time.sleep(poll)
