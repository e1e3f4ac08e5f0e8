"""Scenario 3 step 2 in a real browser: the owner has shared the heart failure model for validation; a
collaborator uploads a held-out third of the heart failure table (saved as a separate file, never
trained on) whose creatinine column is named differently, maps it, validates with "discard my data",
and reads the report beside the development results; the owner then reads the aggregate report.
Afterwards nothing of the file is left on the server."""

from __future__ import annotations

import pandas as pd
import pytest
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
from tests.e2e.test_review_journey import choose

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 180_000
OWNER = "dr_valid"


def _split(datasets_dir, tmp_path):
    """Two thirds of the patients for development (the owner's project's table); the other third is
    the collaborator's hospital file."""
    table = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    held_out = table.sample(frac=1 / 3, random_state=8)
    development = tmp_path / "heart_failure_development.csv"
    table.drop(held_out.index).to_csv(development, index=False)
    hospital = tmp_path / "our_hospital_cohort.csv"
    held_out.rename(columns={"serum_creatinine": "Serum Creatinine"}).to_csv(hospital, index=False)
    return development, hospital, len(held_out)


def test_a_collaborator_validates_the_shared_model_and_the_owner_reads_the_report(shared_server, browser,
                                                                                   datasets_dir, tmp_path):
    from workbench.db.engine import session_scope
    from workbench.db.models import AuditEvent, ExternalValidation
    from workbench.services import results

    server = shared_server  # the owner's own project and accounts on the run's shared served app
    development, hospital, n_held_out = _split(datasets_dir, tmp_path)
    workbench, owner, project_id = trained_demo(server, datasets_dir, owner=OWNER, table=development)
    guest_password = add_account(server, "dr_kestrel", project_id=project_id, role="collaborator", by=owner)

    # The owner shares the model for validation. (Made through the service that the Results page's
    # "Shared with collaborators" form calls: opening Results would start its evaluation job on the
    # server's workers, which would then compete with the validation job for the CPU.)
    results.set_sharing(workbench, owner, project_id=project_id, facets=["metrics", "validation"])

    guest = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    other = guest.new_page()
    other.set_default_timeout(TIMEOUT)
    sign_in(other, server.url, "dr_kestrel", guest_password)
    nav(other, "External validation").click()
    other.get_by_role("heading", name="External validation").wait_for()
    other.locator("input[type=file]").set_input_files(str(hospital))
    other.get_by_text("your column 'Serum Creatinine' looks like it").wait_for()
    shot(other, "60-validation-renamed-column")
    choose(other, "Use this column of my file for serum_creatinine", "Serum Creatinine")
    other.get_by_text(f"{n_held_out} patients can be used").wait_for()
    slider = other.get_by_role("slider")
    slider.focus()
    other.keyboard.press("Home")  # 200 resamples: enough for a journey
    assert other.get_by_text("Discarded (nothing of my file stays on the server)").count() == 1
    shot(other, "60b-validation-ready")
    other.get_by_role("button", name="Start the validation").click()
    other.get_by_text("Your data were discarded").filter(visible=True).first.wait_for()  # (also on the Reports tab)
    other.get_by_text("Development and external results").filter(visible=True).first.wait_for()
    other.locator(".js-plotly-plot").nth(2).wait_for()  # ROC, calibration, decision curve
    scroll_to(other.get_by_text("Development and external results").first)
    shot(other, "61-validation-report-collaborator")
    scroll_to(other.get_by_text("Decision curve").first)
    shot(other, "61b-validation-report-curves")
    guest.close()

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, OWNER, password_for(OWNER))
    nav(page, "External validation").click()
    page.get_by_role("tab", name="Reports").click()
    page.get_by_text("Counts below 5 are shown as <5.").filter(visible=True).first.wait_for()
    page.get_by_text("Validated by dr_kestrel").filter(visible=True).first.wait_for()
    page.locator(".js-plotly-plot").nth(2).wait_for()
    assert page.get_by_text("My kept rows with their predicted risks").count() == 0
    scroll_to(page.get_by_text("Development and external results").first)
    shot(page, "62-validation-report-owner")
    context.close()

    with session_scope(workbench.engine) as session:
        (record,) = session.scalars(select(ExternalValidation)).all()
        assert record.state == "succeeded" and record.data_state == "discarded"
        assert record.upload_sha256 is None and record.rows_sha256 is None and record.options["renames"] == {
            "serum_creatinine": "Serum Creatinine"}
        assert record.summary["n"] == n_held_out
        steps = [e.details.get("step") for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "model.validate_external", AuditEvent.resource_id == str(record.id)))]
        assert steps == ["start", "report", "data_discarded"]
    hospital_bytes = hospital.read_bytes()
    for path in server.data_dir.rglob("*"):
        if path.is_file():
            assert hospital_bytes[:300] not in path.read_bytes(), path
    workbench.engine.dispose()
