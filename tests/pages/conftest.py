from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD, copy_of_built

APP = str(Path(__file__).resolve().parents[2] / "workbench" / "app.py")


def _first_started(folder: Path) -> dict:
    """A served app's data folder after its first start (admin, demo project), no connection left open."""
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench
    from workbench.settings import load_settings

    workbench = open_workbench(load_settings({"WORKBENCH_DATA_DIR": str(folder), "WORKBENCH_ADMIN_PASSWORD": ADMIN_PASSWORD}))
    first_start(workbench)
    workbench.engine.dispose()
    return {}


@pytest.fixture
def app_env(tmp_path, tmp_path_factory, monkeypatch):
    """A served-like environment: a fresh data folder with the demo project; no cached workbench. The
    first start (migrations, the admin's password hash, the demo's import) is made once per test run
    and copied (``copy_of_built``)."""
    import streamlit as st

    for name in list(__import__("os").environ):
        if name.startswith("WORKBENCH_") and name != "WORKBENCH_SHARED_DATASETS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", ADMIN_PASSWORD)
    copy_of_built(tmp_path_factory, "app_env first start", _first_started, into=tmp_path / "data")
    st.cache_resource.clear()
    yield tmp_path / "data"
    st.cache_resource.clear()


def trained_app(app_env: Path, datasets_dir: Path, tmp_path_factory, *, resamples: int = 1000):
    """``trained_demo`` on ``app_env``'s folder (the demo with an approved recipe and one tiny training):
    ``(workbench, owner actor, demo project id)``, the workbench evaluating with ``resamples``. Trained
    once per test run; each caller gets a copy of that folder in place of its own."""
    import shutil
    from types import SimpleNamespace

    from tests.e2e.conftest import trained_demo
    from tests.workbench.test_results_service import InlineQueue
    from workbench.context import _WORKER_CACHE, open_workbench
    from workbench.db.engine import session_scope
    from workbench.services._access import load_actor
    from workbench.settings import default_settings

    def build(folder: Path) -> dict:
        _first_started(folder)
        workbench, actor, project_id = trained_demo(SimpleNamespace(data_dir=folder, env={}), datasets_dir)
        workbench.engine.dispose()
        for key in [k for k in _WORKER_CACHE if k[1] == str(workbench.data_path)]:  # the jobs' own engine
            _WORKER_CACHE.pop(key).engine.dispose()
        return {"user_id": actor.user_id, "project_id": project_id}

    shutil.rmtree(app_env)
    ids = copy_of_built(tmp_path_factory, "app_env trained demo", build, into=app_env)
    workbench = open_workbench(default_settings(data_dir=str(app_env), admin_password=ADMIN_PASSWORD,
                                                bootstrap_resamples=resamples))
    workbench.jobs = InlineQueue(workbench.settings)  # as trained_demo leaves it: jobs run in the test
    with session_scope(workbench.engine) as session:
        return workbench, load_actor(session, ids["user_id"]), ids["project_id"]


def sign_in(at, username: str = "admin", password: str = ADMIN_PASSWORD):
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(page: str, *, lang: str = "en", username: str = "admin", password: str = ADMIN_PASSWORD,
              timeout: float = 60):
    """A fresh session signed in as ``username`` in ``lang``, on ``pages/<page>``, run without an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["lang"] = lang
    sign_in(at, username, password)
    at.switch_page(f"../pages/{page}")
    at.run()
    assert not at.exception, at.exception
    return at
