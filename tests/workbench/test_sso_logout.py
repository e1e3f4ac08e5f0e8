"""Signing out of a single-sign-on session also ends the provider's session (RP-Initiated Logout 1.0).

A real provider on loopback (tests/oidc_provider.py) serves the discovery document; the workbench
reads its ``end_session_endpoint`` once per process. The browser side (the logout response going
to the provider) is in tests/e2e/test_sso_journey.py and, for the middleware alone, below.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.oidc_provider import OidcProvider
from workbench import browser_session as bs
from workbench import sso_logout
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, SessionRow
from workbench.services import accounts
from workbench.sso_secrets import write_secrets_file

CLIENT_ID = "clinical-workbench"
HOME = "https://workbench.hospital.example/"
PASSWORD = "a quiet tandem rides past the ward 7"


@pytest.fixture
def idp():
    with OidcProvider(client_id=CLIENT_ID, client_secret="s3cret") as provider:
        sso_logout.forget_discovery()
        yield provider
    sso_logout.forget_discovery()


@pytest.fixture
def sso_workbench(make_workbench, idp):
    from workbench.bootstrap import first_start

    def make(**values):
        wb = make_workbench(sso_server_metadata_url=idp.metadata_url, sso_client_id=CLIENT_ID,
                            sso_client_secret="s3cret", **values)
        first_start(wb)
        admin = accounts.resolve_session(wb, accounts.sign_in(wb, username="admin", password=ADMIN_PASSWORD).token)
        accounts.create_user(wb, admin, username="jlee", password=PASSWORD, email="j.lee@hospital.example")
        return wb

    return make


def _sso(wb, idp) -> str:
    claims = {"is_logged_in": True, "iss": idp.issuer, "sub": "s-1", "email": "j.lee@hospital.example",
              "email_verified": True}
    return accounts.sign_in_sso(wb, claims=claims).token


def test_an_sso_session_is_sent_to_the_providers_end_session_endpoint(sso_workbench, idp):
    wb = sso_workbench(sso_redirect_uri=HOME + "oauth2callback")
    token = _sso(wb, idp)
    address = accounts.sign_out(wb, token)
    assert address is not None
    parts = urlsplit(address)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == idp.issuer + "/logout"
    assert parse_qs(parts.query) == {"client_id": [CLIENT_ID], "post_logout_redirect_uri": [HOME]}  # no id_token_hint
    assert accounts.resolve_session(wb, token) is None  # the workbench session ended first
    with session_scope(wb.engine) as session:
        event = session.execute(sa.select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert event[0] == "auth.sign_out" and event[1] == {"method": "sso", "issuer": idp.issuer}
    # A second session's sign-out uses the document already read: fetched once per process.
    accounts.sign_out(wb, _sso(wb, idp))
    assert idp.discovery_requests == 1


def test_a_password_session_is_not_sent_to_the_provider(sso_workbench, idp):
    wb = sso_workbench(sso_redirect_uri=HOME + "oauth2callback")
    token = accounts.sign_in(wb, username="jlee", password=PASSWORD).token
    assert accounts.sign_out(wb, token) is None
    assert accounts.resolve_session(wb, token) is None
    assert idp.discovery_requests == 0
    with session_scope(wb.engine) as session:
        assert session.scalar(sa.select(SessionRow.sso_issuer).where(SessionRow.user_id != 1)) is None


def test_the_return_address_comes_from_the_secrets_serve_wrote(sso_workbench, idp):
    wb = sso_workbench()  # no sso_redirect_uri: serve's default http://<address>:<port>/oauth2callback
    write_secrets_file(wb.settings, address="127.0.0.1", port=8765)
    address = accounts.sign_out(wb, _sso(wb, idp))
    assert parse_qs(urlsplit(address).query)["post_logout_redirect_uri"] == ["http://127.0.0.1:8765/"]


def test_no_endpoint_advertised_means_the_workbench_signs_out_alone(make_workbench):
    from workbench.bootstrap import first_start

    with OidcProvider(client_id=CLIENT_ID, client_secret="s3cret", end_session=False) as provider:
        sso_logout.forget_discovery()
        wb = make_workbench(sso_server_metadata_url=provider.metadata_url, sso_client_id=CLIENT_ID,
                            sso_client_secret="s3cret", sso_redirect_uri=HOME + "oauth2callback")
        first_start(wb)
        admin = accounts.resolve_session(wb, accounts.sign_in(wb, username="admin", password=ADMIN_PASSWORD).token)
        accounts.create_user(wb, admin, username="jlee", password=PASSWORD, email="j.lee@hospital.example")
        token = _sso(wb, provider)
        assert accounts.sign_out(wb, token) is None
        assert accounts.resolve_session(wb, token) is None
        assert provider.discovery_requests == 1
    sso_logout.forget_discovery()


def test_a_session_of_another_provider_or_an_unreadable_document_is_not_sent(sso_workbench, idp):
    wb = sso_workbench(sso_redirect_uri=HOME + "oauth2callback")
    token = _sso(wb, idp)
    with session_scope(wb.engine) as session:  # as if opened through a provider configured before this one
        session.execute(sa.update(SessionRow).where(SessionRow.sso_issuer.is_not(None)).values(sso_issuer="https://old-idp.example"))
    assert accounts.sign_out(wb, token) is None
    # The provider is down: a clear log line, the workbench signs out alone, the next sign-out tries again.
    sso_logout.forget_discovery()
    down = wb.settings.sso_server_metadata_url.replace(idp.issuer, "http://127.0.0.1:9")
    assert sso_logout.discovery(down) is None and sso_logout.discovery(idp.metadata_url) is not None


def _client() -> TestClient:
    async def logout(request):  # stands in for Streamlit's own /auth/logout route
        return RedirectResponse("/", status_code=307)

    app = Starlette(routes=[Route("/auth/logout", logout)], middleware=bs.middleware())
    return TestClient(app, follow_redirects=False)


def test_the_logout_response_goes_to_the_provider_only_for_the_registered_session():
    provider = "https://idp.example/logout?client_id=wb&post_logout_redirect_uri=https%3A%2F%2Fwb.example%2F"
    bs.PROVIDER_LOGOUTS.expect("the-token", provider)
    other = _client()
    other.cookies.set(bs.COOKIE, "another-token")
    assert other.get("/auth/logout").headers["location"] == "/"  # someone else's logout is untouched
    client = _client()
    client.cookies.set(bs.COOKIE, "the-token")
    response = client.get("/auth/logout")
    assert response.status_code == 302 and response.headers.get_list("location") == [provider]
    assert any(c.startswith("wb_session=") and "Max-Age=0" in c for c in response.headers.get_list("set-cookie"))
    assert client.get("/auth/logout").headers["location"] == "/"  # once
    bs.PROVIDER_LOGOUTS.expect("the-token", None)  # a password session registers nothing
    assert client.get("/auth/logout").headers["location"] == "/"


def test_a_registered_address_is_good_for_a_minute():
    now = [0.0]
    logouts = bs.ProviderLogouts(ttl_seconds=60, clock=lambda: now[0])
    logouts.expect("t", "https://idp.example/logout")
    now[0] = 61.0
    assert logouts.take("t") is None
