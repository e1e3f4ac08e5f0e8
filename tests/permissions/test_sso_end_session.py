"""The provider sign-out address: built from configuration only, never anything that could script a page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from permissions.sso import app_address, end_session_url


@pytest.mark.parametrize(("redirect", "home"), [
    ("http://localhost:8501/oauth2callback", "http://localhost:8501/"),
    (" https://wb.hospital.example/workbench/oauth2callback ", "https://wb.hospital.example/workbench/"),
    ("https://wb.hospital.example/oauth2callback?x=1#f", "https://wb.hospital.example/"),
    ("javascript:alert(1)//oauth2callback", None),
    ("/oauth2callback", None),
    ("https://wb.hospital.example/callback", None),
])
def test_the_app_address_is_the_redirect_uri_without_its_callback(redirect, home):
    assert app_address(redirect) == home


def test_the_end_session_address_carries_our_client_and_return_address_only():
    address = end_session_url("https://idp.example/oidc/logout?ui_locales=ko&client_id=evil&id_token_hint=old",
                              client_id="wb", post_logout_redirect_uri="https://wb.example/")
    parts = urlsplit(address)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "idp.example", "/oidc/logout")
    assert parse_qs(parts.query) == {"ui_locales": ["ko"], "client_id": ["wb"], "post_logout_redirect_uri": ["https://wb.example/"]}


@pytest.mark.parametrize("endpoint", ["javascript:alert(1)", "data:text/html,x", "//idp.example/logout", "",
                                      "https://idp.example/log out", "https://idp.example/\u00e9"])
def test_an_endpoint_that_is_not_a_plain_http_address_is_not_used(endpoint):
    assert end_session_url(endpoint, client_id="wb", post_logout_redirect_uri="https://wb.example/") is None
