"""The Data page's viewer in a real browser: each tab's panel appears when its tab is clicked (only
the open tab runs on the server)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import nav, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_viewer_tabs_show_their_panels_when_opened(shared_server, browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in(page, shared_server.url)
    nav(page, "Data").click()
    page.locator("[data-testid=stDataFrame]").first.wait_for()
    assert page.locator("[data-testid=stPlotlyChart]").count() == 0  # the panels were not computed

    page.get_by_role("tab", name="Whole table").click()
    page.get_by_role("heading", name="Correlations between numeric columns").wait_for()
    page.locator("[data-testid=stPlotlyChart]").nth(1).wait_for()
    shot(page, "data-viewer-whole-table")

    page.get_by_role("tab", name="Columns").click()
    page.get_by_text("Distinct values").wait_for()
    page.locator("[data-testid=stPlotlyChart]").first.wait_for()
    shot(page, "data-viewer-columns")

    page.get_by_role("tab", name="Rows").click()
    page.locator("[data-testid=stDataFrame]").first.wait_for()
    context.close()
