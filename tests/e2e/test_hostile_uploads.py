"""Scenario 4, step 3: hostile files through the real upload page get a clear message; the server stays up."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import shot, sign_in
from workbench.i18n import t

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
FILES = ("zip_bomb.xlsx", "nul_bytes.csv", "renamed_elf_binary.csv", "billion_laughs.xlsx")


def test_hostile_files_get_a_message_and_the_server_stays_up(server, browser):
    expected = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in(page, server.url)
    page.get_by_text("Heart failure mortality (demo)").filter(visible=True).first.wait_for()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Data", exact=True).click()
    page.get_by_role("tab", name="Upload a file").click()
    for name in FILES:
        key = expected[name]["error"]
        first_words = t(key, "en").split("{")[0].strip()[:40]
        page.locator("input[type=file]").set_input_files(str(HOSTILE / name))
        alert = page.get_by_test_id("stAlertContentError").filter(has_text=first_words)
        alert.wait_for()
        shot(page, f"12-hostile-{Path(name).stem}")
    # nothing of the rejected files was kept: the store holds the demo's upload and its Parquet only
    objects = list((server.data_dir / "artifacts" / "objects").glob("*/*"))
    assert len(objects) == 2, objects
    with urllib.request.urlopen(server.url + "/_stcore/health", timeout=5) as response:
        assert response.status == 200
    # the earlier data are intact: still exactly the demo's version
    page.get_by_role("tab", name="Dataset versions").click()
    page.get_by_text("299 rows × 13 columns").filter(visible=True).first.wait_for()
    assert server.process.poll() is None
    context.close()
