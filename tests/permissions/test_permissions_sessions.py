from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from permissions.clock import FrozenClock
from permissions.sessions import (
    DEFAULT_ABSOLUTE_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    SessionState,
    new_session_token,
    require_session,
    revoke,
    session_valid,
    token_digest,
    token_matches,
    touch,
)
from pipelines.errors import PermissionDenied

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _signed_in(clock: FrozenClock) -> SessionState:
    return SessionState(user_id=4, created_at=clock(), last_seen_at=clock())


def test_tokens_are_random_and_only_their_digest_is_kept() -> None:
    issued = [new_session_token() for _ in range(200)]
    assert len({i.token for i in issued}) == 200
    for item in issued[:5]:
        assert len(item.token) >= 43  # 32 bytes, url-safe base64
        assert item.digest == hashlib.sha256(item.token.encode()).hexdigest() == token_digest(item.token)
        assert item.token not in item.digest and item.token not in repr(item)
        assert token_matches(item.token, item.digest)
        assert not token_matches(item.token + "x", item.digest)


def test_defaults_are_30_minutes_idle_and_12_hours_absolute() -> None:
    assert DEFAULT_IDLE_TIMEOUT == timedelta(minutes=30)
    assert DEFAULT_ABSOLUTE_TIMEOUT == timedelta(hours=12)


def test_idle_timeout_with_a_frozen_clock() -> None:
    clock = FrozenClock(START)
    state = _signed_in(clock)
    clock.advance(minutes=29, seconds=59)
    assert session_valid(state, now=clock()).allowed
    clock.advance(seconds=1)
    decision = session_valid(state, now=clock())
    assert (decision.allowed, decision.reason_key) == (False, "auth.denied.session_idle")


def test_activity_keeps_a_session_alive_until_the_absolute_limit() -> None:
    clock = FrozenClock(START)
    state = _signed_in(clock)
    for _ in range(12 * 3 - 1):  # active every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert session_valid(state, now=clock()).allowed
        state = touch(state, now=clock())
    clock.advance(minutes=19, seconds=59)
    assert session_valid(state, now=clock()).allowed
    clock.advance(seconds=1)  # exactly 12 h after sign-in, 20 min after the last activity
    assert session_valid(state, now=clock()).reason_key == "auth.denied.session_expired"


def test_settings_change_the_timeouts() -> None:
    clock = FrozenClock(START)
    state = _signed_in(clock)
    clock.advance(minutes=10)
    assert not session_valid(state, now=clock(), idle_timeout=timedelta(minutes=10)).allowed
    assert session_valid(state, now=clock(), idle_timeout=timedelta(minutes=11)).allowed
    assert not session_valid(state, now=clock(), absolute_timeout=timedelta(minutes=10)).allowed
    with pytest.raises(ValueError):
        session_valid(state, now=clock(), idle_timeout=timedelta(0))


def test_replaying_a_logged_out_session_fails() -> None:
    clock = FrozenClock(START)
    state = _signed_in(clock)
    clock.advance(minutes=5)
    state = revoke(touch(state, now=clock()), now=clock())
    assert session_valid(state, now=clock()).reason_key == "auth.denied.session_revoked"
    clock.advance(seconds=1)  # a replay a moment later, well within both timeouts
    assert session_valid(state, now=clock()).reason_key == "auth.denied.session_revoked"
    assert revoke(state, now=clock.advance(minutes=1)).revoked_at == START + timedelta(minutes=5)
    with pytest.raises(PermissionDenied) as info:
        require_session(state, now=clock())
    assert info.value.key == "auth.denied.session_revoked"


def test_missing_and_forged_states_are_refused() -> None:
    assert session_valid(None, now=START).reason_key == "auth.denied.session_missing"
    future = SessionState(user_id=1, created_at=START + timedelta(hours=1), last_seen_at=START + timedelta(hours=1))
    assert session_valid(future, now=START).reason_key == "auth.denied.session_invalid"
    backwards = SessionState(user_id=1, created_at=START, last_seen_at=START - timedelta(minutes=1))
    assert session_valid(backwards, now=START).reason_key == "auth.denied.session_invalid"
    with pytest.raises(ValueError):
        SessionState(user_id=1, created_at=datetime(2026, 3, 1), last_seen_at=START)


def test_require_session_touches_and_explains_expiry() -> None:
    clock = FrozenClock(START)
    state = _signed_in(clock)
    clock.advance(minutes=10)
    touched = require_session(state, now=clock())
    assert touched.last_seen_at == clock() and touched.created_at == START
    clock.advance(minutes=45)
    with pytest.raises(PermissionDenied) as info:
        require_session(touched, now=clock())
    assert info.value.key == "auth.denied.session_idle"
    assert info.value.params["idle_minutes"] == 30


def test_touch_never_moves_last_seen_backwards() -> None:
    clock = FrozenClock(START + timedelta(minutes=5))
    state = SessionState(user_id=1, created_at=START, last_seen_at=clock())
    assert touch(state, now=START).last_seen_at == clock()
