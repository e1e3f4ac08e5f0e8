"""Load benchmark: N people using the served app at once while a training job runs (a script, not a test).

Starts ``workbench serve`` on loopback with a temporary data folder (the demo project, trained once
as the browser tests do), creates one account per simulated person (clinician in the demo project),
starts a training job on the server's Dask cluster, and drives N concurrent headless Chromium
sessions (one browser, one context per person: separate cookies and Streamlit sessions) through:

    sign in -> the Data page (the viewer's grid of the demo table) -> Results (the leaderboard)
            -> Data -> Results ...

A page time is from the click to the moment the page's content is on screen (the grid with its row
count, the leaderboard with its first model). Each N is repeated with fresh sessions until it has
about ``--samples`` page times. Prints the median and 95th percentile per N and per page, the ratio
p95(N=max)/p95(N=1), and every error (a timeout, a Streamlit exception or error box on a page).

By default each person reads every page for a random 10 to 30 s before the next click
(``--think 20``: 0.5-1.5 x S seconds) and the N people sign in spread evenly over a minute
(``--stagger 60``): people using the app at the same time. Pauses are not part of any page time.
``--robots`` (``--think 0 --stagger 0``) makes them click as fast as the pages come, all signing
in in the same second: a stress test. With the browsers on the server's machine that measures
the machine's cores more than the server: the script prints the floor that the browsers' own CPU
sets on the mean page time (Little's law), which no server can beat. Say which pace you used when
you report the numbers.

The browsers run on the same machine as the server, by default 10 steps of niceness below it (as
if they were on the people's own computers; their rendering still counts in every page time). On
a small machine say so when you report the numbers, and whether other work shared the machine.

    python benchmarks/load.py [--sessions 1,5,10] [--rounds 2] [--samples 20] [--browser-nice 10]
                              [--think 20] [--stagger 60] [--robots] [--keep DIR] [--screenshots DIR]
                              [--no-training] [--timeline pages.csv]
    WORKBENCH_LOAD_PASSWORD=... python benchmarks/load.py --url https://workbench.example.org --users a,b,c,...

With ``--url`` it drives a server that runs elsewhere (start a training job there yourself): the
browsers then run on this computer and the server on its own, as in use; the server's CPU is not
measured, the page times and the server's part are.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import SHARED_DATASETS  # noqa: E402
from benchmarks._load_cpu import Browsers, machine_cpu, server_cpu  # noqa: E402
from benchmarks._load_wire import Wire  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, Server, chromium_path, trained_demo  # noqa: E402

PASSWORD = "a quiet tandem rides east at dawn 42"
TIMEOUT_MS = 120_000
_ERRORS = "[data-testid=stException], [data-testid=stAlertContentError]"


@dataclass(frozen=True)
class Pace:
    """How the simulated people click: the mean pause after each page and the spread of their arrivals."""

    think_s: float = 0.0
    stagger_s: float = 0.0

    async def arrive(self, index: int, sessions: int) -> None:
        if self.stagger_s and sessions > 1:
            await asyncio.sleep(self.stagger_s * index / sessions)

    async def read(self, rng: random.Random, phase: Phase) -> None:
        if self.think_s:
            pause = rng.uniform(0.5, 1.5) * self.think_s
            phase.untimed_s += pause
            await asyncio.sleep(pause)

    def describe(self) -> str:
        clicks = f"a pause of 0.5-1.5 x {self.think_s:g} s after each page" if self.think_s else "no pause between pages"
        return clicks + (f", sign-ins spread over {self.stagger_s:g} s" if self.stagger_s else ", all sign in at once")


_PAGES = ("sign-in", "data", "results")


@dataclass
class Phase:
    sessions: int
    errors: list[str] = field(default_factory=list)
    untimed_s: float = 0.0  # the people's time outside page times: opening the app, typing, reading
    started: float = field(default_factory=time.perf_counter)
    # every timed page: (clicked, s after the phase's start; person; page; page seconds; server's part or None)
    pages: list[tuple[float, str, str, float, float | None]] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def times(self) -> dict[str, list[float]]:
        return {kind: [p[3] for p in self.pages if p[2] == kind] for kind in _PAGES}

    @property
    def server_times(self) -> dict[str, list[float]]:
        return {kind: [p[4] for p in self.pages if p[2] == kind and p[4] is not None] for kind in _PAGES}

    @property
    def all_times(self) -> list[float]:
        return [p[3] for p in self.pages]

    @property
    def all_server_times(self) -> list[float]:
        return [p[4] for p in self.pages if p[4] is not None]


@dataclass
class Target:
    """The app to drive: the address, the people's accounts, and the server when this script started it."""

    url: str
    users: list[str]
    password: str
    server: Server | None = None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: with few samples it is an observed time)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def _timed(phase: Phase, kind: str, user: str, action, ready, page, wire: Wire) -> None:
    start, first = time.perf_counter(), len(wire.frames)
    try:
        await action()
        await ready()
    except Exception as error:  # a timeout or a closed page: counted, and the session goes on
        phase.errors.append(f"{user} {kind}: {type(error).__name__}: {str(error).splitlines()[0][:160]}")
        return
    took, served = time.perf_counter() - start, wire.server_time(first)
    phase.pages.append((start - phase.started, user, kind, took, served))
    if served is None:
        phase.errors.append(f"{user} {kind}: no script run seen on the websocket")
    shown = await page.locator(_ERRORS).all_inner_texts()
    if shown:
        phase.errors.append(f"{user} {kind}: error on the page: {shown[0][:160]}")


