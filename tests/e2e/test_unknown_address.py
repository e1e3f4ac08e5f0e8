"""An address no page has (``/nonsense``) lands on the start page with a notice in the user's
language, signed out (the sign-in form) and signed in (the projects page); Streamlit's English
"Page not found" dialog never opens. The start page's own address (``/projects``, which Streamlit
serves as "/" only) opens it without a notice. A Korean browser, so the language is the user's."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import add_account, password_for, session_cookie, shot, sign_in
from workbench.i18n import t

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DIALOG = "Page not found"
PERSON = "dr_lost"  # an account of its own on the run's shared server, so no other journey sets its language


def _no_dialog(page) -> None:
    """The dialog would come with the page's first message: give it a moment after the page is drawn."""
    time.sleep(1.0)
    assert page.get_by_text(DIALOG).count() == 0
    assert page.get_by_role("dialog").count() == 0


def test_an_unknown_address_opens_the_start_page_with_a_translated_notice(shared_server, browser):
    server = shared_server
    add_account(server, PERSON)
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(60_000)

    page.goto(server.url + "/nonsense")
    page.get_by_text(t("app.page_not_found_sign_in", "ko")).wait_for()
    page.get_by_role("button", name="로그인").wait_for()
    _no_dialog(page)
    shot(page, "unknown_address_signed_out_ko")

    sign_in(page, server.url, PERSON, password_for(PERSON), button="로그인")
    page.get_by_text(t("app.signed_in_as", "ko", name=PERSON)).wait_for()
    session_cookie(context)
    page.goto(server.url + "/nonsense")
    page.get_by_text(t("app.page_not_found", "ko")).wait_for()
    page.get_by_role("heading", name=t("app.page.projects", "ko")).first.wait_for()
    _no_dialog(page)
    shot(page, "unknown_address_signed_in_ko")

    page.goto(server.url + "/projects")
    page.get_by_role("heading", name=t("app.page.projects", "ko")).first.wait_for()
    _no_dialog(page)
    assert page.get_by_text(t("app.page_not_found", "ko")).count() == 0
    context.close()
