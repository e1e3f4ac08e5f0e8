"""The session-cookie routes and the SSO secrets file, over real HTTP requests to a Starlette app."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from pipelines.errors import ConfigError
from workbench import browser_session as bs
from workbench.settings import default_settings
from workbench.sso_secrets import write_secrets_file

ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}


def _client() -> TestClient:
    async def logout(request):  # stands in for Streamlit's own /auth/logout route
        return RedirectResponse("/", status_code=302)

    app = Starlette(routes=[*bs.routes(), Route("/auth/logout", logout)], middleware=bs.middleware())
    return TestClient(app, follow_redirects=False)


def test_a_code_is_good_once_and_only_for_a_while():
    now = [0.0]
    codes = bs.HandoffCodes(ttl_seconds=60, clock=lambda: now[0])
    first, second = codes.issue("token-1"), codes.issue("token-2")
    assert first != second
    assert codes.pending(first) and codes.redeem(first) == "token-1"
    assert codes.redeem(first) is None and not codes.pending(first)
    assert codes.pending(second)
    now[0] = 61.0
    assert not codes.pending(second) and codes.redeem(second) is None


def test_the_route_sets_an_httponly_strict_cookie_and_drops_the_identity_cookie():
    client = _client()
    client.cookies.set("_streamlit_user", "signed-identity")
    client.cookies.set("_streamlit_user_1", "second-chunk")
    response = client.post(bs.ESTABLISH_PATH, data={"code": bs.HANDOFF.issue("the-token")}, headers=ORIGIN)
    assert response.status_code == 204 and "location" not in response.headers  # the page stays: no reload
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("wb_session="))
    assert "the-token" in session and "HttpOnly" in session and "SameSite=strict" in session
    assert "Secure" not in session and "expires" not in session.lower() and "max-age" not in session.lower()
    assert any(c.startswith("_streamlit_user=") and "Max-Age=0" in c for c in cookies)
    assert any(c.startswith("_streamlit_user_1=") and "Max-Age=0" in c for c in cookies)


def test_over_tls_the_cookie_is_secure():
    response = _client().post(bs.ESTABLISH_PATH, data={"code": bs.HANDOFF.issue("t")},
                              headers={**ORIGIN, "x-forwarded-proto": "https"})
    assert "Secure" in next(c for c in response.headers.get_list("set-cookie") if c.startswith("wb_session="))


@pytest.mark.parametrize("headers", [
    {},  # no Origin at all
    {"origin": "https://evil.example"},
    {"origin": "http://testserver", "sec-fetch-site": "cross-site"},
])
def test_a_cross_site_post_is_refused_and_the_code_survives(headers):
    code = bs.HANDOFF.issue("victim-token")
    response = _client().post(bs.ESTABLISH_PATH, data={"code": code}, headers=headers)
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert bs.HANDOFF.redeem(code) == "victim-token"


def test_an_unknown_code_sets_no_cookie():
    response = _client().post(bs.ESTABLISH_PATH, data={"code": "made-up"}, headers=ORIGIN)
    assert response.status_code == 204 and "set-cookie" not in response.headers


def test_streamlit_logout_also_deletes_the_session_cookie():
    response = _client().get("/auth/logout")
    assert response.status_code == 302
    assert any(c.startswith("wb_session=") and "Max-Age=0" in c for c in response.headers.get_list("set-cookie"))


def test_forget_identity_drops_only_streamlits_identity_cookies():
    client = _client()
    client.cookies.set("_streamlit_user", "x")
    client.cookies.set("wb_session", "keep")
    response = client.post(bs.FORGET_IDENTITY_PATH, headers=ORIGIN)
    assert response.status_code == 204
    cookies = response.headers.get_list("set-cookie")
    assert [c.split("=")[0] for c in cookies] == ["_streamlit_user"]


def test_the_page_snippet_posts_the_code_as_data_in_the_background():
    script = bs.establish_script("abc-_123")
    assert '"abc-_123"' in script and f'"{bs.ESTABLISH_PATH}"' in script
    assert "fetch(" in script and "method:'POST'" in script and "credentials:'same-origin'" in script
    assert "submit()" not in script and "location" not in script  # no navigation away from the app


def test_secrets_file_follows_the_settings(tmp_path):
    settings = default_settings(data_dir=str(tmp_path))
    assert write_secrets_file(settings, address="127.0.0.1", port=8501) is None  # SSO off: no file

    sso = settings.replace(sso_server_metadata_url="https://idp.example/.well-known/openid-configuration",
                           sso_client_id="wb", sso_client_secret='se"cret\\')
    path = write_secrets_file(sso, address="0.0.0.0", port=9000)
    import tomllib

    auth = tomllib.loads(path.read_text(encoding="utf-8"))["auth"]
    assert auth["redirect_uri"] == "http://localhost:9000/oauth2callback"
    assert auth["client_secret"] == 'se"cret\\' and len(auth["cookie_secret"]) >= 32
    assert path.stat().st_mode & 0o077 == 0

    assert write_secrets_file(settings, address="127.0.0.1", port=8501) is None
    assert not path.exists()  # switched off again: the stale secrets are gone

    with pytest.raises(ConfigError) as missing:
        write_secrets_file(settings.replace(sso_server_metadata_url="https://idp.example/x"), address="h", port=1)
    assert missing.value.key == "auth.sso.incomplete_settings" and "WORKBENCH_SSO_CLIENT_SECRET" in str(missing.value.params)
    with pytest.raises(ConfigError) as bad:
        write_secrets_file(sso.replace(sso_redirect_uri="https://wb.example/callback"), address="h", port=1)
    assert bad.value.key == "auth.sso.bad_redirect_uri"
