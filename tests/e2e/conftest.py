"""The served app (`workbench serve`) in a subprocess and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import fcntl
import json
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
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import ADMIN_PASSWORD, run_folder

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

    @classmethod
    def attach(cls, state: dict) -> Server:
        """A server another test process started (``process`` stays None: not this process's to stop)."""
        srv = cls(Path(state["data_dir"]), Path(state["log"]), env=state["env"])
        srv.port, srv.url = state["port"], f"http://127.0.0.1:{state['port']}"
        return srv

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
# kind at 100 as at the default 1000 (the services' and evaluation tests cover the default), and
# each journey that opens Results or Export waits for that evaluation job, on the shared server
# behind the other journeys' jobs
RESAMPLES = 100


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "data", tmp_path / "server.log", env={"WORKBENCH_BOOTSTRAP_RESAMPLES": str(RESAMPLES)}).start()
    yield srv
    # SIGKILL of the whole group at the end of a test: the data folder is thrown away, and the graceful
    # shutdown (Streamlit, then closing the Dask cluster) took 7-20 s per test on a loaded machine.
    # tests/workbench/test_serve_*.py still stop their servers with SIGTERM.
    srv.kill_everything()


SHARED_STATE = "shared-server.json"
# The shared server's jobs: one thread per pytest-xdist process (three), so that one journey's evaluation
# or training does not wait in the queue behind another's (the default is two threads).
SHARED_ENV = {"WORKBENCH_BOOTSTRAP_RESAMPLES": str(RESAMPLES), "WORKBENCH_DASK_THREADS_PER_WORKER": "3"}
# Ends the shared server's process group once the test run's main process is gone, even when the run
# was killed before its own clean-up (pytest_sessionfinish in tests/conftest.py).
_WATCH = ("import os, signal, sys, time\n"
          "owner, group = int(sys.argv[1]), int(sys.argv[2])\n"
          "while os.path.exists(f'/proc/{owner}'):\n    time.sleep(2)\n"
          "try:\n    os.killpg(group, signal.SIGKILL)\nexcept ProcessLookupError:\n    pass\n")


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory):
    """One served app for the whole test run, as the ``server`` fixture configures it, for journey files
    that keep to their own accounts and projects (or only read the demo project): a server start and
    its first page cost half a minute of a loaded machine each. The first xdist process that asks
    starts it under a file lock; the others reuse it; the run's end stops it (tests/conftest.py)."""
    root = run_folder(tmp_path_factory)
    with open(root / "shared-server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = root / SHARED_STATE
        if state.exists():
            srv, started = Server.attach(json.loads(state.read_text())), False
        else:
            folder = root / "shared-server"
            folder.mkdir(exist_ok=True)
            srv = Server(folder / "data", folder / "server.log", env=SHARED_ENV).start()
            owner = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
            subprocess.Popen([sys.executable, "-c", _WATCH, str(owner), str(srv.process.pid)], start_new_session=True)
            state.write_text(json.dumps({"data_dir": str(srv.data_dir), "log": str(srv.log), "env": srv.env,
                                         "port": srv.port, "pid": srv.process.pid}))
            started = True
    yield srv
    if started and not os.environ.get("PYTEST_XDIST_WORKER"):
        stop_shared_server(root)


def stop_shared_server(root: Path) -> None:
    """SIGKILL the shared server's process group (a throwaway folder, as for ``server``)."""
    state = root / SHARED_STATE
    if state.exists():
        try:
            os.killpg(json.loads(state.read_text())["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        state.unlink()


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


def session_cookie(context, *, other_than: str | None = None, timeout: float = 60) -> dict:
    """The session cookie, once the signed-in page has set it (a value other than ``other_than``): it
    posts the one-time code in the background after a sign-in, so an address opened at once
    (``page.goto``) may still be signed out. Waits as long as the journeys wait for a page (60 s)."""
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


def password_for(username: str) -> str:
    """The journeys' accounts' passwords (the rules refuse one that contains the user name)."""
    return f"seven quiet herons fold the map {len(username)}"


def add_account(server, username: str, *, project_id: int | None = None, role: str = "collaborator",
                by=None, site_role: str = "user") -> str:
    """An account the site admin creates (password: ``password_for``), and with ``project_id`` a member
    of that project in ``role``, added by ``by`` (its owner; the admin by default). Returns the password."""
    from workbench.services import accounts, projects

    workbench, admin = _admin(server)
    password = password_for(username)
    accounts.create_user(workbench, admin, username=username, password=password, site_role=site_role)
    if project_id is not None:
        projects.add_member(workbench, by or admin, project_id=project_id, username=username, role=role)
    workbench.engine.dispose()
    return password


def _admin(server, *, resamples: int | None = None):
    from workbench.context import open_workbench
    from workbench.services import accounts
    from workbench.settings import default_settings

    extra = {} if resamples is None else {"bootstrap_resamples": resamples}
    workbench = open_workbench(default_settings(data_dir=str(server.data_dir), admin_password=ADMIN_PASSWORD, **extra))
    return workbench, accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                          password=ADMIN_PASSWORD).token)


def project_of(server, datasets_dir, owner: str | None = None, *, table: Path | None = None, resamples: int = 1000):
    """``(workbench, owner actor, project id, table)``: the admin and the demo project, or with ``owner``
    that account (created; password ``password_for(owner)``) and a project of its own holding the heart
    failure table (or ``table``), so journeys on the shared server do not meet."""
    from sqlalchemy import select

    from tests.workbench.test_results_service import InlineQueue
    from workbench.db.engine import session_scope
    from workbench.db.models import User
    from workbench.services import datasets, projects
    from workbench.services._access import load_actor

    workbench, admin = _admin(server, resamples=resamples)
    workbench.jobs = InlineQueue(workbench.settings)  # jobs run here, in the test, through the real runner
    table = table or datasets_dir / "heart_failure_clinical_records.csv"
    if owner is None:
        user_id, project_id = admin.user_id, projects.list_projects(workbench, admin)[0].id
    else:
        add_account(server, owner)
        with session_scope(workbench.engine) as session:
            user_id = session.scalar(select(User.id).where(User.username == owner))
            actor = load_actor(session, user_id)
        project_id = projects.create_project(workbench, actor, name=f"Heart failure mortality ({owner})")
        with session_scope(workbench.engine) as session:
            actor = load_actor(session, user_id)
        datasets.import_file(workbench, actor, project_id=project_id, path=table, label=table.name)
    with session_scope(workbench.engine) as session:
        return workbench, load_actor(session, user_id), project_id, table


def approved_recipe(workbench, actor, project_id: int, table: Path):
    """The suggested recipe for DEATH_EVENT on the project's newest version, with ``time`` (recorded
    after the outcome) dropped, approved by ``actor``: ``(recipe, dataset version, recipe version id)``."""
    from pipelines.recipe import DropColumns, suggest_recipe
    from workbench.services import datasets, recipes

    version = datasets.list_versions(workbench, actor, project_id)[0]
    recipe = suggest_recipe(pd.read_csv(table), target="DEATH_EVENT")
    if "time" not in [c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns]:
        recipe = recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))
    recipe_version = recipes.save_version(workbench, actor, project_id=project_id, dataset_version_id=version.id,
                                          recipe=recipe)
    recipes.approve(workbench, actor, recipe_version_id=recipe_version)
    return recipe, version, recipe_version


