"""Scenario 1 step 6 and scenario 3 step 1 in a real browser: the owner reads the leaderboard with
CIs, records the model to report, previews a figure and downloads the paper pack; a collaborator
sees the shared leaderboard and no per-patient figure."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.e2e.conftest import (
    RESAMPLES,
    add_account,
    download,
    nav,
    password_for,
    scroll_to,
    shot,
    sign_in,
    trained_demo,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 240_000  # the first visit starts the evaluate job (RESAMPLES bootstrap resamples per curve)
OWNER = "dr_results"


def _image_loaded(page) -> None:
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".some(i => i.complete && i.naturalWidth > 0)")


def test_owner_downloads_the_paper_pack_and_a_collaborator_sees_shared_results(shared_server, browser, datasets_dir,
                                                                             tmp_path):
    from workbench.services import results

    server = shared_server  # the owner's own project and accounts on the run's shared served app
    workbench, owner, project_id = trained_demo(server, datasets_dir, owner=OWNER)

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, OWNER, password_for(OWNER))
    nav(page, "Results").click()
    page.get_by_role("heading", name="Leaderboard").wait_for()
    page.get_by_text(f"95% CIs from {RESAMPLES} stratified bootstrap resamples").wait_for()
    page.get_by_role("tab", name="Performance table", selected=True).wait_for()  # the first tab, open, chart-free
    page.get_by_role("cell", name="Logistic / linear regression", exact=True).wait_for()
    page.get_by_text("are at the cut-off chosen by Youden index").wait_for()
    page.get_by_role("rowheader", name="Sensitivity", exact=True).wait_for()
    assert page.locator(".js-plotly-plot").count() == 0
    scroll_to(page.get_by_role("rowheader", name="Sensitivity", exact=True))
    shot(page, "30-results-leaderboard")
    page.get_by_role("tab", name="ROC and precision-recall curves").click()
    page.locator(".js-plotly-plot").nth(1).wait_for()  # ROC and precision-recall
    scroll_to(page.locator(".js-plotly-plot").nth(1))
    shot(page, "30a-results-curves")
    page.get_by_role("tab", name="Subgroup performance").click()
    page.get_by_role("rowheader", name="Overall", exact=True).wait_for()  # then each level of each chosen variable
    scroll_to(page.get_by_role("rowheader", name="Overall", exact=True))
    shot(page, "30c-results-subgroups")
    page.get_by_role("tab", name="What drives the predictions").click()  # only the open tab is computed
    page.get_by_text("Permutation importance (holdout)").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the bars are drawn after the heading
    assert page.get_by_text("Model to explain").count() == 1
    shot(page, "30b-results-explanations")
    page.get_by_role("button", name="Record choice").click()  # the final model (rank 1) becomes the recorded one
    page.get_by_text("is now the model to report").wait_for()

    nav(page, "Export").click()
    page.get_by_role("heading", name="Export").wait_for()
    page.get_by_text("Exactly the exported PNG").wait_for()
    _image_loaded(page)
    shot(page, "31-export-preview")
    page.get_by_role("tab", name="Tables").click()
    page.get_by_text("The table as the file holds it").wait_for()
    scroll_to(page.get_by_text("The table as the file holds it"))
    shot(page, "31a-export-table")
    page.get_by_role("tab", name="Paper pack").click()
    file = download(page, page.get_by_role("button", name="Download the paper pack"))
    target = tmp_path / file.suggested_filename
    file.save_as(target)
    pack = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    names = set(pack.namelist())
    assert target.name.endswith("_paper_pack.zip")
    assert {"figures/roc.tiff", "figures/roc.pdf", "figures/calibration.tiff", "figures/decision_curve.pdf",
            "tables/table_one.docx", "tables/performance.docx", "methods.md", "tripod_ai_checklist.docx",
            "model_card.md", "reproduce/settings.json"} <= names
    context.close()

    # the owner shares metrics and figures; the collaborator sees them, safe and without patients
    results.set_sharing(workbench, owner, project_id=project_id, facets=["metrics", "figures", "paper_pack"])
    guest_password = add_account(server, "dr_reader", project_id=project_id, role="collaborator", by=owner)

    guest = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = guest.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, "dr_reader", guest_password)
    nav(page, "Results").click()
    page.get_by_role("heading", name="Leaderboard").wait_for()
    assert page.get_by_role("button", name="Record choice").count() == 0
    assert page.get_by_text("Share results").count() == 0
    page.get_by_role("cell", name="Logistic / linear regression", exact=True).wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    shot(page, "32-collaborator-results")
    nav(page, "Export").click()
    page.get_by_text("Shared version: no per-patient figures").wait_for()
    page.get_by_text("Exactly the exported PNG").wait_for()
    _image_loaded(page)
    shot(page, "33-collaborator-export")
    guest.close()
    workbench.engine.dispose()
