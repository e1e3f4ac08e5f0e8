from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipelines.errors import InputError, PermissionDenied
from tests.conftest import ADMIN_PASSWORD
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, SessionRow, User, utcnow
from workbench.services import accounts


def _events(workbench):
    with session_scope(workbench.engine) as session:
        return session.execute(sa.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.reason).order_by(AuditEvent.id)).all()


def test_first_admin_gets_the_configured_password_and_no_default(make_workbench):
    from workbench.bootstrap import first_start

    wb = make_workbench(admin_password="")
    started = first_start(wb)
    assert started.generated_password and len(started.generated_password) >= 20
    accounts.sign_in(wb, username="admin", password=started.generated_password)
    assert first_start(wb).generated_password is None  # shown once, never again
    with pytest.raises(PermissionDenied):
        accounts.sign_in(wb, username="admin", password="admin")


def test_password_hash_is_argon2id_and_token_is_not_stored(workbench, admin):
    with session_scope(workbench.engine) as session:
        stored = session.scalar(sa.select(User.password_hash).where(User.username == "admin"))
        digests = session.scalars(sa.select(SessionRow.token_sha256)).all()
    assert stored.startswith("$argon2id$") and ADMIN_PASSWORD not in stored
    signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD)
    with session_scope(workbench.engine) as session:
        digests = session.scalars(sa.select(SessionRow.token_sha256)).all()
    assert signed.token not in digests


def test_wrong_password_and_unknown_user_get_the_same_message(workbench, admin):
    with pytest.raises(PermissionDenied) as wrong:
        accounts.sign_in(workbench, username="admin", password="not the password at all")
    with pytest.raises(PermissionDenied) as unknown:
        accounts.sign_in(workbench, username="nobody", password="not the password at all")
    assert wrong.value.key == unknown.value.key == "accounts.bad_credentials"
    assert ("auth.sign_in", "denied", "bad_credentials") in _events(workbench)


def test_repeated_failures_slow_down_sign_in(workbench, admin):
    now = utcnow()
    keys = []
    for _ in range(7):
        try:
            accounts.sign_in(workbench, username="admin", password="wrong wrong wrong", now=now)
        except PermissionDenied as error:
            keys.append(error.key)
    assert keys[:5] == ["accounts.bad_credentials"] * 5
    assert keys[5:] == ["accounts.wait", "accounts.wait"]
    # even the right password is refused while throttled, and accepted once the wait is over
    with pytest.raises(PermissionDenied) as caught:
        accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD, now=now)
    assert caught.value.key == "accounts.wait"
    accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD, now=now + timedelta(minutes=16))
    assert any(a == "auth.sign_in" and r == "throttled" for a, _, r in _events(workbench))


def test_session_ends_after_idle_timeout(workbench, admin):
    now = utcnow()
    signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD, now=now)
    assert accounts.resolve_session(workbench, signed.token, now=now + timedelta(minutes=29)) is not None
    # activity at minute 29 keeps it alive until minute 59
    assert accounts.resolve_session(workbench, signed.token, now=now + timedelta(minutes=58)) is not None
    assert accounts.resolve_session(workbench, signed.token, now=now + timedelta(minutes=89)) is None
    # once expired, it stays dead even if asked at an earlier time again
    assert accounts.resolve_session(workbench, signed.token, now=now + timedelta(minutes=90)) is None


def test_session_ends_after_absolute_timeout_despite_activity(workbench, admin):
    now = utcnow()
    signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD, now=now)
    moment = now
    while moment + timedelta(minutes=20) < now + timedelta(hours=12):
        moment += timedelta(minutes=20)
        assert accounts.resolve_session(workbench, signed.token, now=moment) is not None
    assert accounts.resolve_session(workbench, signed.token, now=now + timedelta(hours=12)) is None


def test_logged_out_token_cannot_be_replayed(workbench, admin):
    signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD)
    accounts.sign_out(workbench, signed.token)
    assert accounts.resolve_session(workbench, signed.token) is None
    assert accounts.resolve_session(workbench, "forged-token") is None


def test_deactivation_ends_sessions_and_keeps_history(workbench, admin, make_user):
    signed = make_user("dr_kim")
    assert accounts.resolve_session(workbench, signed.token) is not None
    accounts.set_active(workbench, admin, user_id=signed.user_id, active=False)
    assert accounts.resolve_session(workbench, signed.token) is None
    with pytest.raises(PermissionDenied):
        accounts.sign_in(workbench, username="dr_kim", password="mik_rd+ rides a quiet tandem 7")
    with session_scope(workbench.engine) as session:
        assert session.get(User, signed.user_id) is not None


def test_weak_password_is_refused_with_a_reason(workbench, admin):
    with pytest.raises(InputError) as caught:
        accounts.create_user(workbench, admin, username="dr_lee", password="short")
    assert caught.value.key.startswith("auth.password")


def test_only_admins_manage_accounts(workbench, admin, make_user):
    signed = make_user("dr_park")
    actor = accounts.resolve_session(workbench, signed.token)
    with pytest.raises(PermissionDenied):
        accounts.create_user(workbench, actor, username="eve", password="another good passphrase 11")
    assert ("accounts.manage", "denied", "role_lacks_action") in [(a, o, r) for a, o, r in _events(workbench)] or any(
        a == "accounts.manage" and o == "denied" for a, o, _ in _events(workbench))
