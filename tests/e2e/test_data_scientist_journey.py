"""Scenario 2 in a real browser: a data scientist pins search ranges in the override table, pastes an
old GPU config, trains twice with seed 7 and finds the two leaderboards identical on the Results page.

The recipe edit and the owner's approval under four-eyes happen through the services here: the
review page's own journey (``test_review_journey.py``) clicks through that part.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import SCREENSHOTS, Server, nav, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60_000
DANA_PASSWORD = "a quiet tandem under seven bridges 7"
PINS = (("xgboost", "max_depth", "3", "6"), ("lightgbm", "num_leaves", "8", "64"))
OWN = "Train with these settings instead of the recommended ones"
OLD_CONFIG = "# from the old GPU server\nxgboost:\n  tree_method: gpu_hist\n"


@pytest.fixture
def server(tmp_path):
    """Fewer bootstrap resamples for the evaluation that follows each run: the journey is about the
    search, and two evaluations at the default 1000 would double its time."""
    srv = Server(tmp_path / "data", tmp_path / "server.log", env={"WORKBENCH_BOOTSTRAP_RESAMPLES": "100"}).start()
    yield srv
    srv.kill_everything()  # a throwaway folder: no graceful shutdown to wait for (see conftest)


def _tuning_setup(server) -> None:
    """The owner's recipe v1 approved, four-eyes on, the data scientist's v2 (mean imputation) approved
    by the owner, as the review journey does it in the browser."""
    from pipelines.recipe import DropColumns, Impute, suggest_recipe
    from workbench.context import open_workbench
    from workbench.db.engine import session_scope
    from workbench.services import accounts, datasets, projects, recipes
    from workbench.services._access import load_actor
    from workbench.services._frames import read_dataset_frame
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(server.data_dir), admin_password=ADMIN_PASSWORD))
    owner = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    accounts.create_user(workbench, owner, username="dana", password=DANA_PASSWORD, site_role="user")
    demo = projects.list_projects(workbench, owner)[0]
    projects.add_member(workbench, owner, project_id=demo.id, username="dana", role="data_scientist")
    version = datasets.list_versions(workbench, owner, demo.id)[0]
    recipe = suggest_recipe(read_dataset_frame(workbench, version), target="DEATH_EVENT")
    if "time" not in {c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns}:
        recipe = recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))
    v1 = recipes.save_version(workbench, owner, project_id=demo.id, dataset_version_id=version.id, recipe=recipe)
    recipes.approve(workbench, owner, recipe_version_id=v1)
    recipes.set_four_eyes(workbench, owner, demo.id, True)

    with session_scope(workbench.engine) as session:
        dana = load_actor(session, accounts.sign_in(workbench, username="dana", password=DANA_PASSWORD).user_id)
    steps = [dataclasses.replace(s, numeric="mean") if isinstance(s, Impute) else s for s in recipe.steps]
    edited = recipe.with_steps(steps) if any(isinstance(s, Impute) for s in steps) else recipe.add(Impute(numeric="mean"))
    v2 = recipes.save_version(workbench, dana, project_id=demo.id, dataset_version_id=version.id, recipe=edited,
                              parent_id=v1)
    recipes.approve(workbench, owner, recipe_version_id=v2)
    workbench.engine.dispose()


def _settle(page) -> None:
    """Wait until the app has finished the rerun a widget change started."""
    page.wait_for_timeout(500)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached")


def _row_texts(editor) -> list[list[str]]:
    """The data editor's cells as its accessible grid reads them (the grid itself is a canvas)."""
    rows = editor.locator("[role=row]")
    return [rows.nth(i).locator("[role=gridcell]").all_inner_texts() for i in range(1, rows.count())]


def _edit_cell(page, editor, col: int, row: int, text: str) -> None:
    """Type into one cell: focus it (through the grid's accessible table), Enter opens its editor.
    A rerun redrawing the grid can swallow the key, so it is tried until the editor opens."""
    cell_editor = page.locator("textarea.gdg-input")
    for _ in range(5):
        editor.get_by_test_id(f"glide-cell-{col}-{row}").focus()
        page.keyboard.press("Enter")
        try:
            cell_editor.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            _settle(page)
    cell_editor.fill(text)
    cell_editor.press("Tab")
    _settle(page)


def _add_pin(page, editor, family: str, name: str, low: str, high: str) -> None:
    """One row of the pins table, entered as a person does: click the empty last row (it adds a row
    and opens the family list), type the family, then type into each cell of the row."""
    row = len(_row_texts(editor))
    option = page.get_by_role("option", name=family, exact=True)
    for _ in range(3):  # a click that lands while the grid redraws opens nothing: click again
        box = editor.bounding_box()
        page.mouse.click(box["x"] + 120, box["y"] + box["height"] - 17)  # the "add a row" row
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            _settle(page)
    page.keyboard.type(family, delay=30)
    page.get_by_role("option").nth(1).wait_for(state="detached")  # the list shows only this family
    page.keyboard.press("Tab")  # picks it (Enter would also move down, out of the new row)
    option.wait_for(state="detached")
    _settle(page)
    for col, text in ((2, name), (3, low), (4, high)):
        _edit_cell(page, editor, col, row, text)
    for _ in range(40):
        rows = _row_texts(editor)
        if len(rows) > row and rows[row] == [family, name, low, high]:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the pins table reads {rows}, not the row typed: {family, name, low, high}")


