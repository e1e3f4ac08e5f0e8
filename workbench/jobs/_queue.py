"""Submission to Dask: a local cluster beside the server or an existing scheduler."""

from __future__ import annotations

import threading
import uuid
from typing import Any

__all__ = ["JobQueue", "JOB_STATES", "TERMINAL_STATES", "job_settings"]

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
# Settings a worker needs to find the same database and artifact store; secrets stay behind.
_WORKER_SETTINGS = ("data_dir", "database_url", "compute", "job_heartbeat_seconds", "bootstrap_resamples")


def job_settings(settings) -> dict[str, Any]:
    values = {name: settings.values[name] for name in _WORKER_SETTINGS}
    values["data_dir"] = str(settings.data_path)
    values["database_url"] = settings.resolved_database_url
    return values


class JobQueue:
    """A Dask client, created on first use, that submits jobs and lets them outlive the browser tab."""

    def __init__(self, address: str | None, settings) -> None:
        self.address = address
        self._settings = settings
        self._client = None
        self._cluster = None
        self._lock = threading.Lock()

    @property
    def client(self):
        from distributed import Client

        with self._lock:
            if self._client is None or self._client.status in {"closed", "closing"}:
                if self.address is None:
                    # No scheduler configured (a bare `streamlit run`): an in-process cluster.
                    from distributed import LocalCluster

                    self._cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                                 dashboard_address=None)
                    self._client = Client(self._cluster, set_as_default=False)
                else:
                    self._client = Client(self.address, set_as_default=False, timeout="10s")
            return self._client

    def submit(self, job_id: int) -> None:
        from distributed import fire_and_forget

        from workbench.jobs._runner import execute_job

        future = self.client.submit(
            execute_job,
            job_id,
            job_settings(self._settings),
            key=f"workbench-job-{job_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
        )
        fire_and_forget(future)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None
