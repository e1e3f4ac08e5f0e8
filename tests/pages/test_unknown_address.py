"""An address no page has opens the start page with a notice in the user's language, signed in or
not, instead of Streamlit's English "Page not found" dialog. AppTest asks for pages by hash only, so
an unknown hash stands for the unknown address here; tests/e2e/test_unknown_address.py opens
``/nonsense`` itself in a served browser."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP, open_page, sign_in
from workbench.i18n import t

UNKNOWN = "0" * 32  # no page's hash


def _texts(at) -> list[str]:
    return [e.value for e in at.info] + [e.value for e in at.markdown]


def test_an_unknown_address_signed_out_shows_the_sign_in_form_with_a_notice(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    at.run()
    at._page_hash = UNKNOWN
    at.run()
    assert not at.exception, at.exception
    assert t("app.page_not_found_sign_in", "ko") in _texts(at)
    assert [b.label for b in at.button] == ["로그인"]
    at._page_hash = ""
    at.run()  # the next run (here, a language switch would do the same) has no notice left
    assert t("app.page_not_found_sign_in", "ko") not in _texts(at)


def test_an_unknown_address_signed_in_opens_the_start_page_with_a_notice(app_env):
    at = open_page("account.py", lang="ko")
    assert t("app.page_not_found", "ko") not in _texts(at)  # a known page says nothing
    at._page_hash = UNKNOWN
    at.run()
    assert not at.exception, at.exception
    assert t("app.page_not_found", "ko") in _texts(at)
    assert at.title[0].value == t("app.page.projects", "ko") or any(
        t("app.page.projects", "ko") in title.value for title in at.title), [x.value for x in at.title]


def test_the_sign_in_page_address_after_signing_in_is_the_start_page_without_a_notice(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "en"
    sign_in(at)
    registered = {info.get("url_pathname"): h for h, info in at._registered_pages.items()}
    assert "sign_in" not in registered  # a tab still on the sign-in form asks for a page the signed-in app lacks
    from streamlit.util import calc_hash

    at._page_hash = calc_hash("sign_in")
    at.run()
    assert not at.exception, at.exception
    assert t("app.page_not_found", "en") not in _texts(at)
