"""The app's entries: ``workbench serve``'s loads the app's modules when the server starts, and the
script runs only as Streamlit's script (a process that multiprocessing spawns from one that ran it,
such as a Dask worker process started after a script run, imports it again and must not run the app)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP


def test_a_process_spawned_after_a_script_run_does_not_open_a_workbench(app_env, tmp_path, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    # Streamlit leaves the script as this process's __main__, which a spawned process imports again
    assert Path(sys.modules["__main__"].__file__) == Path(APP)
    elsewhere = tmp_path / "worker-cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("WORKBENCH_DATA_DIR")  # as a worker started with explicit settings: the default folder
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(os.getpid) != os.getpid()
    assert list(elsewhere.iterdir()) == []  # no ./workbench-data with a migrated database


def test_the_server_entry_loads_the_app_modules_when_the_server_starts():
    """``workbench serve``'s entry imports the app's modules at start (about 5 s of imports), so that
    the first visitor's first page does not wait for them. A fresh interpreter: this one has them."""
    probe = ("import sys, workbench.asgi; "
             "print(all(m in sys.modules for m in ('pages._shell', 'workbench.services.results')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=180,
                          cwd=Path(APP).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
