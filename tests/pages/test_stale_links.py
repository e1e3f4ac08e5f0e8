"""A page address opened without a session (a bookmark, a link after the session ended) is a
registered page showing the sign-in form in the session's language, so Streamlit never shows its
English-only "Page not found" dialog (checked in a served browser too: the dialog appeared before)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from pages._shell import _PAGES
from tests.pages.conftest import APP


def test_every_page_address_signed_out_opens_the_sign_in_form(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    at.run()
    registered = {info.get("url_pathname"): page_hash for page_hash, info in at._registered_pages.items()}
    assert {spec.file.removesuffix(".py") for spec in _PAGES} <= set(registered), sorted(registered)
    for spec in _PAGES:
        at._page_hash = registered[spec.file.removesuffix(".py")]  # as a browser opening /<page> resolves it
        at.run()
        assert not at.exception, (spec.file, at.exception)
        assert [b.label for b in at.button] == ["로그인"], spec.file
        assert [t.label for t in at.text_input][:1] == ["사용자 이름"], spec.file