def _finished_job(page, *, after: int = 0) -> int:
    """The number of the training the page shows once it says it finished (a newer one than ``after``)."""
    handle = page.wait_for_function(
        "(after) => { const m = document.body.innerText.match(/Training #(\\d+) · finished/);"
        " return m && Number(m[1]) > after ? Number(m[1]) : null; }", arg=after, timeout=180_000)
    return int(handle.json_value())


def _open_settings(page) -> None:
    page.get_by_text("Change settings (data scientists)").click()
    page.get_by_text(OWN, exact=True).wait_for()


def test_data_scientist_pins_ranges_translates_gpu_hist_and_reproduces_a_run(server, browser):
    _tuning_setup(server)
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, "dana", DANA_PASSWORD)
    nav(page, "Train").click()
    page.get_by_role("heading", name="Recommended settings").wait_for()
    # the owner's approval of his edit made it trainable, and it is offered first
    expect(page.get_by_label("Approved recipe")).to_have_value(re.compile(r"^Recipe version 2 "))
    _open_settings(page)

    editor = page.get_by_test_id("stDataFrame").filter(has_text="Hyperparameter")
    editor.scroll_into_view_if_needed()
    for row in PINS:
        _add_pin(page, editor, *row)
    box = page.get_by_label("Overrides as YAML or JSON")
    box.fill(OLD_CONFIG)
    box.press("Control+Enter")
    page.get_by_text("it was read as device: cuda with tree_method: hist").wait_for()
    page.get_by_text("xgboost: the overrides ask for the GPU, but no usable GPU was found").wait_for()
    # read and checked, but not used until he switches to his own settings
    unused = page.get_by_text("These overrides are not used yet")
    unused.wait_for()

    # his search: the two boosted families, 6 trials in all, no time budget (the same budget gives
    # the same leaderboard only when it is counted in trials), seed 7
    page.get_by_text(OWN, exact=True).click()
    unused.wait_for(state="detached")
    families = page.get_by_test_id("stMultiSelect").filter(has_text="Model families")
    for name in ("Logistic / linear regression", "Random forest / extra trees", "Histogram gradient boosting"):
        chip = families.get_by_role("button", name=f"Remove {name}")
        for _ in range(3):  # a click during the previous rerun can be lost
            chip.click()
            _settle(page)
            if chip.count() == 0:
                break
    removable = families.locator("[data-tag]").evaluate_all("tags => tags.map(t => t.getAttribute('aria-label'))")
    assert removable == ["XGBoost", "LightGBM"], removable
    for label, value in (("Number of trials", "6"), ("Time budget in seconds", "0"), ("Seed", "7")):
        field = page.get_by_role("spinbutton", name=label)
        field.fill(value)
        field.press("Enter")
        _settle(page)

    shot(page, "ds-01-overrides")

    page.get_by_role("button", name="Start training with my settings").click()
    first = _finished_job(page)
    page.get_by_text("Rank 1 is").first.wait_for()
    shot(page, "ds-02-first-run")

    # the same settings again: the form kept them
    _open_settings(page)
    page.get_by_role("button", name="Start training with my settings").click()
    assert _finished_job(page, after=first) > first
    page.get_by_text("Rank 1 is").first.wait_for()

    nav(page, "Results").click()
    page.get_by_role("tab", name="Runs side by side").click()  # Results' tabs run only when opened
    page.get_by_role("tab", name="Runs side by side", selected=True).wait_for()
    compare = page.get_by_test_id("stDataFrame").last
    compare.scroll_into_view_if_needed()
    compare.wait_for()
    shot(page, "ds-03-results")
    compare.screenshot(path=str(SCREENSHOTS / "ds-04-runs-side-by-side.png"))
    assert page.get_by_text("Settings that differ").count() == 0
    side_by_side = [r for r in _row_texts(compare) if len(r) >= 2]  # (setting or score,) run A, run B
    assert len(side_by_side) >= 5 and all(r[-1] == r[-2] for r in side_by_side), side_by_side
    context.close()

    _check_stored_runs(server)


def _check_stored_runs(server) -> None:
    """The two runs the page compared: the same leaderboard, and every trial inside the pins."""
    from sqlalchemy import create_engine, select

    from workbench.db.models import Run

    engine = create_engine(f"sqlite:///{server.data_dir / 'workbench.db'}")
    with engine.connect() as connection:
        runs = [row.summary for row in connection.execute(select(Run).order_by(Run.id))]
    engine.dispose()
    assert len(runs) == 2
    first, second = ([(r["name"], r["params"], r["cv_mean"], r["test_score"]) for r in s["leaderboard"]] for s in runs)
    assert first == second and {name for name, *_ in first} >= {"xgboost", "lightgbm"}
    for summary in runs:
        trials = summary["trials"]
        depths = [t["params"]["max_depth"] for t in trials if t["family"] == "xgboost"]
        leaves = [t["params"]["num_leaves"] for t in trials if t["family"] == "lightgbm"]
        assert depths and all(3 <= d <= 6 for d in depths), depths
        assert leaves and all(8 <= n <= 64 for n in leaves), leaves
        assert {t["device"] for t in trials} == {"cpu"}
