"""Single sign-on in a real browser against a real OIDC provider on loopback (tests/oidc_provider.py).

The workbench is configured only through its settings (``sso_*`` in ``workbench.toml``);
``workbench serve`` writes Streamlit's ``[auth]`` secrets from them. A person whose verified
e-mail belongs to a local account lands on the projects page as that account; signing out also
ends the provider's session (RP-Initiated Logout), so the next click on "Sign in with ..." asks the
provider for credentials instead of signing the previous person in; an unverified e-mail is
refused with a clear message, audited, and opens no session. A single sign-on session that times
out ends at the provider as a sign-out does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import Server, session_cookie, shot
from tests.oidc_provider import OidcProvider

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLIENT_ID, CLIENT_SECRET = "clinical-workbench", "a-client-secret-for-tests"


@pytest.fixture
def sso_server(tmp_path):
    with OidcProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as idp:
        data = tmp_path / "data"
        data.mkdir()
        (data / "workbench.toml").write_text(
            f'sso_server_metadata_url = "{idp.metadata_url}"\nsso_client_id = "{CLIENT_ID}"\n'
            f'sso_client_secret = "{CLIENT_SECRET}"\nsso_label = "Test Hospital"\ndemo_project = false\n',
            encoding="utf-8")
        server = Server(data, tmp_path / "server.log").start()
        try:
            yield server, idp
        finally:
            server.kill_everything()  # a throwaway folder (see conftest)


def test_sso_signs_in_the_mapped_account_and_refuses_an_unverified_email(sso_server, browser):
    from workbench.context import open_workbench
    from workbench.db.engine import session_scope
    from workbench.db.models import AuditEvent, SessionRow, User, utcnow
    from workbench.services import accounts
    from workbench.settings import default_settings

    server, idp = sso_server
    assert (server.data_dir / "streamlit" / "secrets.toml").stat().st_mode & 0o077 == 0  # only the owner reads it
    workbench = open_workbench(default_settings(data_dir=str(server.data_dir)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    accounts.create_user(workbench, admin, username="jlee", password="a quiet tandem rides past 7",
                         email="ji-won.lee@hospital.example")

    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)

    # A verified e-mail of a local account: straight through the provider to the projects page.
    idp.person = {"sub": "idp-4711", "email": "Ji-won.Lee@hospital.example", "email_verified": True, "name": "Ji-won Lee"}
    page.goto(server.url)
    page.get_by_role("button", name="Sign in with Test Hospital").click()
    page.get_by_text("Signed in as jlee").wait_for()
    page.get_by_role("heading", name="Projects").first.wait_for()
    assert idp.token_requests == 1
    cookie = session_cookie(context)  # set in the background after the sign-in, as after a password
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    cookies = {c["name"]: c for c in context.cookies()}
    assert not [name for name in cookies if name.startswith("_streamlit_user")]  # the identity cookie was used once
    shot(page, "sso_signed_in")
    with session_scope(workbench.engine) as session:
        assert session.scalar(sa.select(User.sso_key).where(User.username == "jlee")) == f"{idp.issuer}#idp-4711"
        assert session.execute(sa.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.actor_name)
                               .order_by(AuditEvent.id.desc()).limit(1)).one() == ("auth.sign_in", "succeeded", "jlee")

    # Signing out ends the workbench session, then the provider's: the browser went through its
    # end-session endpoint (our client, our own address to come back to) and is home again.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with Test Hospital").wait_for()
    assert "wb_session" not in {c["name"] for c in context.cookies()}
    assert idp.logouts == [{"client_id": CLIENT_ID, "post_logout_redirect_uri": server.url + "/"}]  # no id_token_hint
    assert page.url == server.url + "/"
    with session_scope(workbench.engine) as session:
        assert session.execute(sa.select(SessionRow.sso_issuer, SessionRow.revoked_at.is_not(None))
                               .order_by(SessionRow.id.desc()).limit(1)).one() == (idp.issuer, True)

    # The next person at this workstation is not signed in as jlee: the provider asks who is there.
    with session_scope(workbench.engine) as session:
        sessions_before = session.scalar(sa.select(sa.func.count()).select_from(SessionRow))
    page.get_by_role("button", name="Sign in with Test Hospital").click()
    page.get_by_role("heading", name="Test provider: sign in").wait_for()
    assert idp.login_pages == 1 and idp.token_requests == 1
    shot(page, "sso_provider_asks_again")

    # An e-mail the provider has not verified (typed in at the provider): refused, said plainly, audited, no session.
    idp.person = {"sub": "idp-9999", "email": "ji-won.lee@hospital.example", "email_verified": False}
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("has not verified the e-mail address ji-won.lee@hospital.example").wait_for()
    shot(page, "sso_refused_unverified")
    page.wait_for_function("true")  # let the page drop Streamlit's identity cookie
    page.wait_for_timeout(500)
    assert not [c for c in context.cookies() if c["name"].startswith("_streamlit_user")]
    with session_scope(workbench.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SessionRow)) == sessions_before
        assert session.execute(sa.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.reason)
                               .order_by(AuditEvent.id.desc()).limit(1)).one() == (
            "auth.sign_in", "denied", "auth.sso.email_unverified")

    # In again (the provider's session is open: it approves at once), then away past the idle timeout:
    # the next click ends the provider's session too, so the next person is asked who they are.
    idp.person = {"sub": "idp-4711", "email": "ji-won.lee@hospital.example", "email_verified": True}
    page.get_by_role("button", name="Sign in with Test Hospital").click()
    page.get_by_text("Signed in as jlee").wait_for()
    session_cookie(context)
    with session_scope(workbench.engine) as session:
        newest = session.scalar(sa.select(sa.func.max(SessionRow.id)))
        session.execute(sa.update(SessionRow).where(SessionRow.id == newest)
                        .values(last_seen_at=utcnow() - timedelta(minutes=workbench.settings.session_idle_minutes + 5)))
    page.get_by_test_id("stSidebar").get_by_role("link", name="My account").click()
    page.get_by_role("button", name="Sign in with Test Hospital").wait_for()
    assert len(idp.logouts) == 2 and "wb_session" not in {c["name"] for c in context.cookies()}
    page.get_by_role("button", name="Sign in with Test Hospital").click()
    page.get_by_role("heading", name="Test provider: sign in").wait_for()
    assert idp.login_pages == 2
    with session_scope(workbench.engine) as session:
        assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "auth.session_expired")
                              .order_by(AuditEvent.id.desc()).limit(1)) == "auth.session_expired"
    context.close()
