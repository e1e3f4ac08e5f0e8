"""Scenario 1 step 6 in a real browser, the per-patient figures: the owner exports a SHAP
dependence plot (feature chosen, coloured by the strongest interaction) and the waterfall of one
holdout patient chosen by number, and downloads it as PDF. The screenshots show the exported PNGs.

Nothing is evaluated when the browser opens the page: the Export page starts the ``evaluate`` job on
the server's Dask workers, shows its progress, and draws the preview once the numbers are stored
(the served app bootstraps RESAMPLES resamples, so the job is short). The owner works in her own
project on the run's shared served app."""

from __future__ import annotations

import dataclasses
import io

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import (
    RESAMPLES,
    download,
    nav,
    password_for,
    pick_option,
    shot,
    sign_in,
    trained_demo,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 120_000
OWNER = "dr_export"


def _choose(page, label: str, option: str) -> None:
    pick_option(page, page.get_by_label(label, exact=True), option)


def _image(page) -> str:
    return page.get_by_test_id("stImage").locator("img").first.get_attribute("src") or ""


def _new_preview(page, before: str) -> str:
    """Wait until the preview is another, fully loaded image (Streamlit keeps the old one, faded,
    while the page reruns)."""
    page.wait_for_function("""(before) => {
        const img = document.querySelector('[data-testid=stImage] img');
        return img && img.src !== before && img.complete && img.naturalWidth > 0
            && !document.querySelector('[data-stale=true] [data-testid=stImage]');
    }""", arg=before)
    return _image(page)


def test_owner_exports_a_dependence_plot_and_one_patients_waterfall(shared_server, browser, datasets_dir, tmp_path):
    from workbench.services import results, training

    workbench, owner, project_id = trained_demo(shared_server, datasets_dir, owner=OWNER)
    run_id = training.list_runs(workbench, owner, project_id)[-1].id
    view = results.run_results(workbench, owner, run_id)
    xgb = next(r.model_id for r in view.rows if r.family == "xgboost")
    results.choose_model(workbench, owner, run_id, xgb)
    options = dataclasses.replace(results.run_default_options(workbench, view.summary), n_resamples=RESAMPLES)
    assert results.stored_evaluations(workbench, owner, run_id=run_id, options=options) == {}

    context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, shared_server.url, OWNER, password_for(OWNER))
    nav(page, "Export").click()
    page.get_by_role("heading", name="Export").wait_for()
    page.get_by_text("Computing the numbers these exports need").wait_for()  # the job, not this request
    shot(page, "33-export-evaluating")
    shown = _new_preview(page, "")
    assert results.stored_evaluations(workbench, owner, run_id=run_id, options=options, model_ids=[xgb])
    _choose(page, "Figure", "SHAP dependence (per patient)")
    page.get_by_label("Colour by", exact=True).wait_for()
    shown = _new_preview(page, shown)
    _choose(page, "Feature", "ejection_fraction")
    shown = _new_preview(page, shown)
    shot(page, "34-export-shap-dependence")

    _choose(page, "Figure", "Single-patient waterfall")
    patient = page.get_by_label("Patient (1 to 60 in the held-out test set)", exact=True).and_(page.get_by_role("spinbutton"))
    shown = _new_preview(page, shown)
    patient.fill("5")
    patient.press("Enter")
    _new_preview(page, shown)
    shot(page, "35-export-waterfall")
    file = download(page, page.get_by_role("button", name="Download PDF"))
    assert file.suggested_filename == f"run{run_id}_waterfall_patient5_single_300dpi_en.pdf"
    target = tmp_path / file.suggested_filename
    file.save_as(target)
    text = PdfReader(io.BytesIO(target.read_bytes())).pages[0].extract_text()
    assert "Patient 5 of 60 in the held-out test set" in text and "predicted risk" in text
    context.close()
    workbench.engine.dispose()
