"""Server-side sessions: opaque random tokens, of which only a SHA-256 digest is stored.

The browser holds the token; the database holds ``token_digest(token)``. A leaked database
backup therefore contains no usable session. Validity is decided on the server at every request
from the stored state and the time: idle for longer than the idle timeout (30 minutes by
default), older than the absolute timeout (12 hours), or revoked by logout, and the session can
do nothing. Logout sets ``revoked_at``; replaying the token afterwards finds a revoked state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from permissions.clock import ensure_utc
from permissions.policy import Decision
from pipelines.errors import PermissionDenied

__all__ = [
    "TOKEN_BYTES",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_ABSOLUTE_TIMEOUT",
    "IssuedToken",
    "SessionState",
    "new_session_token",
    "token_digest",
    "token_matches",
    "session_valid",
    "require_session",
    "touch",
    "revoke",
]

TOKEN_BYTES = 32  # 256 bits from secrets: unguessable, no need for a slow hash
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)
DEFAULT_ABSOLUTE_TIMEOUT = timedelta(hours=12)


@dataclass(frozen=True)
class IssuedToken:
    """A new session token: ``token`` goes to the browser once, ``digest`` into the database."""

    token: str
    digest: str

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"IssuedToken(token='***', digest={self.digest!r})"


@dataclass(frozen=True)
class SessionState:
    """The stored side of a session (all times UTC)."""

    user_id: int
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "created_at", ensure_utc(self.created_at, name="created_at"))
        object.__setattr__(self, "last_seen_at", ensure_utc(self.last_seen_at, name="last_seen_at"))
        if self.revoked_at is not None:
            object.__setattr__(self, "revoked_at", ensure_utc(self.revoked_at, name="revoked_at"))


def token_digest(token: str) -> str:
    """Hex SHA-256 of the token: what the sessions table stores and looks up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_token() -> IssuedToken:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return IssuedToken(token, token_digest(token))


def token_matches(token: str, digest: str) -> bool:
    """Constant-time comparison of a presented token with a stored digest."""
    return hmac.compare_digest(token_digest(token), digest)


def session_valid(
    state: SessionState | None,
    *,
    now: datetime,
    idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
    absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
) -> Decision:
    """Whether a stored session may act now; the reasons are ``auth.denied.session_*``.

    A session is over exactly at ``created_at + absolute_timeout`` and at
    ``last_seen_at + idle_timeout`` (not a moment later). A state whose times lie in the future is
    refused as invalid rather than trusted: it means a wrong clock or a forged row.
    """
    now = ensure_utc(now, name="now")
    if idle_timeout <= timedelta(0) or absolute_timeout <= timedelta(0):
        raise ValueError("session timeouts must be positive")
    if state is None:
        return Decision(False, "auth.denied.session_missing")
    if state.revoked_at is not None and state.revoked_at <= now:
        return Decision(False, "auth.denied.session_revoked")
    if state.created_at > now or state.last_seen_at > now or state.last_seen_at < state.created_at:
        return Decision(False, "auth.denied.session_invalid")
    if now >= state.created_at + absolute_timeout:
        return Decision(False, "auth.denied.session_expired")
    if now >= state.last_seen_at + idle_timeout:
        return Decision(False, "auth.denied.session_idle")
    return Decision(True, "auth.allowed.session")


def require_session(
    state: SessionState | None,
    *,
    now: datetime,
    idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
    absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
) -> SessionState:
    """Raise ``PermissionDenied`` for a session that is over; otherwise return it touched at ``now``."""
    decision = session_valid(state, now=now, idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
    if not decision.allowed:
        raise PermissionDenied(
            decision.reason_key,
            reason=decision.reason,
            idle_minutes=int(idle_timeout.total_seconds() // 60),
            absolute_hours=round(absolute_timeout.total_seconds() / 3600, 2),
        )
    assert state is not None
    return touch(state, now=now)


def touch(state: SessionState, *, now: datetime) -> SessionState:
    """The state after activity at ``now`` (what the service writes back)."""
    return replace(state, last_seen_at=max(state.last_seen_at, ensure_utc(now, name="now")))


def revoke(state: SessionState, *, now: datetime) -> SessionState:
    """The state after logout; revoking twice keeps the first time."""
    if state.revoked_at is not None:
        return state
    return replace(state, revoked_at=ensure_utc(now, name="now"))
