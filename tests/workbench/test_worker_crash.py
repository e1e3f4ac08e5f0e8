"""SIGKILL the Dask worker process that is training: the job starts once more, a second death fails it.

A real training job on the real heart failure table runs on a LocalCluster with worker processes
(each behind a nanny that starts a new worker after a death, as `dask worker` does). The worker
running the job is found through the Dask client (``client.processing()`` and ``client.run``) and
killed mid-search. See ``workbench/jobs/_runner.py`` for the retry rule.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest
from sqlalchemy import func, select

from pipelines.automl import SearchSettings
from tests.workbench.test_results_service import TINY, train_heart_failure
from workbench.artifacts import sha256_file
from workbench.db.engine import session_scope
from workbench.db.models import Run
from workbench.i18n import t
from workbench.jobs import JobQueue, get_job
from workbench.services import training

pytestmark = pytest.mark.slow

LONG = SearchSettings(families=("linear", "xgboost"), n_trials=500, time_budget_s=None, seed=5)


def _until(condition, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _mid_search(workbench, job_id: int, restarts: int):
    """The job row once the given attempt is running and has finished at least one trial."""
    job = get_job(workbench, job_id)
    assert job.state in ("queued", "running"), (job.state, job.error_key, job.log[-2000:])
    if job.state == "running" and job.log.count("[restart]") == restarts and job.progress > 0:
        return job
    return None


def _kill_worker_running(client, job_id: int, job_row) -> int:
    """SIGKILL the worker process whose task is this job; returns its pid."""
    prefix = f"workbench-job-{job_id}-"
    address = _until(lambda: next((w for w, keys in client.processing().items()
                                   if any(str(k).startswith(prefix) for k in keys)), None), "the job's worker")
    pid = client.run(os.getpid, workers=[address])[address]
    assert job_row.worker.endswith(f":{pid}")  # the job row names the process Dask says runs it
    os.kill(pid, signal.SIGKILL)
    return pid


def _runs_of(workbench, job_id: int) -> int:
    with session_scope(workbench.engine) as session:
        return session.scalar(select(func.count()).select_from(Run).where(Run.job_id == job_id))


def test_killed_training_worker_retries_once_then_fails_with_a_reason(tmp_path_factory, datasets_dir):
    from distributed import LocalCluster

    trained = train_heart_failure(tmp_path_factory, datasets_dir, runs=1)
    workbench, owner = trained.workbench, trained.actor()
    store = workbench.store
    before = store.digests()
    assert len(before) >= 4  # the upload, its Parquet and the earlier run's models and predictions

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        client = workbench.jobs.client
        try:
            # A long search: its worker is killed mid-search, then the worker of its second attempt.
            doomed = training.start_training(workbench, owner, recipe_version_id=trained.recipe_version_id,
                                             settings=LONG, overrides_text=None)
            first = _until(lambda: _mid_search(workbench, doomed, 0), "the first attempt's trials")
            first_pid = _kill_worker_running(client, doomed, first)
            second = _until(lambda: _mid_search(workbench, doomed, 1), "the second attempt's trials")
            assert not second.worker.endswith(f":{first_pid}")
            assert "attempt 2 of 2 starts from the beginning" in second.log
            _kill_worker_running(client, doomed, second)
            failed = _until(lambda: (job := get_job(workbench, doomed)).state != "running" and job, "the verdict")

            # The app starts a new job afterwards; this one loses its worker once and still finishes.
            survivor = training.start_training(workbench, owner, recipe_version_id=trained.recipe_version_id,
                                               settings=TINY, overrides_text=None)
            _kill_worker_running(client, survivor, _until(lambda: _mid_search(workbench, survivor, 0), "trials"))
            finished = _until(lambda: (job := get_job(workbench, survivor)).state not in ("queued", "running") and job,
                              "the retried job", timeout=180)
        finally:
            workbench.jobs.close()

    assert failed.state == "failed" and failed.error_key == "jobs.worker_died", (failed.error_key, failed.log)
    assert failed.error_params == {"attempts": 2}
    assert "stopped 2 times" in t(failed.error_key, "en", **failed.error_params)
    assert "2번 중단" in t(failed.error_key, "ko", **failed.error_params)
    assert _runs_of(workbench, doomed) == 0  # nothing half-stored

    assert finished.state == "succeeded", (finished.error_key, finished.log)
    assert finished.log.count("[restart]") == 1 and finished.progress == 1.0
    assert _runs_of(workbench, survivor) == 1

    connection = sqlite3.connect(workbench.data_path / "workbench.db")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    after = store.digests()
    assert set(before) <= set(after)
    for digest in after:  # hashed again from disk: earlier artifacts and whatever the attempts stored
        assert sha256_file(store.path_for(digest)) == digest
    assert list(store.tmp.iterdir()) == []  # no partial file
