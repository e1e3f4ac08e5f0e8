"""Jobs on a real Dask LocalCluster: a real ingest job, cooperative cancel, dead workers."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.workbench.conftest import wait_for_job
from workbench.db.engine import session_scope
from workbench.db.models import DatasetVersion, Job, utcnow
from workbench.jobs import (
    JobQueue,
    _kinds,
    create_job,
    fail_interrupted_jobs,
    get_job,
    request_cancel,
    sweep_stale_jobs,
)
from workbench.services import datasets
from workbench.services.datasets import UploadChoices


@pytest.fixture
def project(workbench, admin):
    from workbench.services import projects

    project_id = projects.create_project(workbench, admin, name="Heart failure mortality")
    return project_id


@pytest.fixture
def owner(workbench, admin, project):
    from workbench.db.engine import session_scope as scope
    from workbench.services._access import load_actor

    with scope(workbench.engine) as session:
        return load_actor(session, admin.user_id)


@pytest.mark.slow
def test_ingest_job_runs_on_a_local_cluster_with_worker_processes(workbench, owner, project, datasets_dir):
    from distributed import LocalCluster

    data = (datasets_dir / "heart_failure_clinical_records.csv").read_bytes()
    digest = datasets.stage_upload(workbench, owner, project_id=project, data=data, filename="heart.csv")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        try:
            job_id = datasets.submit_version_job(workbench, owner, project_id=project, raw_digest=digest,
                                                 filename="heart.csv", choices=UploadChoices())
            job = wait_for_job(workbench, job_id)
        finally:
            workbench.jobs.close()
    assert job.state == "succeeded", (job.error_key, job.log)
    assert job.progress == 1.0 and job.worker and job.started_at and job.finished_at
    with session_scope(workbench.engine) as session:
        version = session.get(DatasetVersion, job.result["dataset_version_id"])
        assert (version.n_rows, version.n_columns) == (299, 13)
        assert workbench.store.exists(version.parquet_sha256)


def _slow_counter(ctx, params):
    """A job that only ends when cancelled (or after a long time)."""
    for step in range(params["steps"]):
        ctx.progress(step / params["steps"], f"step {step}")
        time.sleep(0.05)
    return {"steps": params["steps"]}


def _crashing(ctx, params):
    raise ZeroDivisionError("a bug in a job")


@pytest.fixture
def test_kinds(monkeypatch):
    """Two job kinds for testing the runner itself (in-process threads see this module)."""
    monkeypatch.setitem(_kinds.JOB_KINDS, "test_slow", f"{__name__}:_slow_counter")
    monkeypatch.setitem(_kinds.JOB_KINDS, "test_crash", f"{__name__}:_crashing")


@pytest.mark.slow
def test_cancel_stops_a_running_job_within_seconds(workbench, project, test_kinds):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        try:
            job_id = create_job(workbench, kind="test_slow", params={"steps": 100_000}, project_id=project, user_id=None)
            workbench.jobs.submit(job_id)
            wait_for_job(workbench, job_id, until=("running",))
            time.sleep(1.0)
            asked = time.monotonic()
            request_cancel(workbench, job_id)
            job = wait_for_job(workbench, job_id, timeout=10)
            took = time.monotonic() - asked
        finally:
            workbench.jobs.close()
    assert job.state == "cancelled"
    assert took < 5, f"cancel took {took:.1f}s"
    assert 0 < job.progress < 1


@pytest.mark.slow
def test_a_crashing_job_fails_with_a_message_and_keeps_the_traceback_in_its_log(workbench, project, test_kinds):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        try:
            job_id = create_job(workbench, kind="test_crash", params={}, project_id=project, user_id=None)
            workbench.jobs.submit(job_id)
            job = wait_for_job(workbench, job_id)
        finally:
            workbench.jobs.close()
    assert job.state == "failed"
    assert job.error_key == "jobs.internal_error" and job.error_params == {"error": "ZeroDivisionError"}
    assert "ZeroDivisionError: a bug in a job" in job.log


def test_a_queued_job_is_cancelled_at_once(workbench, project):
    job_id = create_job(workbench, kind="ingest", params={}, project_id=project, user_id=None)
    assert request_cancel(workbench, job_id) == "cancelled"
    assert get_job(workbench, job_id).state == "cancelled"


def test_running_job_without_heartbeat_is_failed_with_a_reason(workbench, project):
    job_id = create_job(workbench, kind="ingest", params={}, project_id=project, user_id=None)
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id)
        job.state, job.started_at, job.heartbeat_at = "running", utcnow() - timedelta(minutes=5), utcnow() - timedelta(minutes=5)
    assert sweep_stale_jobs(workbench) == [job_id]
    job = get_job(workbench, job_id)
    assert job.state == "failed" and job.error_key == "jobs.worker_lost" and job.error_params["seconds"] >= 300
    # a fresh heartbeat is left alone
    other = create_job(workbench, kind="ingest", params={}, project_id=project, user_id=None)
    with session_scope(workbench.engine) as session:
        row = session.get(Job, other)
        row.state, row.started_at, row.heartbeat_at = "running", utcnow(), utcnow()
    assert sweep_stale_jobs(workbench) == []


def test_restart_with_a_local_cluster_fails_every_unfinished_job(workbench, project):
    queued = create_job(workbench, kind="ingest", params={}, project_id=project, user_id=None)
    done = create_job(workbench, kind="ingest", params={}, project_id=project, user_id=None)
    with session_scope(workbench.engine) as session:
        session.get(Job, done).state = "succeeded"
    assert fail_interrupted_jobs(workbench) == [queued]
    assert get_job(workbench, queued).error_key == "jobs.interrupted_by_restart"
    assert get_job(workbench, done).state == "succeeded"
