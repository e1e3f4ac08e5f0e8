"""Scenario 1 in a real browser: sign in (Korean first), the demo project, the data viewer, an upload."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import nav, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60_000


@pytest.fixture
def server(shared_server):
    """The run's shared served app (see conftest): the Korean sign-in page changes nothing, and the
    admin's upload adds a version to the demo project that the other journeys on it only look at."""
    return shared_server


def test_korean_browser_gets_korean_and_can_switch_to_english(server, browser):
    context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url)
    page.get_by_role("button", name="로그인").wait_for()
    shot(page, "01-sign-in-korean")
    page.get_by_text("English", exact=True).click()
    page.get_by_role("button", name="Sign in").wait_for()
    context.close()


def test_admin_signs_in_and_sees_the_demo_project_and_its_data(server, browser, datasets_dir):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, server.url)
    page.get_by_text("Heart failure mortality (demo)").filter(visible=True).first.wait_for()
    shot(page, "02-projects")

    nav(page, "Data").click()
    page.get_by_text("299 rows × 13 columns").filter(visible=True).first.wait_for()
    page.locator("[data-testid=stDataFrame]").first.wait_for()
    shot(page, "03-data-viewer")

    # upload the same table again, as a CP949 file with a Korean column name, as a hospital would export it
    import pandas as pd

    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").rename(columns={"age": "나이"})
    exported = server.data_dir.parent / "heart_cp949.csv"
    frame.to_csv(exported, index=False, encoding="cp949")
    page.get_by_role("tab", name="Upload a file").click()
    page.locator("input[type=file]").set_input_files(str(exported))
    page.get_by_text("encoding CP949 / EUC-KR: 299 rows × 13 columns").wait_for()
    shot(page, "04-upload-read")
    page.get_by_role("button", name="Create dataset version").click()
    page.get_by_text("The dataset version is being created").wait_for()

    page.get_by_test_id("stMain").get_by_role("link", name="Jobs").click()
    page.get_by_text("Reading an uploaded file").filter(visible=True).first.wait_for()
    page.get_by_text("Finished", exact=True).filter(visible=True).first.wait_for()
    shot(page, "05-jobs")
    nav(page, "Data").click()
    page.get_by_text("299 rows × 13 columns · from CSV (cp949)").wait_for()
    shot(page, "06-data-after-upload")
    context.close()
