from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Base


@pytest.fixture
def workbench(make_workbench, database_url):
    """Every test here runs on SQLite and on PostgreSQL."""
    return make_workbench(database_url=database_url)


def test_migrations_create_every_table(workbench):
    tables = set(sa.inspect(workbench.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert workbench.created_database


def test_migration_matches_the_models(workbench):
    """Autogenerate finds nothing to do: the migration and the models describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with workbench.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_with_busy_timeout_and_foreign_keys(make_workbench):
    with make_workbench().engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_reopening_does_not_migrate_again(workbench, make_workbench, database_url):
    again = make_workbench(database_url=database_url)
    assert not again.created_database


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET outcome = 'succeeded'", "DELETE FROM audit_events",
                                       "TRUNCATE audit_events"])
def test_audit_log_is_append_only(workbench, statement):
    with session_scope(workbench.engine) as session:
        session.add(AuditEvent(action="auth.sign_in", outcome="denied", actor_name="mallory"))
    if statement.startswith("TRUNCATE") and workbench.engine.dialect.name == "sqlite":
        statement = "DELETE FROM audit_events"  # SQLite has no TRUNCATE; DELETE is its equivalent
    with pytest.raises(DBAPIError, match="append-only"):
        with workbench.engine.begin() as connection:
            connection.exec_driver_sql(statement)
    with workbench.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT outcome FROM audit_events").scalars().all() == ["denied"]


def test_times_come_back_as_utc(workbench):
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with session_scope(workbench.engine) as session:
        session.add(AuditEvent(action="x", outcome="succeeded", at=moment))
    with session_scope(workbench.engine) as session:
        stored = session.scalar(sa.select(AuditEvent.at))
    assert stored == moment and stored.tzinfo is not None


def test_naive_datetimes_are_refused(workbench):
    with pytest.raises(Exception, match="naive datetime"):
        with session_scope(workbench.engine) as session:
            session.add(AuditEvent(action="x", outcome="succeeded", at=datetime(2026, 1, 1)))
