"""A forgotten password, in a real browser: the site admin resets it on Accounts, the person signs in
with the temporary password, is held on My account's change form (a bookmarked page opens the form
too) until they choose their own password, then reaches Projects."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import add_account, nav, pick_option, session_cookie, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60_000
USER = "dr_forgot"  # this file's own account on the shared server
TEMPORARY = "lantern harbour quiet 4182"
CHOSEN = "my own slow river of thoughts 29"


def test_admin_resets_a_password_and_the_person_must_change_it(shared_server, browser):
    add_account(shared_server, USER)  # its password is forgotten from here on
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)

    sign_in(page, shared_server.url)
    nav(page, "Accounts").click()
    form = page.get_by_test_id("stForm").filter(has=page.get_by_label("Temporary password again"))
    pick_option(page, form.get_by_label("User name"), USER, typed=USER)
    form.get_by_label("Temporary password", exact=True).fill(TEMPORARY)
    form.get_by_label("Temporary password again").fill(TEMPORARY)
    form.get_by_role("button", name="Reset password").click()
    page.get_by_text(f"The password of {USER} was reset.").wait_for()
    shot(page, "password_reset_admin")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()

    sign_in(page, shared_server.url, USER, TEMPORARY)
    page.get_by_text("A site administrator reset your password.").wait_for()
    assert nav(page, "Projects").count() == 0  # nothing else is offered
    session_cookie(context)  # set in the background after the sign-in: an address opened sooner is signed out
    page.goto(shared_server.url + "/data")  # nor opens by its address
    page.get_by_text("A site administrator reset your password.").wait_for()
    page.get_by_role("heading", name="My account").wait_for()
    page.get_by_label("New password again").wait_for()
    page.get_by_role("button", name="Sign out").wait_for()
    shot(page, "password_reset_must_change")

    page.get_by_label("Temporary password").fill(TEMPORARY)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill(CHOSEN)
    page.get_by_role("button", name="Change password").click()
    nav(page, "Projects").click()
    page.get_by_role("heading", name="Projects").first.wait_for()
    assert page.get_by_text("A site administrator reset your password.").count() == 0
    shot(page, "password_reset_changed")
