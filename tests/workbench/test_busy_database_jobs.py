"""A running job outlives a database that stays busy longer than SQLite's timeout.

Under load (many pages, jobs writing) a write can wait past the busy timeout. The heartbeat must
keep beating afterwards (or the sweep declares a live job lost) and a progress report must not fail
the job. Real SQLite, a real lock held by a second connection; only the timeout is made short.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from workbench.db import engine as db_engine
from workbench.db.engine import session_scope
from workbench.db.models import Job, utcnow
from workbench.jobs import JobContext, create_job, get_job


@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)


def test_heartbeat_and_progress_survive_a_lock_held_past_the_timeout(quick_timeout, make_workbench):
    workbench = make_workbench(job_heartbeat_seconds=1)
    job_id = create_job(workbench, kind="ingest", params={}, project_id=None, user_id=None)
    with session_scope(workbench.engine) as session:
        job = session.get(Job, job_id)
        job.state, job.started_at, job.heartbeat_at = "running", utcnow(), utcnow()
    ctx = JobContext(workbench, job_id)
    ctx.start()
    blocker = sqlite3.connect(workbench.data_path / "workbench.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock for 2.5 s (> 0.2 s timeout)
        time.sleep(1.2)
        ctx.progress(0.4, "reading")  # its write times out: kept, not raised into the job
        time.sleep(1.3)
        blocker.execute("ROLLBACK")
        locked_until = utcnow()
        time.sleep(2.5)
        assert ctx._heartbeat.is_alive()
        assert get_job(workbench, job_id).heartbeat_at > locked_until  # beating again after the lock
        ctx.progress(0.5, "profiling")
    finally:
        blocker.close()
        ctx.stop()
    job = get_job(workbench, job_id)
    assert (job.progress, job.status_text) == (0.5, "profiling")
