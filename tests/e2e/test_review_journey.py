"""Scenario 1 step 4 and scenario 2 step 1 in a real browser: build a recipe with clicks, review, approve;
a data scientist's edit becomes a new version that the owner approves under four-eyes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    add_account,
    password_for,
    pick_option,
    project_of,
    shot,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60_000
OWNER = "dr_review"
DATA_SCIENTIST = "dan_review"


def nav(page, name: str):
    return page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox or multiselect by its label."""
    pick_option(page, page.get_by_label(label, exact=True), option, typed=option)  # long lists are virtualised
    page.keyboard.press("Escape")  # a multiselect stays open over the buttons below it


def tab(page, name: str):
    page.get_by_text(name, exact=True).click()


def test_physician_builds_reviews_and_approves_then_an_edit_needs_the_owner(shared_server, browser, datasets_dir):
    server = shared_server  # the owner's own project and accounts on the run's shared served app
    workbench, owner, project_id, _ = project_of(server, datasets_dir, OWNER)
    workbench.engine.dispose()
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, OWNER, password_for(OWNER))
    page.get_by_text(f"Heart failure mortality ({OWNER})").filter(visible=True).first.wait_for()  # not the grid's hidden cell
    nav(page, "Review").click()
    page.get_by_role("heading", name="Review the preprocessing").wait_for()

    # scenario 1, step 4: DEATH_EVENT as the outcome; the review warns about `time`
    choose(page, "What should the model predict?", "DEATH_EVENT")
    page.get_by_role("button", name="Use this outcome").click()
    page.get_by_text("Outcome: 'DEATH_EVENT' as it is").wait_for()
    tab(page, "2 · Review and approve")
    page.get_by_text("'time' alone predicts the outcome far better (AUROC 0.836)").wait_for()
    page.get_by_text("The name 'time' reads as follow-up time").wait_for()
    shot(page, "review-01-time-warning")

    # she drops it with the "Drop columns" form
    tab(page, "1 · Build the recipe")
    choose(page, "Kind of step", "Drop columns")
    choose(page, "Columns to drop", "time")
    page.get_by_role("button", name="Add the step").click()
    page.get_by_text("Drop the column time").wait_for()
    choose(page, "Kind of step", "Missing values (imputation)")
    page.get_by_text("Fill numbers with").wait_for()  # the imputation form replaced the previous one
    page.get_by_role("button", name="Add the step").click()
    page.get_by_text("numbers by the median").wait_for()
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("Saved as recipe v1").wait_for()
    shot(page, "review-02-recipe-saved")

    tab(page, "2 · Review and approve")
    page.get_by_text("299 in, 299 analysed").wait_for()
    assert page.get_by_text("'time' alone predicts").count() == 0
    page.get_by_text("Only 96 events for 11 candidate predictors").wait_for()
    approve = page.get_by_role("button", name="Approve this version")
    assert approve.is_disabled()
    page.get_by_text("I have looked at this and accept it").click()
    page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                           "b => b.innerText.includes('Approve this version') && !b.disabled)")
    approve.click()
    page.get_by_text(f"Approved by {OWNER}").wait_for()
    page.get_by_role("button", name="Approve this version").wait_for(state="detached")
    shot(page, "review-03-approved")

    # the owner switches four-eyes on
    page.get_by_text("Four-eyes approval").click()
    page.wait_for_timeout(1500)
    context.close()

    # scenario 2, step 1: the data scientist changes the imputation -> v2, which he cannot approve
    password = add_account(server, DATA_SCIENTIST, project_id=project_id, role="data_scientist", by=owner)
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, DATA_SCIENTIST, password)
    nav(page, "Review").click()
    page.get_by_text("Four-eyes approval is on").wait_for()
    page.get_by_text("Drop the column time").wait_for()
    choose(page, "Kind of step", "Missing values (imputation)")
    choose(page, "Fill numbers with", "iterative imputation")
    page.get_by_role("button", name="Add the step").click()
    page.get_by_text("numbers by iterative imputation").wait_for()
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("Saved as recipe v2").wait_for()
    tab(page, "2 · Review and approve")
    page.get_by_text("Your role cannot approve recipes").wait_for()
    tab(page, "3 · Versions and changes")
    page.get_by_text("Changed (numeric): Fill missing values in all columns: numbers by the median").wait_for()
    page.get_by_text("→ Fill missing values in all columns: numbers by iterative imputation").wait_for()
    shot(page, "review-04-data-scientist-v2")
    context.close()

    # the owner approves v2 (four-eyes: someone other than its author)
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url, OWNER, password_for(OWNER))
    nav(page, "Review").click()
    page.get_by_text("numbers by iterative imputation").wait_for()
    tab(page, "2 · Review and approve")
    page.get_by_text("I have looked at this and accept it").click()
    page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                           "b => b.innerText.includes('Approve this version') && !b.disabled)")
    page.get_by_role("button", name="Approve this version").click()
    page.get_by_text(f"Approved by {OWNER}").wait_for()
    shot(page, "review-05-owner-approves-v2")

    # the header's pickers in Korean on a 1024 px laptop: whole labels (the file name and size, the saved
    # version and time), nothing cut off inside a picker
    page.get_by_text("한국어").click()
    page.get_by_role("heading", name="전처리 검토").wait_for()
    # (a keyed selectbox keeps showing its English label after the switch until it is drawn anew: Streamlit
    # does not redraw a changed format_func label, streamlit/streamlit#13788; the page is opened again)
    nav(page, "데이터").click()
    page.get_by_role("heading", name="데이터").wait_for()
    nav(page, "검토").click()
    page.get_by_role("heading", name="전처리 검토").wait_for()
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(1000)
    for label, shown in (("데이터셋 버전", "299행 × 13열"), ("레시피", "레시피 v2 · ")):
        picker = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).first
        expect(picker.locator("input").first).to_have_value(re.compile(re.escape(shown)))  # (once redrawn in Korean)
        cut = picker.evaluate("p => [...p.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1)"
                              ".map(e => e.value || e.textContent)")
        assert cut == [], (label, cut)
    shot(page, "review-06-korean-1024")
    context.close()
