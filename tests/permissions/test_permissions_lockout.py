from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from permissions.clock import FrozenClock
from permissions.lockout import DEFAULT_LOCKOUT, LockoutPolicy, Throttle, login_throttle, require_login_allowed
from pipelines.errors import InputError

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _fail(clock: FrozenClock, failures: list[datetime], count: int, *, every: timedelta = timedelta(0)) -> None:
    for _ in range(count):
        clock.advance(every)
        failures.append(clock())


def test_first_failures_cost_nothing() -> None:
    clock = FrozenClock(START)
    failures: list[datetime] = []
    assert login_throttle(failures, now=clock()) == Throttle(True, 0, False, 0)
    _fail(clock, failures, 4)
    assert login_throttle(failures, now=clock()) == Throttle(True, 0, False, 4)


def test_delay_doubles_after_the_free_attempts_and_is_capped() -> None:
    assert [DEFAULT_LOCKOUT.delay_after(n).total_seconds() for n in range(4, 10)] == [0, 1, 2, 4, 8, 16]
    assert DEFAULT_LOCKOUT.delay_after(15) == timedelta(minutes=15)
    assert DEFAULT_LOCKOUT.delay_after(99) == timedelta(minutes=15)


def test_retry_after_counts_down_with_a_frozen_clock() -> None:
    clock = FrozenClock(START)
    failures: list[datetime] = []
    _fail(clock, failures, 8)  # 8 failures: wait 2**3 = 8 s after the last
    throttle = login_throttle(failures, now=clock())
    assert (throttle.allowed, throttle.retry_after_seconds, throttle.locked) == (False, 8, False)
    clock.advance(seconds=7.5)
    assert login_throttle(failures, now=clock()).retry_after_seconds == 1  # rounded up, never 0 while refused
    clock.advance(seconds=0.5)
    assert login_throttle(failures, now=clock()).allowed


def test_old_failures_are_forgotten_after_the_window() -> None:
    clock = FrozenClock(START)
    failures: list[datetime] = []
    _fail(clock, failures, 20)
    assert not login_throttle(failures, now=clock()).allowed
    clock.advance(hours=24)
    assert login_throttle(failures, now=clock()) == Throttle(True, 0, False, 0)


def test_hard_lock_after_many_failures() -> None:
    clock = FrozenClock(START)
    failures: list[datetime] = []
    _fail(clock, failures, 100, every=timedelta(minutes=1))
    throttle = login_throttle(failures, now=clock.advance(hours=1))
    assert throttle.locked and not throttle.allowed and throttle.recent_failures == 100
    with pytest.raises(InputError) as info:
        require_login_allowed(failures, now=clock())
    assert (info.value.key, info.value.params) == ("auth.lockout.locked", {"failures": 100})


def test_require_login_allowed_says_how_long_to_wait() -> None:
    clock = FrozenClock(START)
    failures: list[datetime] = []
    _fail(clock, failures, 6)
    with pytest.raises(InputError) as info:
        require_login_allowed(failures, now=clock())
    assert (info.value.key, info.value.params) == ("auth.lockout.wait", {"seconds": 2})
    assert require_login_allowed(failures, now=clock.advance(seconds=2)).allowed


def test_future_failures_are_ignored_and_naive_times_refused() -> None:
    assert login_throttle([START + timedelta(hours=1)] * 10, now=START).allowed
    with pytest.raises(ValueError):
        login_throttle([datetime(2026, 3, 1, 7, 0)], now=START)


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        LockoutPolicy(free_attempts=0)
    with pytest.raises(ValueError):
        LockoutPolicy(free_attempts=10, hard_lock_after=10)
    with pytest.raises(ValueError):
        LockoutPolicy(base_delay=timedelta(minutes=30), max_delay=timedelta(minutes=15))