async def _person(browser, url: str, user: str, password: str, rounds: int, phase: Phase, pace: Pace, index: int,
                  shots: Path | None = None) -> None:
    rng = random.Random(f"{user}-{phase.sessions}-{len(phase.all_times)}")
    await pace.arrive(index, phase.sessions)
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    wire = Wire()
    await wire.attach(context, page)
    sidebar = page.get_by_test_id("stSidebar")
    try:
        opened = time.perf_counter()
        await page.goto(url)
        await page.get_by_label("User name").fill(user)
        await page.get_by_role("textbox", name="Password").fill(password)
        phase.untimed_s += time.perf_counter() - opened
        await _timed(phase, "sign-in", user, page.get_by_role("button", name="Sign in").click,
                     sidebar.get_by_role("link", name="Data", exact=True).wait_for, page, wire)
        for _ in range(rounds):
            await pace.read(rng, phase)
            await _timed(phase, "data", user, sidebar.get_by_role("link", name="Data", exact=True).click,
                         lambda: _data_ready(page), page, wire)
            await pace.read(rng, phase)
            await _timed(phase, "results", user, sidebar.get_by_role("link", name="Results", exact=True).click,
                         lambda: _results_ready(page), page, wire)
        if shots is not None:  # what the last page looked like under this load
            await page.screenshot(path=str(shots / f"load-n{phase.sessions}-{user}-results.png"), full_page=False)
    except Exception as error:
        phase.errors.append(f"{user} session: {type(error).__name__}: {str(error).splitlines()[0][:160]}")
    finally:
        await context.close()


async def _data_ready(page) -> None:
    """The viewer's summary line (its rows and columns) and its grid are on screen."""
    await page.get_by_text(re.compile(r"rows × \d+ columns · from")).first.wait_for()
    await page.locator("[data-testid=stDataFrame]").first.wait_for()


async def _results_ready(page) -> None:
    """The leaderboard with its first model's name is on screen."""
    await page.get_by_role("heading", name="Leaderboard").wait_for()
    await page.locator("[data-testid=stTable] tbody tr td").first.wait_for()


async def _drive(url: str, users: list[str], password: str, rounds: int, phase: Phase, pace: Pace,
                 shots: Path | None = None) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.gather(*(_person(browser, url, user, password, rounds, phase, pace, i, shots if i == 0 else None)
                                   for i, user in enumerate(users)))
        finally:
            await browser.close()


def _prepare(server: Server, people: int):
    """The demo project trained once, ``people`` clinician accounts, and a queue on the server's cluster."""
    from workbench.jobs import JobQueue
    from workbench.services import accounts, projects

    workbench, owner, project_id = trained_demo(server, SHARED_DATASETS)
    users = [f"clinician{i:02d}" for i in range(1, people + 1)]
    for user in users:
        accounts.create_user(workbench, owner, username=user, password=PASSWORD)
        projects.add_member(workbench, owner, project_id=project_id, username=user, role="clinician")
    scheduler = re.findall(r"local Dask cluster at (tcp://\S+)", server.output())[-1]
    workbench.jobs = JobQueue(scheduler, workbench.settings)
    return workbench, owner, project_id, users


