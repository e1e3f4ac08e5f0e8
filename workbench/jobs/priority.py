"""The local cluster's workers run below the web server's CPU priority (``workbench serve``)."""

from __future__ import annotations

import os
from pathlib import Path

from distributed import Client
from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["WORKER_NICENESS", "lower_worker_priority"]

# Niceness 19 was tried (2026-11-22): on a busy machine it starved the jobs (the CI suite's journeys
# that wait for a training ran about 40 % longer and one timed out) with no measured gain for pages.
WORKER_NICENESS = 10


def lower_worker_priority(scheduler: str, increment: int = WORKER_NICENESS) -> None:
    """Run the cluster's workers (now and after a restart) below the web server's CPU priority.

    Training takes every core it is given; at equal priority the people clicking through pages
    wait behind it. With the workers niced, pages go first and jobs still get every idle cycle.
    """
    with Client(scheduler, set_as_default=False, timeout="30s") as client:
        client.register_plugin(_Niceness(increment), name="workbench-niceness")


class _Niceness(WorkerPlugin):
    """Raises the niceness of every thread of a worker process (threads started later inherit it).

    Linux sets niceness per thread, so the threads that exist when the worker starts are reniced
    one by one; elsewhere ``os.nice`` applies to the whole process.
    """

    def __init__(self, increment: int) -> None:
        self.increment = increment

    def setup(self, worker) -> None:
        tasks = Path("/proc/self/task")
        if not tasks.is_dir():
            os.nice(self.increment)
            return
        for tid in (int(name) for name in os.listdir(tasks)):
            try:
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + self.increment))
            except (ProcessLookupError, PermissionError):  # a thread that ended meanwhile
                continue
