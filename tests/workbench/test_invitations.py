"""Owners invite an e-mail address; the first verified single sign-on of that address redeems it.

Claims are what Streamlit puts in ``st.user`` after the provider's redirect; the browser journey in
tests/e2e/test_invitation_journey.py gets them from a real OIDC provider on loopback.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipelines.errors import Conflict, InputError, NotFound, PermissionDenied
from tests.conftest import ADMIN_PASSWORD
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Invitation, Membership, SessionRow, User, utcnow
from workbench.services import accounts, invitations, projects

# single sign-on round trips, each on SQLite and on PostgreSQL (tens of seconds in all)
# scheduled with the slow files, not at the run's end (tests/conftest.py)
pytestmark = pytest.mark.slow

ISSUER = "https://login.hospital.example"
SSO = {"sso_server_metadata_url": ISSUER + "/.well-known/openid-configuration", "sso_client_id": "workbench"}
PASSWORD = "a quiet tandem rides past the ward 7"


def _claims(email: str, *, sub: str = "sub-x", verified=True, **extra) -> dict:
    return {"is_logged_in": True, "iss": ISSUER, "sub": sub, "email": email, "email_verified": verified, **extra}


def _login(wb, username: str, password: str = PASSWORD):
    return accounts.resolve_session(wb, accounts.sign_in(wb, username=username, password=password).token)


def _site(make_workbench, database_url: str = ""):
    """A workbench with single sign-on, an admin, and a project owned by dr_owner."""
    from workbench.bootstrap import first_start

    wb = make_workbench(database_url=database_url, **SSO)
    first_start(wb)
    admin = _login(wb, "admin", ADMIN_PASSWORD)
    for name in ("dr_owner", "dr_clin"):
        accounts.create_user(wb, admin, username=name, password=PASSWORD, email=f"{name}@hospital.example")
    project_id = projects.create_project(wb, _login(wb, "dr_owner"), name="Heart failure mortality")
    return wb, project_id


@pytest.fixture
def site(make_workbench):
    return _site(make_workbench)


def _audit(wb, *actions: str) -> list[tuple]:
    with session_scope(wb.engine) as session:
        query = sa.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.reason, AuditEvent.actor_name,
                          AuditEvent.details).order_by(AuditEvent.id)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        return [tuple(r) for r in session.execute(query)]


def _count(wb, model, *where) -> int:
    with session_scope(wb.engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _refused(wb, claims, key: str) -> None:
    users, sessions = _count(wb, User), _count(wb, SessionRow)
    with pytest.raises(PermissionDenied) as info:
        accounts.sign_in_sso(wb, claims=claims)
    assert info.value.key == key
    assert (_count(wb, User), _count(wb, SessionRow)) == (users, sessions)  # nothing created
    assert _audit(wb, "auth.sign_in")[-1][:3] == ("auth.sign_in", "denied", key)


def test_first_sign_in_creates_a_password_less_account_with_the_invited_role(make_workbench, database_url):
    """On SQLite and on PostgreSQL."""
    wb, project_id = _site(make_workbench, database_url)
    ends = utcnow() + timedelta(days=90)
    invited = invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email=" X@Hospital.Example ",
                                 role="collaborator", expires_at=ends)
    assert invited.email == "x@hospital.example" and not invited.updated
    assert invited.valid_until - utcnow() > timedelta(days=13, hours=23)  # invitation_days = 14

    signed = accounts.sign_in_sso(wb, claims=_claims("x@HOSPITAL.example", name="Dr X", roles=["admin"]))
    events = _audit(wb, "accounts.create", "accounts.sso_link", "members.add", "auth.sign_in")[-4:]
    assert [e[:2] for e in events] == [("accounts.create", "succeeded"), ("accounts.sso_link", "succeeded"),
                                      ("members.add", "succeeded"), ("auth.sign_in", "succeeded")]
    assert events[0][4]["source"] == "invitation" and events[0][4]["invited_by"] == ["dr_owner"]
    assert events[2][3] == "dr_owner"  # the grant is the inviter's decision
    assert events[2][4]["invitation_id"] == invited.invitation_id and events[2][4]["username"] == "x"

    actor = accounts.resolve_session(wb, signed.token)
    assert signed.username == "x" and actor.site_role == "user"
    assert actor.memberships[project_id].role == "collaborator"
    assert abs(actor.memberships[project_id].expires_at - ends) < timedelta(seconds=1)
    with session_scope(wb.engine) as session:
        user = session.scalar(sa.select(User).where(User.username == "x"))
        assert (user.email, user.password_hash, user.sso_key, user.display_name) == (
            "x@hospital.example", None, f"{ISSUER}#sub-x", "Dr X")
        row = session.get(Invitation, invited.invitation_id)
        assert row.redeemed_by == user.id and row.redeemed_at is not None
    assert invitations.list_invitations(wb, _login(wb, "dr_owner"), project_id) == []

    # The account has no usable password, and the next SSO sign-in reaches it without creating another.
    with pytest.raises(PermissionDenied) as info:
        accounts.sign_in(wb, username="x", password="")
    assert info.value.key == "accounts.bad_credentials"
    assert accounts.sign_in_sso(wb, claims=_claims("x@hospital.example")).user_id == signed.user_id
    assert _count(wb, User, User.email == "x@hospital.example") == 1


def test_an_existing_account_with_that_email_receives_the_invitation(site):
    wb, project_id = site
    invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email="dr_clin@hospital.example",
                       role="clinician")
    users = _count(wb, User)
    signed = accounts.sign_in_sso(wb, claims=_claims("DR_CLIN@hospital.example"))
    assert signed.username == "dr_clin" and _count(wb, User) == users
    assert accounts.resolve_session(wb, signed.token).memberships[project_id].role == "clinician"
    assert _audit(wb, "accounts.create")[-1][4]["username"] == "dr_clin"  # created by the admin, not now


def test_an_unverified_email_redeems_nothing(site):
    wb, project_id = site
    invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email="x@hospital.example", role="collaborator")
    _refused(wb, _claims("x@hospital.example", verified=False), "auth.sso.email_unverified")
    assert len(invitations.list_invitations(wb, _login(wb, "dr_owner"), project_id)) == 1  # still pending


def test_an_expired_invitation_is_refused_and_no_longer_listed(site):
    wb, project_id = site
    sent = utcnow() - timedelta(days=15)
    invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email="x@hospital.example",
                       role="collaborator", now=sent)
    assert invitations.list_invitations(wb, _login(wb, "dr_owner"), project_id) == []
    assert len(invitations.list_invitations(wb, _login(wb, "dr_owner"), project_id, now=sent)) == 1
    _refused(wb, _claims("x@hospital.example"), "auth.sso.invitation_expired")


def test_a_revoked_invitation_is_refused(site):
    wb, project_id = site
    owner = _login(wb, "dr_owner")
    invited = invitations.invite(wb, owner, project_id=project_id, email="x@hospital.example", role="collaborator")
    invitations.revoke_invitation(wb, owner, project_id=project_id, invitation_id=invited.invitation_id)
    assert _audit(wb, "members.invite_revoke")[-1][:4] == ("members.invite_revoke", "succeeded", "", "dr_owner")
    with pytest.raises(NotFound) as info:
        invitations.revoke_invitation(wb, owner, project_id=project_id, invitation_id=invited.invitation_id)
    assert info.value.key == "invitations.not_pending"
    _refused(wb, _claims("x@hospital.example"), "auth.sso.invitation_revoked")


def test_another_email_is_not_invited(site):
    wb, project_id = site
    invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email="x@hospital.example", role="collaborator")
    _refused(wb, _claims("y@hospital.example"), "auth.sso.no_account")
    _refused(wb, _claims("x@other-hospital.example"), "auth.sso.no_account")


def test_an_invitation_is_only_as_good_as_its_inviter(site):
    wb, project_id = site
    owner = _login(wb, "dr_owner")
    invitations.invite(wb, owner, project_id=project_id, email="x@hospital.example", role="data_scientist")
    projects.add_member(wb, owner, project_id=project_id, username="dr_clin", role="owner")
    projects.remove_member(wb, _login(wb, "dr_clin"), project_id=project_id, username="dr_owner")
    _refused(wb, _claims("x@hospital.example"), "auth.sso.invitation_void")


def test_inviting_the_same_address_again_updates_the_pending_invitation(site):
    wb, project_id = site
    owner = _login(wb, "dr_owner")
    first = invitations.invite(wb, owner, project_id=project_id, email="x@hospital.example", role="collaborator")
    again = invitations.invite(wb, owner, project_id=project_id, email="X@hospital.example", role="clinician")
    assert again.updated and again.invitation_id == first.invitation_id
    [pending] = invitations.list_invitations(wb, owner, project_id)
    assert (pending.email, pending.role, pending.invited_by) == ("x@hospital.example", "clinician", "dr_owner")
    assert _audit(wb, "members.invite_update")[-1][4]["previous_role"] == "collaborator"
    # An address whose account is a member already is refused: change the membership instead.
    projects.add_member(wb, owner, project_id=project_id, username="dr_clin", role="clinician")
    with pytest.raises(Conflict) as info:
        invitations.invite(wb, owner, project_id=project_id, email="dr_clin@hospital.example", role="owner")
    assert info.value.key == "invitations.already_member" and info.value.params["username"] == "dr_clin"


@pytest.mark.parametrize(("email", "role", "key"), [
    ("not an address", "collaborator", "invitations.bad_email"),
    ("x@localhost", "collaborator", "invitations.bad_email"),
    ("x@hospital.example", "admin", "projects.bad_role"),
])
def test_bad_input_is_refused_clearly(site, email, role, key):
    wb, project_id = site
    with pytest.raises(InputError) as info:
        invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email=email, role=role)
    assert info.value.key == key
    assert _count(wb, Invitation) == 0


def test_only_owners_invite_list_and_revoke(site):
    wb, project_id = site
    owner = _login(wb, "dr_owner")
    invited = invitations.invite(wb, owner, project_id=project_id, email="x@hospital.example", role="collaborator")
    accounts.create_user(wb, _login(wb, "admin", ADMIN_PASSWORD), username="dr_guest", password=PASSWORD)
    projects.add_member(wb, owner, project_id=project_id, username="dr_clin", role="clinician")
    projects.add_member(wb, owner, project_id=project_id, username="dr_guest", role="collaborator")
    cases = [(_login(wb, "dr_clin"), "auth.denied.role_lacks_action"), (_login(wb, "dr_guest"), "auth.denied.role_lacks_action"),
             (_login(wb, "admin", ADMIN_PASSWORD), "auth.denied.not_member")]
    for actor, key in cases:
        for call in (lambda: invitations.invite(wb, actor, project_id=project_id, email="z@hospital.example", role="owner"),
                     lambda: invitations.list_invitations(wb, actor, project_id),
                     lambda: invitations.revoke_invitation(wb, actor, project_id=project_id,
                                                           invitation_id=invited.invitation_id)):
            with pytest.raises(PermissionDenied) as info:
                call()
            assert info.value.key == key
        assert _audit(wb, "members.invite")[-1][:4] == ("members.invite", "denied", key.rsplit(".", 1)[1], actor.name)
    assert [p.email for p in invitations.list_invitations(wb, owner, project_id)] == ["x@hospital.example"]


def test_without_single_sign_on_nothing_is_invited_or_redeemed(site, make_workbench):
    wb, project_id = site
    invitations.invite(wb, _login(wb, "dr_owner"), project_id=project_id, email="x@hospital.example", role="collaborator")
    plain = make_workbench()  # the same database, single sign-on switched off
    with pytest.raises(Conflict) as info:
        invitations.invite(plain, _login(plain, "dr_owner"), project_id=project_id, email="y@hospital.example",
                           role="collaborator")
    assert info.value.key == "invitations.sso_off"
    _refused(plain, _claims("x@hospital.example"), "auth.sso.off")
    assert _count(plain, Membership, Membership.project_id == project_id) == 1
