from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("WORKBENCH_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The real clinical datasets in ../shared/datasets (see its MANIFEST.md)."""
    if not SHARED_DATASETS.is_dir():
        pytest.fail(f"shared datasets not found at {SHARED_DATASETS}; set WORKBENCH_SHARED_DATASETS")
    return SHARED_DATASETS


ADMIN_PASSWORD = "a long and unusual test passphrase 42"


def run_folder(tmp_path_factory) -> Path:
    """The run's temporary folder that every pytest-xdist process shares (each has a subfolder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def copy_of_built(tmp_path_factory, key: str, build: Callable[[Path], dict], *, into: Path) -> dict:
    """Copy into ``into`` a data folder that ``build(folder)`` made once for the whole test run, and
    return what ``build`` returned (JSON: ids and the like). Training the same tiny run in every test
    module that needs one cost seconds of CPU each time; copying its data folder costs milliseconds.
    The first process that asks for ``key`` builds it under a file lock (the others wait for it);
    ``build`` must leave no database connection open on ``folder``."""
    root = run_folder(tmp_path_factory) / "built"
    root.mkdir(exist_ok=True)
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    done = root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(root / name, ignore_errors=True)
            done.write_text(json.dumps(build(root / name)))  # written last: a failed build is tried again
    shutil.copytree(root / name, into)
    return json.loads(done.read_text())


@pytest.fixture
def make_workbench(tmp_path, monkeypatch):
    """Open a fresh workbench in a temporary data folder (SQLite), with chosen settings."""
    from workbench.context import open_workbench
    from workbench.settings import default_settings

    for name in list(os.environ):
        if name.startswith("WORKBENCH_") and name not in {"WORKBENCH_SHARED_DATASETS"}:
            monkeypatch.delenv(name)

    def _make(**values):
        base = {"data_dir": str(tmp_path / "data"), "demo_project": False, "admin_password": ADMIN_PASSWORD}
        return open_workbench(default_settings(**{**base, **values}))

    return _make


def _started(folder: Path, *, admin: bool) -> dict:
    """A fresh data folder with the default test settings: migrated, and with ``admin`` after its first start."""
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(folder), demo_project=False, admin_password=ADMIN_PASSWORD))
    if admin:
        first_start(workbench)
    workbench.engine.dispose()
    return {}


@pytest.fixture
def workbench(make_workbench, request, tmp_path, tmp_path_factory):
    """A fresh workbench with the default test settings (SQLite). Its migrated database, after the first
    start for a test that asks for ``admin``, is made once per test run and copied (``copy_of_built``):
    a copy costs a millisecond, the migrations and the admin's password hash half a second of CPU.
    (``make_workbench`` still migrates for real, as tests/workbench/test_database.py checks.)"""
    admin = "admin" in request.fixturenames
    copy_of_built(tmp_path_factory, f"started, admin={admin}", lambda folder: _started(folder, admin=admin),
                  into=tmp_path / "data")
    return make_workbench()


@pytest.fixture
def admin(workbench):
    """The first admin, created as on first start, signed in."""
    from workbench.bootstrap import first_start
    from workbench.services import accounts

    first_start(workbench)
    signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD)
    return accounts.resolve_session(workbench, signed.token)


@pytest.fixture
def make_user(workbench, admin):
    """Create an account and return its signed-in actor (reloaded on each call of .refresh)."""
    from workbench.services import accounts

    def _make(username: str, *, site_role: str = "user"):
        password = f"{username[::-1]}+ rides a quiet tandem 7"
        accounts.create_user(workbench, admin, username=username, password=password, site_role=site_role)
        signed = accounts.sign_in(workbench, username=username, password=password)
        return signed

    return _make


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole test session (see tests/postgres.py)."""
    from tests.postgres import postgres_bin, running_postgres

    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: install Debian's postgresql (see .ci/run)")
        pytest.skip("no PostgreSQL server binaries installed (Debian: apt-get install postgresql)")
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Run a test once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    import uuid

    import sqlalchemy as sa

    server = request.getfixturevalue("postgres_server")
    name = "wb_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def pytest_collection_modifyitems(config, items):
    """Files with slow tests first (e2e journeys, then other slow ones), each file kept whole.

    The suite runs in pytest-xdist processes, one file at a time per process, in collection order:
    a journey of two minutes collected last becomes the tail of the whole run. Sorting is stable
    and the same in every process, so each collects the same order."""
    weight: dict[str, int] = {}
    for item in items:
        rank = 0 if item.get_closest_marker("e2e") else 1 if item.get_closest_marker("slow") else 2
        weight[item.nodeid.split("::")[0]] = min(rank, weight.get(item.nodeid.split("::")[0], 2))
    items.sort(key=lambda item: weight[item.nodeid.split("::")[0]])


def pytest_sessionfinish(session):
    """Stop the journeys' shared served app (tests/e2e/conftest.py ``shared_server``) once every
    pytest-xdist process is done: this hook runs last in the main process."""
    if hasattr(session.config, "workerinput"):  # a pytest-xdist process: the main one stops it
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or factory._basetemp is None:  # no test asked for a temporary folder
        return
    from tests.e2e.conftest import stop_shared_server

    stop_shared_server(factory.getbasetemp())
