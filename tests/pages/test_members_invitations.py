"""The members page with single sign-on set up: an owner invites an e-mail address, sees it pending,
is told clearly when the address is not one, and withdraws the invitation (headless, AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import APP


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_owner_invites_sees_the_invitation_pending_and_withdraws_it(app_env, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SSO_SERVER_METADATA_URL", "https://login.hospital.example/.well-known/openid-configuration")
    monkeypatch.setenv("WORKBENCH_SSO_CLIENT_ID", "workbench")
    monkeypatch.setenv("WORKBENCH_SSO_CLIENT_SECRET", "a-client-secret-for-tests")
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}  # no identity from the provider: the owner signs in with a password
    at.run()
    at.text_input[0].input("admin")
    at.text_input[1].input(ADMIN_PASSWORD)
    _button(at, "Sign in").click()
    at.run()
    at.switch_page("../pages/members.py")
    at.run()
    assert not at.exception, at.exception
    assert "Invite by e-mail (single sign-on)" in [h.value for h in at.subheader]
    assert "No pending invitations." in [c.value for c in at.caption]

    at.text_input(key="invite_email_address").input("not an address")
    _button(at, "Invite").click()
    at.run()
    assert [e.value for e in at.error] == ["'not an address' is not an e-mail address. Type the full address, "
                                           "for example name@hospital.example."]

    at.text_input(key="invite_email_address").input("Guest@Other-Hospital.example")
    at.selectbox(key="invite_email_role").select("data_scientist")
    _button(at, "Invite").click()
    at.run()
    assert not at.error and at.success[0].value.startswith("guest@other-hospital.example is invited.")
    pending = at.dataframe[-1].value
    assert list(pending["E-mail"]) == ["guest@other-hospital.example"] and list(pending["Role"]) == ["Data scientist"]

    _button(at, "Withdraw").click()
    at.run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["The invitation for guest@other-hospital.example was withdrawn."]
    assert "No pending invitations." in [c.value for c in at.caption]
