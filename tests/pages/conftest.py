from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD

from pathlib import Path

APP = str(Path(__file__).resolve().parents[2] / "workbench" / "app.py")


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A served-like environment: a fresh data folder with the demo project; no cached workbench."""
    import streamlit as st

    for name in list(__import__("os").environ):
        if name.startswith("WORKBENCH_") and name != "WORKBENCH_SHARED_DATASETS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", ADMIN_PASSWORD)
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench

    first_start(open_workbench())
    st.cache_resource.clear()
    yield tmp_path / "data"
    st.cache_resource.clear()


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
