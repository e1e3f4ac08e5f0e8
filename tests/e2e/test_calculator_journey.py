"""Risk calculator and comments in a real browser: the owner types one patient into the calculator
(an out-of-range value is flagged; risk, calibration and factors shown), then discusses the run
with a collaborator on the results page (scenario 3 step 3): both comments appear as plain text
and the audit log holds both, without the typed patient values."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import (
    add_account,
    nav,
    password_for,
    scroll_to,
    shot,
    sign_in,
    trained_demo,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 240_000  # the results page starts the evaluate job on the first visit
OWNER = "dr_calc"


def _fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)


def test_owner_uses_the_calculator_and_discusses_the_run_with_a_collaborator(shared_server, browser, datasets_dir):
    from workbench.db.engine import session_scope
    from workbench.db.models import AuditEvent, Comment
    from workbench.services import results

    server = shared_server  # the owner's own project and accounts on the run's shared served app
    workbench, owner, project_id = trained_demo(server, datasets_dir, owner=OWNER)
    run_id = results.project_runs(workbench, owner, project_id)[0].run_id
    view = results.run_results(workbench, owner, run_id)
    xgb = next(r for r in view.rows if r.family == "xgboost")
    results.choose_model(workbench, owner, run_id, xgb.model_id)  # an explainable model: factors are shown

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, OWNER, password_for(OWNER))
    nav(page, "Risk calculator").click()
    page.get_by_role("heading", name="Risk calculator").wait_for()
    page.get_by_text("Model: xgboost").wait_for()
    for label, value in [("age (years)", "75"), ("ejection_fraction (%)", "20"), ("serum_creatinine (mg/dL)", "3.5"),
                         ("serum_sodium (mmol/L)", "101"), ("creatinine_phosphokinase (U/L)", "582"),
                         ("platelets", "265000")]:
        _fill(page, label, value)
    shot(page, "50-calculator-form")
    page.get_by_role("button", name="Calculate risk").click()
    page.get_by_text("Risk of DEATH_EVENT").wait_for()
    page.get_by_text("serum_sodium = 101 is outside the range of the training patients").wait_for()
    page.get_by_text("holdout patients whose predicted risk was about").wait_for()
    page.get_by_role("heading", name="What raised or lowered the risk").wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for()  # calibration curve with the patient, and the factors
    assert page.locator(".js-plotly-plot").count() == 2
    risk_text = page.get_by_test_id("stMetricValue").first.inner_text()
    assert risk_text.endswith("%") and 0 < float(risk_text.rstrip("%")) <= 100
    scroll_to(page.get_by_role("heading", name="Predicted risk"))
    shot(page, "51-calculator-result")
    scroll_to(page.get_by_role("heading", name="What raised or lowered the risk"))
    shot(page, "51b-calculator-factors")

    # scenario 3 step 3: a comment from each side, shown as plain text, both audited
    results.set_sharing(workbench, owner, project_id=project_id, facets=["metrics", "figures"])
    guest_password = add_account(server, "dr_heron", project_id=project_id, role="collaborator", by=owner)
    nav(page, "Results").click()
    page.get_by_role("heading", name="Comments").wait_for()
    page.get_by_label("Add a comment").fill("Calibration looks good <b>below 30%</b>.")
    page.get_by_role("button", name="Post").click()
    page.get_by_text("Calibration looks good <b>below 30%</b>.").wait_for()  # the markup shown literally

    guest = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    other = guest.new_page()
    other.set_default_timeout(TIMEOUT)
    sign_in(other, server.url, "dr_heron", guest_password)
    assert nav(other, "Risk calculator").count() == 0  # collaborators hold no model.predict
    nav(other, "Results").click()
    other.get_by_text("Calibration looks good <b>below 30%</b>.").wait_for()
    other.get_by_label("Add a comment").fill("On our 120 patients the slope was 0.85.")
    other.get_by_role("button", name="Post").click()
    other.get_by_text("On our 120 patients the slope was 0.85.").wait_for()
    assert other.get_by_role("button", name="Hide").count() == 0
    scroll_to(other.get_by_role("heading", name="Comments"))
    shot(other, "52-collaborator-comments")
    guest.close()

    nav(page, "Risk calculator").click()
    page.get_by_role("button", name="Calculate risk").wait_for()
    nav(page, "Results").click()
    page.get_by_text("On our 120 patients the slope was 0.85.").wait_for()
    scroll_to(page.get_by_text("dr_heron ·").first)
    shot(page, "53-owner-sees-comments")
    # the owner hides the collaborator's comment: still shown to her, marked, and kept in the database
    page.get_by_role("button", name="Hide").nth(1).click()
    page.get_by_text(f"hidden by {OWNER}").wait_for()
    # retried: an evaluate job finishing meanwhile reruns the page, and its old buttons linger a moment
    expect(page.get_by_role("button", name="Hide")).to_have_count(1)
    context.close()

    with session_scope(workbench.engine) as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.project_id == project_id)))
        written = [e for e in events if e.action == "comments.write"]
        assert sorted(e.actor_name for e in written) == ["dr_calc", "dr_heron"]
        hidden = [e for e in events if e.action == "comments.moderate"]
        assert len(hidden) == 1 and hidden[0].details["author_id"] != owner.user_id
        kept = session.scalars(select(Comment).where(Comment.hidden.is_(True))).all()
        assert [c.body for c in kept] == ["On our 120 patients the slope was 0.85."]
        predicted = [e for e in events if e.action == "model.predict" and e.outcome == "succeeded"]
        assert len(predicted) == 1 and "101" not in json.dumps(predicted[0].details)
    workbench.engine.dispose()
