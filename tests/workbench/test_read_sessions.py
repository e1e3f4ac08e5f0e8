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