def trained_demo(server, datasets_dir, *, owner: str | None = None, table: Path | None = None):
    """The demo project (or with ``owner`` a project of its own, see ``project_of``) with an approved
    recipe (without ``time``) and one tiny training run."""
    from pipelines.automl import SearchSettings
    from workbench.services import training

    resamples = int(getattr(server, "env", {}).get("WORKBENCH_BOOTSTRAP_RESAMPLES", 1000))  # as the server evaluates
    workbench, actor, project_id, table = project_of(server, datasets_dir, owner, table=table, resamples=resamples)
    _, _, recipe_version = approved_recipe(workbench, actor, project_id, table)
    training.start_training(workbench, actor, recipe_version_id=recipe_version, overrides_text=None,
                            settings=SearchSettings(families=("linear", "xgboost"), n_trials=3, time_budget_s=None,
                                                    seed=3))
    return workbench, actor, project_id


def pick_option(page, opener, option: str, *, typed: str | None = None) -> None:
    """Open a Streamlit selectbox by clicking ``opener``, type ``typed`` (long lists are virtualised:
    filter first) and click ``option``. A rerun that redraws the widget under a loaded machine can
    close the list before the keys arrive, so the list is awaited before typing, and opened again once."""
    listbox = page.get_by_role("listbox")
    for attempt in range(2):
        opener.click()
        try:
            listbox.wait_for(timeout=15_000)
            if typed:
                page.keyboard.type(typed)
            page.get_by_role("option", name=option, exact=True).click(timeout=15_000 if attempt == 0 else None)
            return
        except PlaywrightTimeout:
            if attempt:
                raise
            page.keyboard.press("Escape")


