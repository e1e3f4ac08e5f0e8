"""The served app (`workbench serve`) in a subprocess and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ADMIN_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    found = os.environ.get("WORKBENCH_TEST_CHROMIUM")
    if found:
        return found
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, log: Path, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = dict(env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 120) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update({"WORKBENCH_DATA_DIR": str(self.data_dir), "WORKBENCH_ADMIN_PASSWORD": ADMIN_PASSWORD, **self.env})
        handle = open(self.log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--port", str(self.port)],
                                        env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"server did not answer in {timeout}s: {self.log.read_text(errors='replace')[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_everything(self) -> None:
        """SIGKILL the whole process group: server, Streamlit and Dask workers, as in a power cut."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


# Bootstrap resamples of the served app's evaluations: the pages' numbers and figures are the same
# kind at 200 as at the default 1000 (the services' and evaluation tests cover the default), and
# each journey that opens Results or Export waits for that evaluation job
RESAMPLES = 200


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "data", tmp_path / "server.log", env={"WORKBENCH_BOOTSTRAP_RESAMPLES": str(RESAMPLES)}).start()
    yield srv
    # SIGKILL of the whole group at the end of a test: the data folder is thrown away, and the graceful
    # shutdown (Streamlit, then closing the Dask cluster) took 7-20 s per test on a loaded machine.
    # tests/workbench/test_serve_*.py still stop their servers with SIGTERM.
    srv.kill_everything()


@pytest.fixture
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium (see .ci/run)")
        pytest.skip("no Chromium installed (Debian: apt-get install chromium); .ci/run installs it so CI never skips")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, url: str, username: str = "admin", password: str = ADMIN_PASSWORD, *, button: str = "Sign in") -> None:
    page.goto(url)
    page.get_by_label("User name" if button == "Sign in" else "사용자 이름").fill(username)
    page.get_by_role("textbox", name="Password" if button == "Sign in" else "비밀번호").fill(password)
    page.get_by_role("button", name=button).click()


def session_cookie(context, *, other_than: str | None = None, timeout: float = 30) -> dict:
    """The session cookie, once the signed-in page has set it (a value other than ``other_than``): it
    posts the one-time code in the background after a sign-in, so an address opened at once
    (``page.goto``) may still be signed out."""
    deadline = time.monotonic() + timeout
    while True:
        found = next((c for c in context.cookies() if c["name"] == "wb_session" and c["value"] != other_than), None)
        if found is not None:
            return found
        assert time.monotonic() < deadline, "the signed-in page never set the session cookie"
        time.sleep(0.2)


def nav(page, name: str):
    """A page link in the sidebar."""
    return page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True)


def trained_demo(server, datasets_dir):
    """The demo project with an approved recipe (without ``time``) and one tiny training run."""
    from pipelines.automl import SearchSettings
    from pipelines.recipe import DropColumns, suggest_recipe
    from tests.workbench.test_results_service import InlineQueue
    from workbench.context import open_workbench
    from workbench.db.engine import session_scope
    from workbench.services import accounts, datasets, projects, recipes, training
    from workbench.services._access import load_actor
    from workbench.settings import default_settings

    resamples = int(getattr(server, "env", {}).get("WORKBENCH_BOOTSTRAP_RESAMPLES", 1000))  # as the server evaluates
    workbench = open_workbench(default_settings(data_dir=str(server.data_dir), admin_password=ADMIN_PASSWORD,
                                                bootstrap_resamples=resamples))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    workbench.jobs = InlineQueue(workbench.settings)
    demo = projects.list_projects(workbench, admin)[0]
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)
    version = datasets.list_versions(workbench, owner, demo.id)[0]
    recipe = suggest_recipe(pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv"), target="DEATH_EVENT")
    if "time" not in [c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns]:
        recipe = recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))
    recipe_version = recipes.save_version(workbench, owner, project_id=demo.id, dataset_version_id=version.id,
                                          recipe=recipe)
    recipes.approve(workbench, owner, recipe_version_id=recipe_version)
    training.start_training(workbench, owner, recipe_version_id=recipe_version, overrides_text=None,
                            settings=SearchSettings(families=("linear", "xgboost"), n_trials=3, time_budget_s=None,
                                                    seed=3))
    return workbench, owner, demo.id