class Training:
    """A training job kept running on the server's cluster while sessions are measured."""

    def __init__(self, workbench, owner, project_id: int, *, enabled: bool = True) -> None:
        self.workbench, self.owner, self.project_id = workbench, owner, project_id
        self.enabled = enabled
        self.job_id: int | None = None

    def ensure_running(self) -> int | None:
        from pipelines.automl import SearchSettings
        from workbench.jobs import get_job
        from workbench.services import recipes, training

        if not self.enabled:
            return None
        if self.job_id is not None and get_job(self.workbench, self.job_id).state in ("queued", "running"):
            return self.job_id
        recipe_id = recipes.list_versions(self.workbench, self.owner, self.project_id)[0].id
        settings = SearchSettings(families=("xgboost", "lightgbm", "forest"), n_trials=None,
                                  time_budget_s=900.0, seed=11)
        self.job_id = training.start_training(self.workbench, self.owner, recipe_version_id=recipe_id,
                                              settings=settings, overrides_text=None)
        deadline = time.monotonic() + 120
        while get_job(self.workbench, self.job_id).state != "running":
            if time.monotonic() > deadline:
                raise SystemExit("the training job did not start within 2 minutes")
            time.sleep(0.5)
        return self.job_id

    def stop(self) -> None:
        from workbench.jobs import request_cancel

        if self.job_id is not None:
            request_cancel(self.workbench, self.job_id)


def run_phase(target: Target, sessions: int, rounds: int, samples: int, training: Training,
              browsers: Browsers, pace: Pace, shots: Path | None = None) -> Phase:
    """Where the CPU went is measured too: the server's (when it runs here) and the browsers'
    processes from /proc, and the whole machine's busy and idle time (other work is the rest)."""
    server = target.server
    phase = Phase(sessions)
    per_pass = sessions * (1 + 2 * rounds)
    started, before = time.perf_counter(), server_cpu(server) if server else {}
    browsers_before, machine_before = browsers.cpu_seconds(), machine_cpu()
    passes = max(1, math.ceil(samples / per_pass))
    for number in range(passes):
        training.ensure_running()
        asyncio.run(_drive(target.url, target.users[:sessions], target.password, rounds, phase, pace,
                           shots if number == passes - 1 else None))
    phase.wall_s = time.perf_counter() - started
    time.sleep(0.5)  # the watcher's last sample of the browsers that just closed
    after, machine = server_cpu(server) if server else {}, machine_cpu()
    phase.cpu_s = {name: after[name] - before[name] for name in after}
    phase.cpu_s["browsers"] = browsers.cpu_seconds() - browsers_before
    phase.cpu_s["machine busy"] = machine[0] - machine_before[0]
    phase.cpu_s["machine idle"] = machine[1] - machine_before[1]
    return phase


def _wait_for_other_jobs(workbench, project_id: int, training_job: int | None, limit_s: float = 600) -> float:
    """Wait until the jobs the warm-up started (the evaluations of the demo's models) have ended, so
    that they do not run during the first phase only. Returns the seconds waited."""
    from workbench.jobs import list_jobs

    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        busy = [j for j in list_jobs(workbench, project_id=project_id)
                if j.state in ("queued", "running") and j.id != training_job]
        if not busy:
            break
        time.sleep(1)
    return time.monotonic() - started


def browsers_floor(phase: Phase, cores: int) -> float | None:
    """The least mean page time this machine allows these browsers, whatever the server does.

    Little's law for N people who each wait for a page, then spend Z seconds outside page times
    (opening the app, typing, reading): with pages that need D seconds of the browsers' CPU on C
    cores, at most C / D pages finish per second, so the mean page time is at least N x D / C - Z.
    D is this phase's browser CPU per page (the app's openings included) and Z its time outside
    pages per page; the server and the training job are counted as free, so the floor holds for
    any server. On a machine where the browsers run elsewhere it does not apply.
    """
    pages = len(phase.all_times)
    if not pages or "browsers" not in phase.cpu_s:
        return None
    return max(0.0, phase.sessions * phase.cpu_s["browsers"] / pages / cores - phase.untimed_s / pages)


