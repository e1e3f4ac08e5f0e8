"""Every page opens headless (AppTest) for a signed-in admin/owner, without exceptions or errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP, sign_in

PAGES = sorted(p.name for p in (Path(__file__).resolve().parents[2] / "pages").glob("[a-z]*.py") if p.name != "sign_in.py")


def test_sign_in_page_shows_without_an_account(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]


def test_wrong_password_shows_a_message_not_a_traceback(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, password="definitely not right")
    assert [e.value for e in at.error] and "wrong" in at.error[0].value
    assert not at.exception


def test_korean_interface(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    at.run()
    assert at.button[0].label == "로그인"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_for_the_admin_who_owns_the_demo(app_env, page):
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at)
    at.switch_page(f"../pages/{page}")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title, f"{page} shows no title"
