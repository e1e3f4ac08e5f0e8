"""Growing delay after failed sign-ins, and a hard lock after very many.

A permanent lock after a handful of failures lets anyone lock a physician out by typing their
user name wrongly five times, so the first answer is a delay that doubles with every failure
beyond a few free ones (1 s, 2 s, 4 s ... capped at 15 minutes). That makes guessing hopeless
(NIST 800-63B asks for at most 100 guesses at full speed) while a user who mistyped waits
seconds. Only after ``hard_lock_after`` failures in a row (100, NIST's limit) is the account locked
until an admin unlocks it. Pure: the service passes the failure times since the last success.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from permissions.clock import ensure_utc
from pipelines.errors import InputError

__all__ = ["LockoutPolicy", "Throttle", "DEFAULT_LOCKOUT", "login_throttle", "require_login_allowed"]


@dataclass(frozen=True)
class LockoutPolicy:
    """How failures slow down sign-in. Failures older than ``window`` are forgotten."""

    free_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    hard_lock_after: int = 100
    window: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.free_attempts < 1 or self.hard_lock_after <= self.free_attempts:
            raise ValueError("need 1 <= free_attempts < hard_lock_after")
        if self.base_delay <= timedelta(0) or self.max_delay < self.base_delay or self.window <= timedelta(0):
            raise ValueError("delays and window must be positive, max_delay >= base_delay")

    def delay_after(self, failures: int) -> timedelta:
        """The wait imposed after ``failures`` consecutive failures."""
        if failures < self.free_attempts:
            return timedelta(0)
        exponent = min(failures - self.free_attempts, 40)  # 2**40 s is far past any cap
        return min(self.base_delay * (2**exponent), self.max_delay)


DEFAULT_LOCKOUT = LockoutPolicy()


@dataclass(frozen=True)
class Throttle:
    """Whether a sign-in attempt may be evaluated now.

    ``locked`` means only an admin can let the account in again; otherwise a refused attempt
    carries ``retry_after_seconds`` (rounded up to whole seconds, for the message).
    """

    allowed: bool
    retry_after_seconds: int
    locked: bool
    recent_failures: int


def login_throttle(
    failures: Iterable[datetime],
    *,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
) -> Throttle:
    """Decide from the times of the failed attempts since the account's last successful sign-in."""
    now = ensure_utc(now, name="now")
    recent = sorted(
        t for t in (ensure_utc(f, name="failure time") for f in failures) if now - policy.window < t <= now
    )
    count = len(recent)
    if count >= policy.hard_lock_after:
        return Throttle(False, 0, True, count)
    if count == 0:
        return Throttle(True, 0, False, 0)
    ready_at = recent[-1] + policy.delay_after(count)
    if now >= ready_at:
        return Throttle(True, 0, False, count)
    wait = ready_at - now
    seconds = int(wait.total_seconds()) + (1 if wait.total_seconds() % 1 else 0)
    return Throttle(False, max(seconds, 1), False, count)


def require_login_allowed(
    failures: Iterable[datetime],
    *,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
) -> Throttle:
    """Raise ``InputError`` (``auth.lockout.wait`` / ``auth.lockout.locked``) when throttled.

    Call it before verifying the password, so a throttled attempt costs no hashing and reveals
    nothing about whether the password was right.
    """
    throttle = login_throttle(failures, now=now, policy=policy)
    if throttle.locked:
        raise InputError("auth.lockout.locked", failures=throttle.recent_failures)
    if not throttle.allowed:
        raise InputError("auth.lockout.wait", seconds=throttle.retry_after_seconds)
    return throttle
