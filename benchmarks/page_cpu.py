"""CPU the web server spends per page: the Data and Results pages of the trained demo (a script, not a test).

Sets up what ``benchmarks/load.py`` serves (the demo project trained once, evaluations stored, a
clinician member), then runs the app headless through ``streamlit.testing.v1.AppTest`` as that
clinician, alternating Data -> Results -> Data ... as the load benchmark's people do, and prints the
CPU time of the script thread per page (``time.thread_time`` inside Streamlit's script thread: the
work of one page rerun, little affected by what else runs on the machine, though a loaded machine
still inflates it by a fifth or so) and of the whole process (AppTest's own message parsing
included). With ``--profile`` it prints the cProfile entries with the most cumulative time, per
page, over all measured runs (``--save DIR`` keeps them for pstats).

``--served`` measures the real thing instead: ``workbench serve`` and one headless Chromium, and
the CPU (from /proc) of the Streamlit process and of the browser per step: opening the sign-in page
(static files, cold browser cache), signing in (argon2id, the cookie hand-over), Data, Results.

    python benchmarks/page_cpu.py [--runs 20] [--profile [--top 30] [--sort cumulative] [--save DIR]]
    python benchmarks/page_cpu.py --served [--runs 10]

To compare with earlier code, run the script from a checkout of it (it imports the app next to it).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Self

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

APP = str(REPO / "workbench" / "app.py")
PASSWORD = "a quiet tandem rides east at dawn 42"
PAGES = ("data", "results")


class ScriptThreadMeter:
    """Wraps AppTest's script thread: the CPU seconds of each run, and optionally a profile per page."""

    def __init__(self, *, profile: bool) -> None:
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        self._runner = LocalScriptRunner
        self._original = LocalScriptRunner._run_script_thread
        self.profile = profile
        self.profiles: dict[str, cProfile.Profile] = {}
        self.page = ""
        self.last_cpu_s = 0.0

    def __enter__(self) -> Self:
        meter, original = self, self._original

        def measured(runner) -> None:
            profiler = meter.profiles.setdefault(meter.page, cProfile.Profile()) if meter.profile and meter.page else None
            started = time.thread_time()
            if profiler is not None:
                profiler.enable()
            try:
                original(runner)
            finally:
                if profiler is not None:
                    profiler.disable()
                meter.last_cpu_s = time.thread_time() - started

        self._runner._run_script_thread = measured
        # AppTest compiles the scripts again on every run (a new ScriptCache each time); a served
        # app compiles each once per process. Not counted here, as in a served app.
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache

        compiled: dict[str, object] = {}
        self._compile = ScriptCache.get_bytecode

        def cached(cache, script_path: str):
            key = os.path.abspath(script_path)
            if key not in compiled:
                compiled[key] = meter._compile(cache, script_path)
            return compiled[key]

        ScriptCache.get_bytecode = cached
        return self

    def __exit__(self, *exc) -> None:
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache

        self._runner._run_script_thread = self._original
        ScriptCache.get_bytecode = self._compile


