"""A sign-in survives a browser reload (F5) through the HttpOnly session cookie; the server decides.

Sign in, reload: still signed in. Sign out, reload: signed out, and the old cookie put back by hand
is refused (the session was revoked on the server). An idle-expired session is refused after a
reload with the "session ended" message.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import session_cookie, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIGNED_IN = "Signed in as admin"
ENDED = "Your session ended"


def _signed_in(page) -> None:
    page.get_by_text(SIGNED_IN).wait_for()
    page.get_by_text("Heart failure mortality (demo)").filter(visible=True).first.wait_for()


def _signed_out(page) -> None:
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_text(SIGNED_IN).count() == 0


def test_reload_keeps_the_session_until_the_server_ends_it(shared_server, browser):
    from workbench.context import open_workbench
    from workbench.db.engine import session_scope
    from workbench.db.models import SessionRow, utcnow
    from workbench.settings import default_settings

    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)

    sign_in(page, shared_server.url)
    _signed_in(page)
    cookie = session_cookie(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1  # ends with the browser
    assert "wb_session" not in page.evaluate("document.cookie")  # no page script can read the token

    page.reload()
    _signed_in(page)
    shot(page, "reload_still_signed_in")

    page.get_by_role("button", name="Sign out").click()
    _signed_out(page)
    page.reload()
    _signed_out(page)
    # Replaying the old cookie does nothing: the session was revoked on the server.
    context.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
    page.reload()
    _signed_out(page)
    page.get_by_text(ENDED).wait_for()

    # A session idle for longer than the idle timeout is refused after a reload, with the reason.
    sign_in(page, shared_server.url)
    _signed_in(page)
    workbench = open_workbench(default_settings(data_dir=str(shared_server.data_dir)))
    token = session_cookie(context, other_than=cookie["value"])["value"]
    from permissions.sessions import token_digest

    with session_scope(workbench.engine) as session:
        row = session.scalar(sa.select(SessionRow).where(SessionRow.token_sha256 == token_digest(token)))
        row.created_at = row.last_seen_at = utcnow() - timedelta(minutes=31)
    page.reload()
    _signed_out(page)
    page.get_by_text(ENDED).wait_for()
    shot(page, "reload_after_idle_timeout")
    context.close()