# Streamlit marks what a script run has not drawn again yet as stale, and shows its running icon
_BUSY = "[data-testid=stStatusWidgetRunningIcon], [data-testid=stStatusWidgetRunningManIcon], [data-stale=true]"


def settled(page, *, quiet_ms: int = 600) -> None:
    """Wait until the page's script run has ended: no running icon and nothing stale for ``quiet_ms``
    (a widget's change starts its rerun a moment after the event)."""
    page.wait_for_function("""([busy, quiet]) => {
        const now = performance.now();
        if (document.querySelector(busy)) { window.__wbQuietSince = null; return false; }
        window.__wbQuietSince ??= now;
        return now - window.__wbQuietSince >= quiet;
    }""", arg=[_BUSY, quiet_ms], polling=100)


def download(page, button, *, timeout: float = 120_000):
    """Click a download button once the page has settled, and the file it gives.

    The workbench's buttons generate their file on the click (Streamlit's deferred download): a click
    that lands while a rerun replaces the button asks for a file the server has already dropped, and
    the button shows Streamlit's error instead of downloading. A person sees that and clicks again;
    the test clicks once the page is still, and reports that error at once if it comes anyway."""
    settled(page)
    got = []
    page.once("download", lambda file: got.append(file))  # a lambda: Playwright cannot wrap list.append
    button.click()
    error = page.get_by_test_id("stDownloadButtonError")
    deadline = time.monotonic() + timeout / 1000
    while not got:
        if error.count():
            raise AssertionError(f"the download failed in the browser: {error.first.inner_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no download {timeout / 1000:.0f} s after the click")
        page.wait_for_timeout(200)
    return got[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed journey's report ends with its server's last lines and a screenshot of each open page
    (tests/e2e/screenshots/failed-*.png): what the CI log has to explain a browser test's failure."""
    report = yield
    if report.failed and call.when == "call":
        for name in ("server", "shared_server"):
            srv = item.funcargs.get(name)
            if isinstance(srv, Server) and srv.log.exists():
                tail = "\n".join(srv.output().splitlines()[-60:])
                report.sections.append((f"{name} log, last 60 lines", tail))
        chromium = item.funcargs.get("browser")
        pages = [page for context in getattr(chromium, "contexts", ()) for page in context.pages]
        for number, page in enumerate(pages):
            try:
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"failed-{item.name}-{number}.png"), timeout=10_000)
            except PlaywrightError:
                pass  # a page that cannot be drawn any more: the report still has the log
    return report


def scroll_to(locator, attempts: int = 3) -> None:
    """Scroll ``locator`` into view. A rerun that redraws it between finding and scrolling detaches
    the element found (Playwright does not look again then), so it is found again, a few times."""
    for attempt in range(attempts):
        try:
            locator.scroll_into_view_if_needed()
            return
        except PlaywrightError as error:
            if "not attached" not in str(error) or attempt == attempts - 1:
                raise