def prepare(data_dir: Path, *, served: bool = False) -> str:
    """The load benchmark's setup: demo trained, evaluations stored, one clinician (``served``: the
    server made the data folder already)."""
    from tests.conftest import ADMIN_PASSWORD, SHARED_DATASETS
    from tests.e2e.conftest import trained_demo
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench
    from workbench.services import accounts, evaluation_job, projects, results

    if not served:
        for name in [n for n in os.environ if n.startswith("WORKBENCH_") and n != "WORKBENCH_SHARED_DATASETS"]:
            os.environ.pop(name)
        os.environ["WORKBENCH_DATA_DIR"] = str(data_dir)
        os.environ["WORKBENCH_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        first_start(open_workbench())
    workbench, owner, project_id = trained_demo(SimpleNamespace(data_dir=data_dir), SHARED_DATASETS)
    run_id = results.project_runs(workbench, owner, project_id)[0].run_id  # evaluated here, as a served job would
    evaluation_job.evaluate_after_training(workbench, run_id=run_id, user_id=owner.user_id, actor_name=owner.name)
    accounts.create_user(workbench, owner, username="clinician01", password=PASSWORD)
    projects.add_member(workbench, owner, project_id=project_id, username="clinician01", role="clinician")
    workbench.engine.dispose()
    return "clinician01"


def _check(at, page: str) -> None:
    if at.exception or at.error:
        raise SystemExit(f"{page}: {[e.value for e in at.exception] or [e.value for e in at.error]}")
    texts = " ".join(str(c.value) for c in at.caption) + " ".join(h.value for h in at.subheader)
    expected = "299 rows" if page == "data" else "Leaderboard"
    if expected not in texts:
        raise SystemExit(f"{page}: '{expected}' not on the page; the measurement would be of something else")


def measure(user: str, runs: int, meter: ScriptThreadMeter) -> dict[str, dict[str, list[float]]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    at.run()
    for page in PAGES:  # warm-up: imports, first DuckDB connection, first evaluation read
        at.switch_page(f"../pages/{page}.py")
        at.run()
        _check(at, page)
    spent: dict[str, dict[str, list[float]]] = {p: {"thread": [], "process": []} for p in PAGES}
    for _ in range(runs):
        for page in PAGES:
            meter.page = page
            at.switch_page(f"../pages/{page}.py")
            started = time.process_time()
            at.run()
            spent[page]["process"].append(time.process_time() - started)
            spent[page]["thread"].append(meter.last_cpu_s)
            meter.page = ""
            _check(at, page)
    return spent


def served(root: Path, runs: int) -> int:
    """``workbench serve`` and one headless Chromium: per step, the Streamlit process's CPU and the
    browser's (all its processes, the Playwright driver included), both from /proc. Static files and
    the WebSocket are counted in the server's."""
    from playwright.sync_api import sync_playwright

    from benchmarks._load_cpu import Browsers, descendants, process_cpu_seconds
    from tests.e2e.conftest import CHROMIUM_ARGS, Server, chromium_path

    server = Server(root / "data", root / "server.log").start()
    try:
        user = prepare(root / "data", served=True)
        web = next(p for p in descendants(server.process.pid)
                   if b"streamlit" in Path(f"/proc/{p}/cmdline").read_bytes())

        def cpu() -> float:
            return process_cpu_seconds(web)

        browsers = Browsers(0)
        spent: dict[str, list[float]] = {}
        drawn: dict[str, list[float]] = {}

        def step(name: str, action, ready) -> None:
            browsers.sample()
            before, before_browser = cpu(), browsers.cpu_seconds()
            action()
            ready()
            time.sleep(0.3)  # the last messages of the rerun
            browsers.sample()
            spent.setdefault(name, []).append(cpu() - before)
            drawn.setdefault(name, []).append(browsers.cpu_seconds() - before_browser)

        idle_before = cpu()
        time.sleep(3)
        idle = (cpu() - idle_before) / 3
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            for visit in range(2):  # a fresh browser (no cached files) each time, as each load pass has
                context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(120_000)
                sidebar = page.get_by_test_id("stSidebar")
                step("open", lambda page=page: page.goto(server.url), page.get_by_label("User name").wait_for)
                page.get_by_label("User name").fill(user)
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                step("sign-in", page.get_by_role("button", name="Sign in").click,
                     sidebar.get_by_role("link", name="Data", exact=True).wait_for)
                for _ in range(runs if visit else 1):
                    step("data", sidebar.get_by_role("link", name="Data", exact=True).click,
                         lambda page=page: page.get_by_text("299 rows × 13 columns").first.wait_for())
                    step("results", sidebar.get_by_role("link", name="Results", exact=True).click,
                         lambda page=page: page.get_by_role("cell", name="Logistic / linear regression", exact=True).first.wait_for())
                context.close()
            browser.close()
    finally:
        server.stop()
    print(f"Served: CPU per step of the web server process (idle {1000 * idle:.0f} ms/s, 0.3 s of it in each step) "
          f"and of the browser (load average {os.getloadavg()[0]:.1f}); the first browser's visits are warm-up "
          f"and counted:")
    for name, values in spent.items():
        for who, measured in (("server", values), ("browser", drawn[name])):
            ordered = sorted(measured)
            print(f"{name:>8} {who:>7}: n={len(measured):3d}  median {1000 * statistics.median(measured):6.0f} ms  "
                  f"min {1000 * ordered[0]:6.0f}  max {1000 * ordered[-1]:6.0f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="visits per page (default 20)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top entries per page")
    parser.add_argument("--top", type=int, default=30, help="entries per profile (default 30)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (default cumulative)")
    parser.add_argument("--served", action="store_true",
                        help="measure the served app instead: the web server's and the browser's CPU per step")
    parser.add_argument("--save", type=Path, help="with --profile: also write <page>.prof files here (for pstats/snakeviz)")
    args = parser.parse_args()

    import shutil

    root = Path(tempfile.mkdtemp(prefix="wb-pagecpu-"))
    try:
        if args.served:
            return served(root, args.runs)
        user = prepare(root / "data")
        with ScriptThreadMeter(profile=args.profile) as meter:
            spent = measure(user, args.runs, meter)
        print(f"CPU per page, {args.runs} visits each, as a clinician of the trained demo "
              f"(load average {os.getloadavg()[0]:.1f}):")
        for page, values in spent.items():
            thread, process = (sorted(values[k]) for k in ("thread", "process"))
            print(f"{page:>8}: script thread median {1000 * statistics.median(thread):6.1f} ms "
                  f"(min {1000 * thread[0]:6.1f}, max {1000 * thread[-1]:6.1f}); "
                  f"process median {1000 * statistics.median(process):6.1f} ms")
        if args.profile:
            for page, profiler in meter.profiles.items():
                print(f"\n=== {page}: {args.runs} runs, top {args.top} by {args.sort} ===")
                pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
                if args.save is not None:
                    args.save.mkdir(parents=True, exist_ok=True)
                    profiler.dump_stats(str(args.save / f"{page}.prof"))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
