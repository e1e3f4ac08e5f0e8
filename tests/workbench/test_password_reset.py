"""A site admin resets a forgotten password (or gives an account made through single sign-on its
first one); the person must change it before anything else opens."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from pipelines.errors import InputError, NotFound, PermissionDenied
from tests.conftest import ADMIN_PASSWORD
from tests.workbench.test_invitations import ISSUER, SSO, _claims
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, LoginFailure, User
from workbench.services import accounts, invitations, projects

PASSWORD = "a quiet tandem rides past the ward 7"
TEMPORARY = "lantern harbour quiet 4182"
CHOSEN = "my own slow river of thoughts 29"


def _site(make_workbench, database_url: str = "", **settings):
    from workbench.bootstrap import first_start

    wb = make_workbench(database_url=database_url, **settings)
    first_start(wb)
    admin = accounts.resolve_session(wb, accounts.sign_in(wb, username="admin", password=ADMIN_PASSWORD).token)
    user_id = accounts.create_user(wb, admin, username="dr_kim", password=PASSWORD, email="kim@hospital.example")
    return wb, admin, user_id


def _user(wb, user_id: int) -> User:
    with session_scope(wb.engine) as session:
        return session.get(User, user_id)


def _audit(wb, action: str) -> list[AuditEvent]:
    with session_scope(wb.engine) as session:
        return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_reset_sets_a_temporary_password_ends_sessions_and_is_audited_without_it(make_workbench, database_url):
    """On SQLite and on PostgreSQL."""
    wb, admin, user_id = _site(make_workbench, database_url)
    open_tokens = [accounts.sign_in(wb, username="dr_kim", password=PASSWORD).token for _ in range(2)]
    assert all(accounts.resolve_session(wb, token) is not None for token in open_tokens)
    assert not _user(wb, user_id).must_change_password

    accounts.reset_password(wb, admin, user_id=user_id, new_password=TEMPORARY)

    assert all(accounts.resolve_session(wb, token) is None for token in open_tokens)  # both ended at once
    stored = _user(wb, user_id)
    assert stored.password_hash.startswith("$argon2id$") and TEMPORARY not in stored.password_hash
    assert stored.must_change_password
    with pytest.raises(PermissionDenied):
        accounts.sign_in(wb, username="dr_kim", password=PASSWORD)  # the forgotten one no longer works
    signed = accounts.sign_in(wb, username="dr_kim", password=TEMPORARY)
    assert accounts.resolve_session(wb, signed.token).user_id == user_id
    (event,) = _audit(wb, "accounts.reset_password")
    assert (event.outcome, event.actor_name, event.resource_id) == ("succeeded", "admin", str(user_id))
    assert event.details["username"] == "dr_kim" and event.details["sessions_ended"] == 2
    assert event.details["first_password"] is False
    with session_scope(wb.engine) as session:  # the temporary password is nowhere in the audit log
        everything = json.dumps([[e.details, e.reason, e.actor_name] for e in session.scalars(sa.select(AuditEvent))])
    assert TEMPORARY not in everything and PASSWORD not in everything


def test_the_mark_holds_until_the_person_chooses_their_own_password(make_workbench, database_url):
    """On SQLite and on PostgreSQL."""
    wb, admin, user_id = _site(make_workbench, database_url)
    accounts.reset_password(wb, admin, user_id=user_id, new_password=TEMPORARY)
    kim = accounts.resolve_session(wb, accounts.sign_in(wb, username="dr_kim", password=TEMPORARY).token)
    with pytest.raises(InputError) as same:
        accounts.change_password(wb, kim, current=TEMPORARY, new=TEMPORARY)
    assert same.value.key == "accounts.same_password"
    with pytest.raises(InputError):
        accounts.change_password(wb, kim, current=TEMPORARY, new="dr_kim is my name ok")  # contains the user name
    with pytest.raises(PermissionDenied):
        accounts.change_password(wb, kim, current="not the temporary one", new=CHOSEN)
    assert _user(wb, user_id).must_change_password  # no failed attempt clears it

    accounts.change_password(wb, kim, current=TEMPORARY, new=CHOSEN)

    assert not _user(wb, user_id).must_change_password
    assert accounts.sign_in(wb, username="dr_kim", password=CHOSEN).user_id == user_id
    assert _audit(wb, "accounts.change_password")[-1].details == {"after_reset": True}


def test_refusals_change_nothing(make_workbench):
    wb, admin, user_id = _site(make_workbench)
    kim = accounts.resolve_session(wb, accounts.sign_in(wb, username="dr_kim", password=PASSWORD).token)
    other = accounts.create_user(wb, admin, username="dr_lee", password=PASSWORD)
    before = _user(wb, user_id).password_hash

    with pytest.raises(PermissionDenied) as not_admin:  # a plain user may not reset anyone's password
        accounts.reset_password(wb, kim, user_id=other, new_password=TEMPORARY)
    assert not_admin.value.key.startswith("auth.denied.")
    denied = [(e.outcome, e.actor_name) for e in _audit(wb, "accounts.manage")]
    assert ("denied", "dr_kim") in denied
    with pytest.raises(InputError) as self_reset:
        accounts.reset_password(wb, admin, user_id=admin.user_id, new_password=TEMPORARY)
    assert self_reset.value.key == "accounts.cannot_reset_self"
    for weak in ("short pass", "password1234", "dr_kim-and-more-text", "aaaaaaaaaaaaaaa"):
        with pytest.raises(InputError):
            accounts.reset_password(wb, admin, user_id=user_id, new_password=weak)
    with pytest.raises(NotFound):
        accounts.reset_password(wb, admin, user_id=9999, new_password=TEMPORARY)
    accounts.set_active(wb, admin, user_id=user_id, active=False)
    with pytest.raises(InputError) as inactive:
        accounts.reset_password(wb, admin, user_id=user_id, new_password=TEMPORARY)
    assert inactive.value.key == "accounts.reset_inactive" and inactive.value.params["username"] == "dr_kim"

    stored = _user(wb, user_id)
    assert stored.password_hash == before and not stored.must_change_password
    assert _audit(wb, "accounts.reset_password") == []


def test_a_reset_unlocks_an_account_locked_by_failed_sign_ins(make_workbench):
    wb, admin, user_id = _site(make_workbench)
    for _ in range(5):  # the throttle's limit: the next attempt, even with the right password, must wait
        with pytest.raises(PermissionDenied):
            accounts.sign_in(wb, username="dr_kim", password="what was it again")
    with pytest.raises(PermissionDenied) as waiting:
        accounts.sign_in(wb, username="dr_kim", password=PASSWORD)
    assert waiting.value.key in {"accounts.wait", "accounts.locked"}
    with session_scope(wb.engine) as session:
        recorded = session.scalar(sa.select(sa.func.count()).select_from(LoginFailure))

    accounts.reset_password(wb, admin, user_id=user_id, new_password=TEMPORARY)

    assert accounts.sign_in(wb, username="dr_kim", password=TEMPORARY).user_id == user_id
    assert _audit(wb, "accounts.reset_password")[0].details["failed_sign_ins_cleared"] == recorded > 0
    with session_scope(wb.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_an_account_made_through_single_sign_on_gets_its_first_password(make_workbench):
    wb, admin, _ = _site(make_workbench, **SSO)
    owner = accounts.resolve_session(wb, accounts.sign_in(wb, username="dr_kim", password=PASSWORD).token)
    project_id = projects.create_project(wb, owner, name="Heart failure mortality")
    owner = accounts.resolve_session(wb, accounts.sign_in(wb, username="dr_kim", password=PASSWORD).token)  # now an owner
    invitations.invite(wb, owner, project_id=project_id, email="x@hospital.example", role="clinician")
    created = accounts.sign_in_sso(wb, claims=_claims("x@hospital.example"))
    assert _user(wb, created.user_id).password_hash is None  # single sign-on only until now
    with pytest.raises(PermissionDenied):
        accounts.sign_in(wb, username="x", password=TEMPORARY)

    accounts.reset_password(wb, admin, user_id=created.user_id, new_password=TEMPORARY)

    assert accounts.resolve_session(wb, created.token) is None  # its single sign-on session ended too
    assert _audit(wb, "accounts.reset_password")[0].details["first_password"] is True
    x = accounts.resolve_session(wb, accounts.sign_in(wb, username="x", password=TEMPORARY).token)
    assert _user(wb, x.user_id).must_change_password
    accounts.change_password(wb, x, current=TEMPORARY, new=CHOSEN)
    assert not _user(wb, x.user_id).must_change_password
    assert _user(wb, created.user_id).sso_key.startswith(ISSUER)  # still signs in through the provider as well
