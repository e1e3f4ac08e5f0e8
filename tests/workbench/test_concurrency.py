"""Many writers on one project: no lost update, no "database is locked" reaching anyone."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from workbench.db.engine import session_scope
from workbench.db.models import DatasetVersion
from workbench.services import projects
from workbench.services._versions import next_version

WRITERS, OPERATIONS = 8, 100


@pytest.mark.slow
def test_eight_writers_number_versions_without_gaps_or_duplicates(make_workbench, database_url):
    from tests.conftest import ADMIN_PASSWORD
    from workbench.bootstrap import first_start
    from workbench.services import accounts

    workbench = make_workbench(database_url=database_url)
    first_start(workbench)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    project_id = projects.create_project(workbench, admin, name="Shared")
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for operation in range(OPERATIONS):
                with session_scope(workbench.engine) as session:
                    version = next_version(session, DatasetVersion, project_id)
                    session.add(DatasetVersion(project_id=project_id, version=version, label=f"w{number}-{operation}",
                                               parquet_sha256="0" * 64, source_sha256="0" * 64, source_format="csv",
                                               n_rows=0, n_columns=0))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(workbench.engine) as session:
        versions = sorted(session.scalars(select(DatasetVersion.version).where(DatasetVersion.project_id == project_id)))
    assert versions == list(range(1, WRITERS * OPERATIONS + 1))
