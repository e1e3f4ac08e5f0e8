"""Scenario 4 in a real browser: the hospital's IT reviewer finds no default password, reads the audit
log (sign-ins, an upload, an approval, a training start, a refusal), filters it, downloads it as a
formula-safe CSV, cannot change it from the page or from SQL, and sees no patient data of a project
he is not a member of."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from tests.e2e.conftest import Server, download, nav, pick_option, session_cookie, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60_000
PRINTED = re.compile(r"Admin password \(shown only this once, store it now\):\s+(\S+)")
KIM_PASSWORD = "seven herons fold the evening map"
GUEST_PASSWORD = "quiet tandem rides east 77"
# What a spreadsheet would run as a formula, typed where anyone can type: a user name at the sign-in
# form (no account needed) and a project name.
HOSTILE_USER = '=HYPERLINK("http://evil.example","open")'
HOSTILE_PROJECT = "=1+1 Heart failure (Dr Kim)"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def server(tmp_path):
    """A hospital's installation: no demo project, and no admin password chosen beforehand, so the
    first start prints one."""
    srv = Server(tmp_path / "data", tmp_path / "server.log",
                 env={"WORKBENCH_ADMIN_PASSWORD": "", "WORKBENCH_DEMO_PROJECT": "false"}).start()
    yield srv
    srv.kill_everything()  # a throwaway folder: no graceful shutdown to wait for (see conftest)


def _printed_password(server) -> str:
    found = PRINTED.findall(server.output())
    assert len(found) == 1, "the first start prints the admin password exactly once"
    return found[0]


def _a_day_at_the_hospital(server, admin_password: str, datasets_dir) -> None:
    """Dr Kim's project: an upload, an approved recipe and a short training; a collaborator invited.
    (The physician's and data scientist's journeys click through these pages themselves.)"""
    from pipelines.automl import SearchSettings
    from pipelines.recipe import DropColumns, suggest_recipe
    from tests.workbench.test_results_service import InlineQueue
    from workbench.context import open_workbench
    from workbench.db.engine import session_scope
    from workbench.services import accounts, datasets, projects, recipes, training
    from workbench.services._access import load_actor
    from workbench.services._frames import read_dataset_frame
    from workbench.services.datasets import UploadChoices
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(server.data_dir)))
    workbench.jobs = InlineQueue(workbench.settings)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=admin_password).token)
    accounts.create_user(workbench, admin, username="dr_kim", password=KIM_PASSWORD)
    accounts.create_user(workbench, admin, username="guest", password=GUEST_PASSWORD)

    def kim():
        with session_scope(workbench.engine) as session:
            return load_actor(session, accounts.sign_in(workbench, username="dr_kim", password=KIM_PASSWORD).user_id)

    project_id = projects.create_project(workbench, kim(), name=HOSTILE_PROJECT)
    owner = kim()
    path = datasets_dir / "heart_failure_clinical_records.csv"
    digest = datasets.stage_upload(workbench, owner, project_id=project_id, data=path.read_bytes(), filename=path.name)
    version_id = datasets.create_version(workbench, owner, project_id=project_id, raw_digest=digest,
                                         filename=path.name, choices=UploadChoices())
    version = datasets.get_version(workbench, owner, version_id)
    recipe = suggest_recipe(read_dataset_frame(workbench, version), target="DEATH_EVENT")
    if "time" not in {c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns}:
        recipe = recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))
    recipe_id = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=version_id,
                                     recipe=recipe)
    recipes.approve(workbench, owner, recipe_version_id=recipe_id)
    training.start_training(workbench, owner, recipe_version_id=recipe_id, overrides_text=None,
                            settings=SearchSettings(families=("linear",), n_trials=2, time_budget_s=None, seed=1))
    projects.add_member(workbench, owner, project_id=project_id, username="guest", role="collaborator")
    workbench.engine.dispose()


def _grid_rows(page) -> list[list[str]]:
    """The audit table's rows as its accessible grid reads them (the grid itself is a canvas)."""
    grid = page.get_by_test_id("stDataFrame").first
    rows = grid.locator("[role=row]")
    texts = [rows.nth(i).locator("[role=gridcell]").all_inner_texts() for i in range(rows.count())]
    return [row for row in texts if len(row) == 8]  # UTC, who, action, outcome, resource, project, reason, code


