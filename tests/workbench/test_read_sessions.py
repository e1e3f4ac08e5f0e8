"""Read-only units of work do not queue behind a writer: pages read while jobs write."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from workbench.db.engine import SQLITE_BUSY_TIMEOUT_MS, read_all, session_scope
from workbench.db.models import Project


def test_a_read_only_session_reads_the_committed_state_while_a_writer_holds_the_lock(make_workbench, database_url):
    workbench = make_workbench(database_url=database_url)
    with session_scope(workbench.engine) as session:
        session.add(Project(name="committed"))
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with session_scope(workbench.engine) as session:  # BEGIN IMMEDIATE on SQLite: the write lock
            session.add(Project(name="not yet committed"))
            session.flush()
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(30)
        started = time.monotonic()
        with session_scope(workbench.engine, read_only=True) as session:
            names = list(session.scalars(select(Project.name)))
        listed = [p.name for p in read_all(workbench.engine, select(Project))]
        took = time.monotonic() - started
    finally:
        release.set()
        thread.join()
    assert names == listed == ["committed"]
    assert took < SQLITE_BUSY_TIMEOUT_MS / 1000 / 10, f"the read waited {took:.1f}s for the writer"
    with session_scope(workbench.engine) as session:  # and the writer's work landed afterwards
        assert session.scalar(select(func.count()).select_from(Project)) == 2


def test_a_page_rerun_resolves_its_session_without_the_write_lock(workbench, admin):
    import sqlite3
    from datetime import timedelta

    from tests.conftest import ADMIN_PASSWORD
    from workbench.db.models import SessionRow, utcnow
    from workbench.services import accounts

    now = utcnow()
    token = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD, now=now).token

    def last_seen():
        with session_scope(workbench.engine) as session:
            return session.scalar(select(SessionRow.last_seen_at).where(SessionRow.user_id == admin.user_id)
                                  .order_by(SessionRow.id.desc()))

    blocker = sqlite3.connect(workbench.data_path / "workbench.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # a job holds the write lock
        started = time.monotonic()
        assert accounts.resolve_session(workbench, token, now=now + timedelta(seconds=5)).user_id == admin.user_id
        assert time.monotonic() - started < 2
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert last_seen() == now  # nothing written for a session seen seconds ago
    assert accounts.resolve_session(workbench, token, now=now + timedelta(seconds=40)) is not None
    assert last_seen() == now + timedelta(seconds=40)  # written once it is older than the step
