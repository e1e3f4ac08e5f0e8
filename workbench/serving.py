"""What the web server process holds beside the database: its Dask job queue."""

from __future__ import annotations

import os

from workbench.context import Workbench
from workbench.jobs import JobQueue

__all__ = ["attach_job_queue"]


def attach_job_queue(workbench: Workbench) -> Workbench:
    """Give the workbench a queue pointing at the configured or locally started scheduler.

    ``workbench serve`` starts a local cluster and passes its address in
    ``WORKBENCH_DASK_SCHEDULER``; without any address (a bare ``streamlit run``), jobs run on an
    in-process cluster created on first submission.
    """
    address = workbench.settings.dask_scheduler or os.environ.get("WORKBENCH_DASK_SCHEDULER", "")
    workbench.jobs = JobQueue(address or None, workbench.settings)  # type: ignore[attr-defined]
    return workbench
