"""Single sign-on opens the same server-side session as a password, for an existing account only.

The claims are what Streamlit puts in ``st.user`` after the provider's redirect (the ID token's
claims plus ``is_logged_in``); the browser journey in tests/e2e/test_sso_journey.py gets them from
a real OIDC provider on loopback.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipelines.errors import PermissionDenied
from tests.conftest import ADMIN_PASSWORD
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, SessionRow, User
from workbench.services import accounts

ISSUER = "https://login.hospital.example"
PASSWORD = "a quiet tandem rides past the ward 7"


def _claims(email: str, *, sub: str = "sub-1", verified=True, **extra) -> dict:
    return {"is_logged_in": True, "iss": ISSUER, "sub": sub, "email": email, "email_verified": verified, **extra}


@pytest.fixture
def sso_workbench(make_workbench):
    from workbench.bootstrap import first_start

    wb = make_workbench(sso_server_metadata_url=ISSUER + "/.well-known/openid-configuration", sso_client_id="workbench")
    first_start(wb)
    admin = accounts.resolve_session(wb, accounts.sign_in(wb, username="admin", password=ADMIN_PASSWORD).token)
    accounts.create_user(wb, admin, username="jlee", password=PASSWORD, email="J.Lee@Hospital.Example")
    return wb


def _audit(wb) -> list[tuple]:
    with session_scope(wb.engine) as session:
        return session.execute(sa.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.reason, AuditEvent.actor_name)
                               .order_by(AuditEvent.id)).all()


def _denied(wb, claims) -> PermissionDenied:
    with pytest.raises(PermissionDenied) as info:
        accounts.sign_in_sso(wb, claims=claims)
    return info.value


def test_a_verified_email_signs_in_to_its_account_and_links_it(sso_workbench):
    wb = sso_workbench
    signed = accounts.sign_in_sso(wb, claims=_claims(" j.lee@hospital.EXAMPLE "))
    actor = accounts.resolve_session(wb, signed.token)
    assert actor is not None and actor.name == "jlee" and actor.site_role == "user"
    with session_scope(wb.engine) as session:
        assert session.scalar(sa.select(User.sso_key).where(User.username == "jlee")) == f"{ISSUER}#sub-1"
        assert session.scalar(sa.select(sa.func.count()).select_from(SessionRow).where(SessionRow.user_id == signed.user_id)) == 1
    events = _audit(wb)
    assert ("accounts.sso_link", "succeeded", "", "jlee") in events
    assert events[-1] == ("auth.sign_in", "succeeded", "", "jlee")
    # Signing out ends it like any session.
    accounts.sign_out(wb, signed.token)
    assert accounts.resolve_session(wb, signed.token) is None


def test_once_linked_the_subject_decides_not_the_email(sso_workbench):
    wb = sso_workbench
    accounts.sign_in_sso(wb, claims=_claims("j.lee@hospital.example"))
    # The hospital renamed the mailbox: the same subject still reaches the same account.
    renamed = accounts.sign_in_sso(wb, claims=_claims("jiwon.lee@hospital.example"))
    assert renamed.username == "jlee"
    # The old address handed to someone else (another subject) cannot take the account over.
    error = _denied(wb, _claims("j.lee@hospital.example", sub="sub-2"))
    assert error.key == "auth.sso.linked_elsewhere"
    assert _audit(wb)[-1][:3] == ("auth.sign_in", "denied", "auth.sso.linked_elsewhere")


@pytest.mark.parametrize(("claims", "key"), [
    (_claims("j.lee@hospital.example", verified=False), "auth.sso.email_unverified"),
    (_claims("j.lee@hospital.example", verified="no"), "auth.sso.email_unverified"),
    (_claims("stranger@hospital.example"), "auth.sso.no_account"),
    ({**_claims("j.lee@hospital.example"), "sub": ""}, "auth.sso.incomplete_claims"),
])
def test_refusals_are_clear_audited_and_open_no_session(sso_workbench, claims, key):
    wb = sso_workbench
    with session_scope(wb.engine) as session:
        before = session.scalar(sa.select(sa.func.count()).select_from(SessionRow))
    assert _denied(wb, claims).key == key
    with session_scope(wb.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SessionRow)) == before
        assert session.scalar(sa.select(User.sso_key).where(User.username == "jlee")) is None
    action, outcome, reason, name = _audit(wb)[-1]
    assert (action, outcome, reason) == ("auth.sign_in", "denied", key)
    assert name == str(claims.get("email", "")).strip().lower()


def test_claims_never_grant_rights(sso_workbench):
    """A provider that says "admin" (roles, groups, a site_role claim) changes nothing."""
    wb = sso_workbench
    signed = accounts.sign_in_sso(wb, claims=_claims("j.lee@hospital.example", roles=["admin"], groups=["admin"],
                                                     site_role="admin", preferred_username="admin"))
    actor = accounts.resolve_session(wb, signed.token)
    assert signed.username == "jlee" and actor.site_role == "user" and not actor.memberships


def test_a_deactivated_account_is_refused(sso_workbench):
    wb = sso_workbench
    admin = accounts.resolve_session(wb, accounts.sign_in(wb, username="admin", password=ADMIN_PASSWORD).token)
    with session_scope(wb.engine) as session:
        user_id = session.scalar(sa.select(User.id).where(User.username == "jlee"))
    accounts.set_active(wb, admin, user_id=user_id, active=False)
    assert _denied(wb, _claims("j.lee@hospital.example")).key == "auth.denied.deactivated"


def test_without_sso_settings_claims_are_refused(workbench, admin):
    error = _denied(workbench, _claims("admin@hospital.example"))
    assert error.key == "auth.sso.off"