def _filter(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    page.wait_for_timeout(500)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached")


def _pick_actions(page, *names: str) -> None:
    """Picks actions by name in the Action picker, after clearing it (no names: every action)."""
    picker = page.get_by_test_id("stMultiSelect").first
    if picker.get_by_role("button", name="Clear all").count():
        picker.get_by_role("button", name="Clear all").click()
    for name in names:
        pick_option(page, picker.get_by_role("combobox"), name, typed=name)
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached")


def _wait_rows(page, predicate, what: str) -> list[list[str]]:
    for _ in range(40):
        rows = _grid_rows(page)
        if rows and predicate(rows):
            return rows
        page.wait_for_timeout(250)
    raise AssertionError(f"the audit table never showed {what}: {rows}")


def test_it_reviewer_reads_filters_and_downloads_an_audit_log_he_cannot_change(server, browser, datasets_dir, tmp_path):
    password = _printed_password(server)
    _a_day_at_the_hospital(server, password, datasets_dir)

    # a stranger types a formula as the user name; the collaborator opens the data page by its address
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, HOSTILE_USER, "whatever it takes 1")
    page.get_by_text("User name or password is wrong").wait_for()
    sign_in(page, server.url, "guest", GUEST_PASSWORD)
    page.get_by_text(HOSTILE_PROJECT).filter(visible=True).first.wait_for()
    session_cookie(context)
    page.goto(server.url + "/data")
    page.get_by_text("Your role (collaborator) does not allow this").wait_for()
    shot(page, "admin-01-collaborator-refused")
    context.close()

    # the IT reviewer: no default password, then the one the first start printed
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, "admin", "admin")
    page.get_by_text("User name or password is wrong").wait_for()
    sign_in(page, server.url, "admin", password)
    nav(page, "Audit log").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    links = [text.strip().splitlines()[-1] for text in sidebar.get_by_role("link").all_inner_texts()]
    assert links == ["Projects", "Accounts", "Audit log", "My account"], links
    assert sidebar.get_by_text(HOSTILE_PROJECT).count() == 0  # not a member: not even listed
    session_cookie(context)
    page.goto(server.url + "/data")  # the site role does not open a project's data by its address
    page.get_by_text("You are not a member of any project yet").wait_for()
    assert page.get_by_text("ejection_fraction").count() == 0 and page.get_by_text(HOSTILE_PROJECT).count() == 0
    shot(page, "admin-02-no-project-data")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")

    nav(page, "Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    _pick_actions(page, "Sign in")  # by name; each row keeps its code for IT
    rows = _wait_rows(page, lambda rows: any(HOSTILE_USER in r for r in rows)  # (unfiltered, it is there too)
                      and all(r[7] == "auth.sign_in" for r in rows), "the hostile sign-in, filtered")
    assert all(r[2] == "Sign in" and r[7] == "auth.sign_in" for r in rows), rows
    signed = {(r[1], r[3]) for r in rows}
    assert {("admin", "denied"), ("admin", "succeeded"), ("guest", "succeeded"), (HOSTILE_USER, "denied")} <= signed
    shot(page, "admin-03-sign-ins")

    _pick_actions(page)
    _filter(page, "Who", "dr_kim")
    # the filtered rows only (the whole log also holds these actions: a loaded machine shows it a while)
    rows = _wait_rows(page, lambda rows: {r[1] for r in rows} == {"dr_kim"}
                      and {"training.start", "recipe.approve", "dataset.upload"} <= {r[7] for r in rows},
                      "only dr_kim's events, with his upload, approval and training start")
    _filter(page, "Who", "guest")
    rows = _wait_rows(page, lambda rows: {r[1] for r in rows} == {"guest"} and any(r[3] == "denied" for r in rows),
                      "only the collaborator's events, with the refusal")
    assert ["guest", "View patient rows", "denied", "dataset.view_rows"] in [r[1:4] + r[7:] for r in rows]
    shot(page, "admin-04-refusal")

    # nothing on the page changes an event: no edit or delete control, no editable cell
    _filter(page, "Who", "")
    assert page.get_by_role("button", name=re.compile("delete|remove|edit", re.IGNORECASE)).count() == 0
    grid = page.get_by_test_id("stDataFrame").first
    grid.hover()
    assert grid.get_by_role("button", name="Add row").count() == 0
    assert grid.get_by_role("button", name="Download as CSV").count() == 0  # only the audited, formula-safe one
    assert set(grid.locator("[role=gridcell]").evaluate_all("cells => cells.map(c => c.getAttribute('aria-readonly'))")) \
        == {"true"}
    # the whole log again (the table redraws after the rerun on a loaded machine: wait for every user's rows)
    before = _wait_rows(page, lambda rows: {"dr_kim", "guest"} <= {r[1] for r in rows}, "every user's events")
    box = grid.bounding_box()
    page.mouse.dblclick(box["x"] + 200, box["y"] + 52)  # opens the cell to read it whole, not to change it
    page.locator("textarea.gdg-input").wait_for()
    page.keyboard.type("nobody")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    assert _grid_rows(page) == before

    page.get_by_role("button", name="Prepare CSV download").click()
    saved = tmp_path / "audit-log.csv"
    download(page, page.get_by_role("button", name="Download audit log (CSV)")).save_as(saved)
    cells = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    header, body = cells[0], cells[1:]
    assert not [c for row in body for c in row if c.startswith(FORMULA_STARTS)]
    actors = [row[header.index("actor")] for row in body]
    assert "'" + HOSTILE_USER in actors and HOSTILE_USER not in actors
    details = [row[header.index("details")] for row in body if row[header.index("action")] == "project.create"]
    assert details == ['{"name": "' + HOSTILE_PROJECT + '"}']  # inside the JSON cell: not a formula
    context.close()

    _sql_cannot_change_the_log(server)

    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, "admin", password)
    nav(page, "Audit log").click()
    _pick_actions(page, "Download the audit log")
    _wait_rows(page, lambda rows: [r[1:4] + r[7:] for r in rows] == [["admin", "Download the audit log", "succeeded",
                                                                      "audit.download"]], "the download, once")
    _pick_actions(page)
    _wait_rows(page, lambda rows: any(HOSTILE_USER in r for r in rows) or len(rows) >= 20, "the log after the SQL tries")
    shot(page, "admin-05-log-intact")
    page.get_by_text("한국어").click()  # the reviewer's own language: outcomes and actions are words, not codes
    page.get_by_role("heading", name="감사 로그").wait_for()
    _pick_actions(page, "로그인", "환자 행 보기")
    rows = _wait_rows(page, lambda rows: any("거부" in r for r in rows) and {r[7] for r in rows} <= {
        "auth.sign_in", "dataset.view_rows"}, "Korean sign-ins and refusals")
    assert {(r[2], r[7]) for r in rows} == {("로그인", "auth.sign_in"), ("환자 행 보기", "dataset.view_rows")}, rows
    page.set_viewport_size({"width": 1024, "height": 768})  # (the grid then reads out only the columns in view)
    page.wait_for_timeout(1000)
    shot(page, "admin-06-korean")
    context.close()


def _sql_cannot_change_the_log(server) -> None:
    """The same database the server writes: DELETE and UPDATE on audit_events are refused by the
    triggers, and every row is still there."""
    engine = create_engine(f"sqlite:///{server.data_dir / 'workbench.db'}")
    with engine.connect() as connection:
        before = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    for statement in ("DELETE FROM audit_events WHERE action = 'auth.sign_in'",
                      "UPDATE audit_events SET actor_name = 'nobody' WHERE actor_name = 'guest'"):
        with engine.connect() as connection, pytest.raises(DatabaseError, match="append-only"):
            connection.execute(text(statement))
            connection.commit()
    with engine.connect() as connection:
        after = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        guests = connection.execute(text("SELECT count(*) FROM audit_events WHERE actor_name = 'guest'")).scalar_one()
    engine.dispose()
    assert after == before and guests > 0
