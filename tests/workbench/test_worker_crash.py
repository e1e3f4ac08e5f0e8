"""SIGKILL the Dask worker process that is training: the job starts once more; a second death fails it.

A real training job on the real heart failure table runs on a LocalCluster with worker processes
(each behind a nanny that starts a new worker after a death, as `dask worker` does). The worker
running the job is found through the Dask client (``client.processing()`` and ``client.run``) and
killed mid-search. See ``workbench/jobs/_runner.py`` for the retry rule.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import time

import pytest
from sqlalchemy import func, select

from tests.workbench.test_artifacts import writer_process
from tests.workbench.test_results_service import TINY, train_heart_failure
from workbench.artifacts import sha256_file
from workbench.db.engine import session_scope
from workbench.db.models import Run
from workbench.i18n import t
from workbench.jobs import JobQueue, get_job
from workbench.services import training

pytestmark = pytest.mark.slow

# long enough that the kill lands mid-search and the retry is seen mid-search: with TINY's 3 trials
# an attempt could end between the test's look and its kill (3 of 6 local runs failed so)
_LONGER = dataclasses.replace(TINY, n_trials=15)

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


def test_killed_training_worker_is_retried_once_and_the_run_is_whole(tmp_path_factory, datasets_dir):
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
            job_id = training.start_training(workbench, owner, recipe_version_id=trained.recipe_version_id,
                                             settings=_LONGER, overrides_text=None)
            first = _until(lambda: _mid_search(workbench, job_id, 0), "the first attempt's trials")
            killed = _kill_worker_running(client, job_id, first)
            second = _until(lambda: _mid_search(workbench, job_id, 1), "the second attempt's trials")
            finished = _until(lambda: (job := get_job(workbench, job_id)).state not in ("queued", "running") and job,
                              "the retried job")
        finally:
            workbench.jobs.close()

    assert not second.worker.endswith(f":{killed}")
    assert f"The worker {first.worker} stopped while running this job; attempt 2 of 2" in second.log
    assert finished.state == "succeeded", (finished.error_key, finished.log)
    assert finished.log.count("[restart]") == 1 and finished.progress == 1.0
    assert _runs_of(workbench, job_id) == 1  # one whole run, nothing from the killed attempt

    connection = sqlite3.connect(workbench.data_path / "workbench.db")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    after = store.digests()
    assert set(before) < set(after)
    for digest in after:  # hashed again from disk: earlier artifacts and what the retry stored
        assert sha256_file(store.path_for(digest)) == digest
    assert list(store.tmp.iterdir()) == []  # no partial file


def test_a_job_whose_second_worker_dies_too_is_failed_with_the_reason(workbench, admin):
    """What the runner does when Dask hands it a job that already lost a worker once (no Dask here:
    the runner is called as a third worker would call it): the verdict, and the dead worker's
    half-written artifact removed (a killed writer process stands for it)."""
    from workbench.db.models import Job
    from workbench.jobs import create_job, execute_job
    from workbench.jobs._queue import job_settings

    job_id = create_job(workbench, kind="ingest", params={}, project_id=None, user_id=None)
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id)
        job.state, job.worker = "running", "node-2:4242"
        job.log = "[restart] The worker node-1:99 stopped while running this job; attempt 2 of 2 starts ...\n"
    dead, living = writer_process(workbench.store.root), writer_process(workbench.store.root)
    try:
        dead.kill()
        dead.wait(timeout=30)
        assert len(list(workbench.store.tmp.glob("part-*"))) == 2
        assert execute_job(job_id, job_settings(workbench.settings)) == "failed"
        # the dead worker's half-written file is gone; another job's, still being written, is not
        assert len(list(workbench.store.tmp.glob("part-*"))) == 1
    finally:
        living.kill()
        living.wait(timeout=30)
    job = get_job(workbench, job_id)
    assert job.error_key == "jobs.worker_died" and job.error_params == {"attempts": 2} and job.finished_at
    assert "node-2:4242 stopped" in job.log
    assert "stopped 2 times" in t(job.error_key, "en", **job.error_params)
    assert "2번 중단" in t(job.error_key, "ko", **job.error_params)
