"""The benchmark scripts' own arithmetic and wiring (the scripts are run by hand, not by the suite:
what breaks in them is otherwise found only when someone measures)."""

from __future__ import annotations

import ast
import csv
import importlib
from pathlib import Path

import pytest

from benchmarks._load_wire import Wire
from benchmarks.load import Phase, browsers_floor, percentile, write_timeline

ROOT = Path(__file__).resolve().parents[1]
OURS = ("benchmarks", "tests", "workbench", "pipelines", "permissions")


def _our_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every ``from <our package> import name`` in a script, inside
    functions too (where a script keeps the imports that need a browser or a cluster)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(node.lineno, node.module, alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            and node.module.split(".")[0] in OURS for alias in node.names]


@pytest.mark.parametrize("script", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_every_name_a_benchmark_imports_from_the_project_exists(script: Path):
    missing = []
    for line, module, name in _our_imports(script):
        found = importlib.import_module(module)
        if not hasattr(found, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"{script.name}:{line}: {module}.{name}")
    assert not missing


def test_percentile_is_the_nearest_rank_an_observed_value():
    values = [float(v) for v in range(20, 0, -1)]
    assert percentile(values, 95) == 19.0  # the 19th of 20, not an interpolation
    assert percentile(values, 50) == 10.0
    assert percentile([3.5], 95) == 3.5
    assert percentile(list(range(1, 51)), 95) == 48  # with 50 pages: the third slowest


def test_the_servers_part_runs_from_the_rerun_request_to_the_last_app_message():
    wire = Wire()
    wire.frames = [(9.0, "got:delta"),  # before the click: not this page
                   (10.0, "sent:rerun_script"), (10.2, "got:new_session"), (10.5, "got:delta"),
                   (10.6, "got:heartbeat_ack"), (10.9, "got:None"), (11.25, "got:script_finished")]
    assert wire.server_time(1) == pytest.approx(1.25)
    assert wire.server_time(0) == pytest.approx(1.25)
    wire.frames.append((12.0, "got:heartbeat_ack"))  # a heartbeat is no part of the page
    assert wire.server_time(1) == pytest.approx(1.25)
    assert Wire().server_time(0) is None
    unanswered = Wire()
    unanswered.frames = [(1.0, "got:delta"), (2.0, "sent:rerun_script")]
    assert unanswered.server_time(0) is None


def test_the_browsers_floor_follows_littles_law():
    phase = Phase(10)
    phase.pages = [(float(i), "clinician01", "data", 1.0, 0.2) for i in range(40)]  # 40 pages
    phase.cpu_s["browsers"] = 80.0  # 2 s of browser CPU per page
    phase.untimed_s = 40.0  # 1 s per page outside page times
    # 10 people x 2 s per page on 2 cores = 10 s per page, minus the 1 s each spends outside pages
    assert browsers_floor(phase, cores=2) == pytest.approx(9.0)
    phase.untimed_s = 1000.0
    assert browsers_floor(phase, cores=2) == 0.0  # reading time hides the browsers' CPU
    assert browsers_floor(Phase(10), cores=2) is None


def test_each_page_is_recorded_once_for_the_times_per_page_and_the_timeline(tmp_path):
    first, second = Phase(1), Phase(5)
    first.pages = [(3.5, "clinician01", "data", 0.6, 0.2), (0.1, "clinician01", "sign-in", 1.4, None)]
    second.pages = [(2.0, "clinician03", "results", 2.25, 0.75)]
    path = tmp_path / "pages.csv"
    assert first.times == {"sign-in": [1.4], "data": [0.6], "results": []}
    assert first.server_times == {"sign-in": [], "data": [0.2], "results": []}
    assert first.all_times == [0.6, 1.4] and second.all_server_times == [0.75]
    write_timeline([first, second], path)
    rows = list(csv.reader(path.open()))
    assert rows == [["sessions", "clicked_s", "user", "page", "page_s", "server_s"],
                    ["1", "0.10", "clinician01", "sign-in", "1.400", ""],
                    ["1", "3.50", "clinician01", "data", "0.600", "0.200"],
                    ["5", "2.00", "clinician03", "results", "2.250", "0.750"]]
