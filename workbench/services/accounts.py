"""Accounts and signed-in sessions, enforced on the server.

Only the SHA-256 of a session token is stored, so a copy of the database cannot be used to sign in.
A session ends after the idle or absolute timeout (settings) and on sign-out; a stale token can do
nothing because every page resolves it here first.

Single sign-on opens the same kind of session for an existing local account, found by the
provider's verified e-mail (``permissions.sso``). Nothing a provider claims grants a right: an admin
creates accounts and owners add them to projects. The one exception is an owner's e-mail invitation
(``workbench.services.invitations``): a verified address with a pending invitation and no account
gets a plain account without a password (it signs in through single sign-on only) and the invited
memberships; the rights are the owner's decision, not the provider's.

A session opened through single sign-on remembers its provider (``sessions.sso_issuer``), so that
signing out of it can also end the provider's session (:func:`sign_out` returns where to send the
browser); a session opened with a password is never sent to the provider.

A person who forgot their password gets a temporary one from a site admin (:func:`reset_password`,
which also gives an account created from an invitation its first password). The account is then
marked "must change password" (``User.must_change_password``, read with the session into
``NamedActor.must_change_password``): the shell opens only the change-password form until
:func:`change_password` clears the mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from permissions.actions import Action
from permissions.lockout import login_throttle
from permissions.passwords import hash_password, validate_new_password, verify_password, verify_unknown_user
from permissions.policy import Actor
from permissions.sessions import SessionState, new_session_token, session_valid, token_digest
from permissions.sso import (
    SsoAccount,
    SsoIdentity,
    SsoMatch,
    identity_from_claims,
    match_sso_account,
    normalise_email,
    username_for_email,
)
from pipelines.errors import Conflict, InputError, NotFound, PermissionDenied
from workbench.context import Workbench
from workbench.db.engine import read_all, session_scope
from workbench.db.models import LoginFailure, SessionRow, User, utcnow
from workbench import sso_logout
from workbench.services import audit, invitations
from workbench.services._access import NamedActor, authorize, load_actor

__all__ = [
    "SignedIn",
    "create_user",
    "sign_in",
    "sign_in_sso",
    "resolve_session",
    "sign_out",
    "list_users",
    "set_active",
    "change_password",
    "reset_password",
]

_LAST_SEEN_STEP = timedelta(seconds=30)  # how stale a session's last-seen time may get before it is written


@dataclass(frozen=True)
class SignedIn:
    token: str
    user_id: int
    username: str


def create_user(
    workbench: Workbench,
    actor: Actor | None,
    *,
    username: str,
    password: str,
    email: str | None = None,
    display_name: str = "",
    site_role: str = "user",
) -> int:
    """Create an account. ``actor=None`` only for the first admin created at first start."""
    if actor is not None:
        authorize(workbench, actor, Action.ACCOUNTS_MANAGE)
    username = username.strip()
    if not username or len(username) > 120 or any(c.isspace() for c in username):
        raise InputError("accounts.bad_username")
    if site_role not in {"admin", "user"}:
        raise InputError("accounts.bad_site_role", role=site_role)
    validate_new_password(password, username=username, email=email)
    with session_scope(workbench.engine) as session:
        taken = session.scalar(select(func.count()).select_from(User).where(func.lower(User.username) == username.lower()))
        if taken:
            raise Conflict("accounts.username_taken", username=username)
        user = User(username=username, email=email or None, display_name=display_name or username,
                    password_hash=hash_password(password), site_role=site_role)
        session.add(user)
        session.flush()
        audit.record(session, actor_id=actor.user_id if actor else None, actor_name=(actor.name if actor else "system") or "",
                     action="accounts.create", outcome="succeeded", resource_type="user", resource_id=user.id,
                     details={"username": username, "site_role": site_role})
        return user.id


def sign_in(workbench: Workbench, *, username: str, password: str, now: datetime | None = None) -> SignedIn:
    """Check the password (with a growing delay after failures) and open a session.

    A refusal is recorded (failure row and audit event) in a committed transaction before the
    error is raised, so that the throttle and the audit log see every attempt.
    """
    now = now or utcnow()
    username = username.strip()
    refusal: PermissionDenied | None = None
    with session_scope(workbench.engine) as session:
        failures = list(session.scalars(
            select(LoginFailure.at).where(LoginFailure.username == username.lower())
            .where(LoginFailure.at >= now - timedelta(hours=24))
        ))
        throttle = login_throttle(failures, now=now)
        if not throttle.allowed:
            audit.record(session, actor_id=None, actor_name=username, action="auth.sign_in", outcome="denied",
                         reason="locked" if throttle.locked else "throttled")
            refusal = (PermissionDenied("accounts.locked") if throttle.locked
                       else PermissionDenied("accounts.wait", seconds=throttle.retry_after_seconds))
        else:
            user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
            if user is not None and user.password_hash:
                ok, needs_rehash = verify_password(password, user.password_hash)
            else:  # spend the same time as for a real account: nothing to learn from the delay
                verify_unknown_user(password)
                ok, needs_rehash = False, False
            if user is None or not ok or not user.active:
                session.add(LoginFailure(username=username.lower(), at=now))
                reason = "deactivated" if (ok and user is not None) else "bad_credentials"
                audit.record(session, actor_id=user.id if user else None, actor_name=username, action="auth.sign_in",
                             outcome="denied", reason=reason)
                # the same message for unknown user, wrong password and deactivated account
                refusal = PermissionDenied("accounts.bad_credentials")
            else:
                if needs_rehash:
                    user.password_hash = hash_password(password)
                session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower()))
                signed = _open_session(session, user, now=now)
    if refusal is not None:
        raise refusal
    return signed


def _open_session(session, user: User, *, now: datetime, details: dict | None = None,
                  sso_issuer: str | None = None) -> SignedIn:
    issued = new_session_token()
    session.add(SessionRow(token_sha256=issued.digest, user_id=user.id, created_at=now, last_seen_at=now,
                           sso_issuer=sso_issuer))
    audit.record(session, actor_id=user.id, actor_name=user.username, action="auth.sign_in", outcome="succeeded",
                 details=details)
    return SignedIn(token=issued.token, user_id=user.id, username=user.username)


def sign_in_sso(workbench: Workbench, *, claims: Mapping[str, Any], now: datetime | None = None) -> SignedIn:
    """Open a session for the local account the provider's claims (``st.user``) identify.

    Refusals (single sign-on off, unverified or unknown e-mail, an expired or revoked invitation, an
    account linked to another identity, a deactivated account) are audited in a committed
    transaction before ``PermissionDenied`` is raised, and create nothing. The first successful
    sign-in links the account to the provider's issuer and subject; from then on only that identity
    matches it, so an e-mail address later given to someone else cannot take it over. Pending
    invitations of the verified address are redeemed into the account that signs in (created from
    them when there is none), unless another account holds that address.
    """
    now = now or utcnow()
    claimed = normalise_email(str(claims.get("email") or ""))
    refusal: PermissionDenied | None = None
    with session_scope(workbench.engine) as session:
        try:
            if not workbench.settings.sso_enabled:
                raise PermissionDenied("auth.sso.off")
            identity = identity_from_claims(claims)
            users = list(session.scalars(select(User).where(
                (func.lower(User.email) == identity.email) | (User.sso_key == identity.key))))
            offered: list = []
            try:
                match = match_sso_account(identity, [SsoAccount(u.id, u.email, u.active, u.sso_key) for u in users])
            except PermissionDenied as error:
                if error.key != "auth.sso.no_account":
                    raise
                offered, refusal_key = invitations.open_invitations(session, identity.email, now=now)
                if not offered:
                    raise PermissionDenied(refusal_key, email=identity.email) from None
                match = SsoMatch(_account_from_invitations(session, identity, claims, offered, now=now).id, link=False)
            else:
                if not [u for u in users if u.id != match.user_id and u.email and normalise_email(u.email) == identity.email]:
                    offered = invitations.open_invitations(session, identity.email, now=now)[0]
        except PermissionDenied as error:
            session.rollback()  # a refusal creates nothing, whatever was under way
            audit.record(session, actor_id=None, actor_name=claimed, action="auth.sign_in", outcome="denied",
                         reason=error.key, details={"method": "sso", "issuer": str(claims.get("iss") or "")})
            refusal = error
        else:
            user = session.get(User, match.user_id)
            assert user is not None
            if match.link:
                user.sso_key = identity.key
                audit.record(session, actor_id=user.id, actor_name=user.username, action="accounts.sso_link",
                             outcome="succeeded", resource_type="user", resource_id=user.id,
                             details={"issuer": identity.issuer, "email": identity.email})
            invitations.redeem(session, user, offered, now=now)
            signed = _open_session(session, user, now=now, details={"method": "sso", "issuer": identity.issuer},
                                   sso_issuer=identity.issuer)
    if refusal is not None:
        raise refusal
    return signed


def _account_from_invitations(session, identity: SsoIdentity, claims: Mapping[str, Any], offered: list, *,
                              now: datetime) -> User:
    """A plain account (site role user, no password: single sign-on only) for an invited address,
    linked to the provider identity at once; audited with the inviters."""
    def taken(name: str) -> bool:
        return bool(session.scalar(select(func.count()).select_from(User).where(func.lower(User.username) == name)))

    username = username_for_email(identity.email, taken)
    display = str(claims.get("name") or "").strip()[:200] or username
    user = User(username=username, email=identity.email, display_name=display, password_hash=None, site_role="user",
                sso_key=identity.key, created_at=now)
    session.add(user)
    session.flush()
    inviters = sorted({row.invited_by for row in offered})
    names = list(session.scalars(select(User.username).where(User.id.in_(inviters)).order_by(User.username)))
    audit.record(session, actor_id=None, actor_name=identity.email, action="accounts.create", outcome="succeeded",
                 resource_type="user", resource_id=user.id,
                 details={"username": username, "site_role": "user", "source": "invitation", "invited_by": names,
                          "invitations": [row.id for row in offered]})
    audit.record(session, actor_id=user.id, actor_name=username, action="accounts.sso_link", outcome="succeeded",
                 resource_type="user", resource_id=user.id, details={"issuer": identity.issuer, "email": identity.email})
    return user


def resolve_session(workbench: Workbench, token: str | None, *, now: datetime | None = None) -> NamedActor | None:
    """The signed-in actor for a token, or None when it is unknown, revoked or expired."""
    if not token:
        return None
    now = now or utcnow()
    settings = workbench.settings
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    # Every rerun of every page asks this; a session seen moments ago needs no write (and so no
    # write lock), at the cost of an idle timeout up to _LAST_SEEN_STEP early.
    with session_scope(workbench.engine, read_only=True) as session:
        row = session.scalar(select(SessionRow).where(SessionRow.token_sha256 == token_digest(token)))
        if row is None:
            return None
        if row.revoked_at is None and timedelta(0) <= now - row.last_seen_at < _LAST_SEEN_STEP:
            state = SessionState(user_id=row.user_id, created_at=row.created_at, last_seen_at=row.last_seen_at,
                                 revoked_at=row.revoked_at)
            if session_valid(state, now=now, idle_timeout=idle, absolute_timeout=absolute).allowed:
                actor = load_actor(session, row.user_id)
                if actor is not None and actor.active:
                    return actor
    with session_scope(workbench.engine) as session:
        row = session.scalar(select(SessionRow).where(SessionRow.token_sha256 == token_digest(token)))
        if row is None:
            return None
        state = SessionState(user_id=row.user_id, created_at=row.created_at, last_seen_at=row.last_seen_at, revoked_at=row.revoked_at)
        decision = session_valid(state, now=now, idle_timeout=idle, absolute_timeout=absolute)
        if not decision.allowed:
            if row.revoked_at is None:
                row.revoked_at = now
                audit.record(session, actor_id=row.user_id, actor_name="", action="auth.session_expired",
                             outcome="succeeded", reason=decision.reason)
            return None
        actor = load_actor(session, row.user_id)
        if actor is None or not actor.active:
            row.revoked_at = now
            return None
        row.last_seen_at = now
        return actor


def sign_out(workbench: Workbench, token: str | None) -> str | None:
    """End the session; return the identity provider's end-session address when the session was
    opened through single sign-on and the provider offers one (the browser goes there next), else None.

    The stored session decides, not the browser: only a session row opened through the provider
    (``sso_issuer``) is sent there. A session already ended (another tab signed out) still is: its
    provider session may be open.
    """
    if not token:
        return None
    with session_scope(workbench.engine) as session:
        row = session.scalar(select(SessionRow).where(SessionRow.token_sha256 == token_digest(token)))
        issuer = row.sso_issuer if row is not None else None
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(session, actor_id=row.user_id, actor_name="", action="auth.sign_out", outcome="succeeded",
                         details={"method": "sso", "issuer": issuer} if issuer else None)
    return sso_logout.provider_logout_url(workbench.settings, issuer=issuer) if issuer else None


def list_users(workbench: Workbench, actor: Actor) -> list[User]:
    authorize(workbench, actor, Action.ACCOUNTS_MANAGE)
    return read_all(workbench.engine, select(User).order_by(User.username))


def set_active(workbench: Workbench, actor: Actor, *, user_id: int, active: bool) -> None:
    """Deactivate (or reactivate) an account. History stays; open sessions end at once."""
    authorize(workbench, actor, Action.ACCOUNTS_MANAGE)
    if user_id == actor.user_id and not active:
        raise InputError("accounts.cannot_deactivate_self")
    with session_scope(workbench.engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("accounts.not_found", user_id=user_id)
        user.active = active
        user.deactivated_at = None if active else utcnow()
        if not active:
            _end_sessions(session, user_id)
        audit.record(session, actor_id=actor.user_id, actor_name=actor.name or "",
                     action="accounts.activate" if active else "accounts.deactivate", outcome="succeeded",
                     resource_type="user", resource_id=user_id)


def _end_sessions(session, user_id: int) -> int:
    """End every open session of an account now; how many there were."""
    now = utcnow()
    rows = list(session.scalars(select(SessionRow).where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))))
    for row in rows:
        row.revoked_at = now
    return len(rows)


def change_password(workbench: Workbench, actor: Actor, *, current: str, new: str) -> None:
    """Change one's own password; this also clears the "must change" mark of an admin's reset."""
    authorize(workbench, actor, Action.ACCOUNT_CHANGE_OWN_PASSWORD)
    with session_scope(workbench.engine) as session:
        user = session.get(User, actor.user_id)
        if user is None or not user.password_hash or not verify_password(current, user.password_hash).ok:
            raise PermissionDenied("accounts.bad_credentials")
        if new == current:
            raise InputError("accounts.same_password")
        validate_new_password(new, username=user.username, email=user.email)
        user.password_hash = hash_password(new)
        details = {"after_reset": True} if user.must_change_password else None
        user.must_change_password = False
        audit.record(session, actor_id=user.id, actor_name=user.username, action="accounts.change_password",
                     outcome="succeeded", details=details)


def reset_password(workbench: Workbench, actor: Actor, *, user_id: int, new_password: str) -> None:
    """A site admin sets a temporary password for another active account (forgotten password, or the
    first password of an account that signed in through single sign-on only).

    The password meets the same rules as any new one and is stored only as its argon2id hash; the
    account must change it at the next sign-in, every open session of it ends now, and failed
    sign-ins no longer hold it locked. Audited as ``accounts.reset_password`` (never the password).
    Refused for one's own account (use :func:`change_password`) and for a deactivated one.
    """
    authorize(workbench, actor, Action.ACCOUNTS_MANAGE)
    if user_id == actor.user_id:
        raise InputError("accounts.cannot_reset_self")
    with session_scope(workbench.engine, read_only=True) as session:
        username, email = _resettable(session, user_id)
    validate_new_password(new_password, username=username, email=email)
    digest = hash_password(new_password)  # slow on purpose: outside the write transaction
    with session_scope(workbench.engine) as session:
        _resettable(session, user_id)  # still there and active
        user = session.get(User, user_id)
        first = not user.password_hash
        user.password_hash = digest
        user.must_change_password = True
        ended = _end_sessions(session, user_id)
        unlocked = session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower())).rowcount
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", "") or "",
                     action="accounts.reset_password", outcome="succeeded", resource_type="user", resource_id=user_id,
                     details={"username": username, "first_password": first, "sessions_ended": ended,
                              "failed_sign_ins_cleared": unlocked or 0})


def _resettable(session, user_id: int) -> tuple[str, str | None]:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("accounts.not_found", user_id=user_id)
    if not user.active:
        raise InputError("accounts.reset_inactive", username=user.username)
    return user.username, user.email

