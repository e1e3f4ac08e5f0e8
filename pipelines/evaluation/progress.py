"""Hearing long evaluations as they run, so they can report progress and be stopped.

The bootstrap calls :func:`tick` after every resample, permutation importance after every
shuffled score. Whoever runs a long evaluation (the ``evaluate`` job) listens to its own
thread's ticks with :func:`listening`; the listener may raise (a cancelled job), which stops the
evaluation between two resamples instead of after a whole curve. Nobody listening costs one
context-variable lookup per tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["listening", "tick"]

_LISTENER: ContextVar[Callable[[], None] | None] = ContextVar("bootstrap_listener", default=None)


@contextmanager
def listening(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` on every tick of this thread inside the block."""
    token = _LISTENER.set(callback)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def tick() -> None:
    listener = _LISTENER.get()
    if listener is not None:
        listener()