def write_timeline(phases: list[Phase], path: Path) -> None:
    """Every page of every phase as a CSV row, in the order the clicks happened: which pages were
    slow, and what else was on screen at that moment."""
    import csv

    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["sessions", "clicked_s", "user", "page", "page_s", "server_s"])
        for phase in phases:
            for clicked, user, kind, seconds, served in sorted(phase.pages):
                out.writerow([phase.sessions, f"{clicked:.2f}", user, kind, f"{seconds:.3f}",
                              "" if served is None else f"{served:.3f}"])


def _line(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:>10}: no samples"
    return (f"{label:>10}: n={len(values):3d}  median {statistics.median(values):6.2f} s  "
            f"p95 {percentile(values, 95):6.2f} s  max {max(values):6.2f} s")


def _measure(target: Target, counts: list[int], args, training: Training, browsers: Browsers, pace: Pace) -> list[Phase]:
    phases = []
    for n in counts:
        phase = run_phase(target, n, args.rounds, args.samples, training, browsers, pace, args.screenshots)
        phases.append(phase)
        print(f"\nN = {n}: {len(phase.all_times)} page times in {phase.wall_s:.0f} s, {len(phase.errors)} error(s)")
        print(_line("all pages", phase.all_times))
        print("       CPU: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phase.cpu_s.items())
              + f" in {phase.wall_s:.0f} s on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        floor = browsers_floor(phase, os.cpu_count() or 1)
        if floor is not None:
            print(f"     floor: mean page >= {floor:.2f} s for any server (the browsers' {phase.cpu_s['browsers']:.0f} s "
                  f"of CPU on {os.cpu_count()} cores, Little's law; measured mean "
                  f"{statistics.fmean(phase.all_times):.2f} s)")
        for kind, values in phase.times.items():
            print(_line(kind, values))
        print(_line("server", phase.all_server_times) + "   (the server's part: request to script end)")
        for kind, values in phase.server_times.items():
            print(_line(kind, values))
        for error in phase.errors[:20]:
            print(f"  error: {error}")
    return phases


def _verdict(phases: list[Phase], pace: Pace) -> None:
    base = next((p for p in phases if p.sessions == 1), None)
    top = max(phases, key=lambda p: p.sessions)
    if base is None or top is base or not base.all_times or not top.all_times:
        return
    ratio = percentile(top.all_times, 95) / percentile(base.all_times, 95)
    errors = sum(len(p.errors) for p in phases)
    verdict = "met" if ratio <= 3 and errors == 0 else "missed"
    print(f"p95(N={top.sessions}) / p95(N=1) = {ratio:.2f} (goal <= 3, no error): {verdict}; errors: {errors}; "
          f"{pace.describe()}")
    floor = browsers_floor(top, os.cpu_count() or 1)
    if floor is not None and floor > 3 * percentile(base.all_times, 95):
        print(f"with the browsers on this machine the goal cannot be met by any server: the mean page at N={top.sessions} "
              f"cannot be below {floor:.2f} s, {floor / percentile(base.all_times, 95):.1f}x the p95 at N=1 "
              f"(drive the app from other computers with --url, or let the people read their pages: --think)")
    if base.all_server_times and top.all_server_times:
        served = percentile(top.all_server_times, 95) / percentile(base.all_server_times, 95)
        print(f"the server's part alone: p95(N={top.sessions}) / p95(N=1) = {served:.2f}")


def _report(phases: list[Phase], pace: Pace, timeline: Path | None) -> None:
    _verdict(phases, pace)
    if timeline is not None:
        write_timeline(phases, timeline)


def _remote(args, counts: list[int], pace: Pace, browsers: Browsers) -> int:
    """Drive a server that runs elsewhere (the browsers on this machine, the server on its own)."""
    users = [u.strip() for u in (args.users or "").split(",") if u.strip()]
    password = os.environ.get("WORKBENCH_LOAD_PASSWORD", "")
    if len(users) < max(counts) or not password:
        print(f"--url needs --users with at least {max(counts)} names and their password in WORKBENCH_LOAD_PASSWORD.",
              file=sys.stderr)
        return 2
    target, training = Target(args.url.rstrip("/"), users, password), Training(None, None, 0, enabled=False)
    print(f"Server {target.url} (not started here: its CPU and jobs are not measured); {pace.describe()}.")
    browsers.start()
    try:
        warm = run_phase(target, 1, 1, 1, training, browsers, Pace())
        print(f"Warm-up (not counted): {len(warm.all_times)} pages, {len(warm.errors)} error(s).")
        _report(_measure(target, counts, args, training, browsers, pace), pace, args.timeline)
    finally:
        browsers.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,5,10", help="comma-separated N (default 1,5,10)")
    parser.add_argument("--rounds", type=int, default=2, help="Data+Results visits per session (default 2)")
    parser.add_argument("--samples", type=int, default=20, help="page times per N, at least (default 20)")
    parser.add_argument("--keep", type=Path, help="keep the data folder and server log here")
    parser.add_argument("--screenshots", type=Path, help="save the first session's last Results page per N here")
    parser.add_argument("--browser-nice", type=int, default=10,
                        help="run the browsers this much below the server's CPU priority (0: same priority)")
    parser.add_argument("--think", type=float, default=20.0,
                        help="mean seconds a person reads each page before the next click (default 20)")
    parser.add_argument("--stagger", type=float, default=60.0,
                        help="spread the sign-ins of each N evenly over this many seconds (default 60)")
    parser.add_argument("--robots", action="store_true",
                        help="a stress test: no pause and all sign in at once (--think 0 --stagger 0)")
    parser.add_argument("--no-training", action="store_true", help="measure without a training job (diagnosis)")
    parser.add_argument("--timeline", type=Path, help="write every page (N, click time, person, page, page and "
                                                      "server seconds) to this CSV file")
    parser.add_argument("--url", help="drive a server already running at this address (e.g. from another computer) "
                                      "instead of starting one; needs --users")
    parser.add_argument("--users", help="with --url: comma-separated accounts (one per person, members who see the "
                                        "current project's data and results); password in WORKBENCH_LOAD_PASSWORD")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    if chromium_path() is None:
        print("No Chromium found (Debian: apt-get install chromium).", file=sys.stderr)
        return 2
    pace = Pace() if args.robots else Pace(args.think, args.stagger)
    browsers = Browsers(args.browser_nice)
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    if args.url:
        return _remote(args, counts, pace, browsers)

    root = args.keep or Path(tempfile.mkdtemp(prefix="wb-load-"))
    root.mkdir(parents=True, exist_ok=True)
    server = Server(root / "data", root / "server.log").start()
    training = None
    try:
        workbench, owner, project_id, users = _prepare(server, max(counts))
        target = Target(server.url, users, PASSWORD, server)
        training = Training(workbench, owner, project_id, enabled=not args.no_training)
        print(f"Server {server.url}; {len(users)} accounts; training job: {training.ensure_running() or 'none'}; "
              f"{pace.describe()}.")
        browsers.start()
        warm = run_phase(target, 1, 1, 1, training, browsers, Pace())  # the first Results visit computes evaluations
        settled = _wait_for_other_jobs(workbench, project_id, training.job_id)
        print(f"Warm-up (not counted): {len(warm.all_times)} pages, {len(warm.errors)} error(s); "
              f"the evaluations it started took {settled:.0f} s more.")
        phases = _measure(target, counts, args, training, browsers, pace)
        if training.job_id is not None:
            from workbench.jobs import get_job
            from workbench.jobs.status import job_status_line

            job = get_job(workbench, training.job_id)
            print(f"\nTraining job {job.id} during the last phase: {job.state}, {job_status_line(job, 'en') or '-'}")
        _report(phases, pace, args.timeline)
    finally:
        browsers.stop()
        if training is not None:
            training.stop()
            if getattr(training.workbench, "jobs", None) is not None:
                training.workbench.jobs.close()
        server.stop()
        if args.keep is None:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
