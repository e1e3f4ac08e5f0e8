"""Time for the permission code, passed in rather than read from the wall.

Every decision that depends on time (membership expiry, session timeouts, login delays) takes
``now`` as an argument, so services pass ``clock()`` and tests pass a :class:`FrozenClock` and move
it by hand: expiry is then tested exactly, not by sleeping. All times are timezone-aware UTC,
because a naive datetime from a database driver silently shifts expiry by the server's offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "FrozenClock", "utc_now", "ensure_utc"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock: now, timezone-aware UTC."""
    return datetime.now(UTC)


def ensure_utc(value: datetime, *, name: str = "time") -> datetime:
    """Return ``value`` in UTC; a naive datetime is a programming error, not a user error."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)


class FrozenClock:
    """A clock that stands still until told to move; call it like :func:`utc_now`."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start, name="start")

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, /, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a clock only moves forward")
        self._now += step
        return self._now

    def set(self, value: datetime) -> None:
        self._now = ensure_utc(value, name="now")
