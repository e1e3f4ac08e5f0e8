"""Trials on the cluster keep the time budget: their rounds are capped from a timed probe.

A distributed fit cannot be watched round by round from the driver (its rounds run on the
workers) nor stopped half way, so the cap is decided before a trial starts. The first trial of a
family under a time budget is probed with short fits of its own configuration through
``xgboost.dask`` / ``lightgbm.dask``, each fitted and its validation part predicted as the trial
will be (:func:`probe`):

* :data:`~pipelines.automl._schedule.MIN_ROUNDS` rounds first; when the asked rounds fit even with
  all of that fit's seconds counted as rounds, the probe ends there (one short fit: the usual case);
* else one round, the cost of a fit before its rounds (scheduling, each worker building the
  library's data set, LightGBM's network), and then four times more rounds at a time until the
  rounds cost more than that (their pace is then known despite the noise of short fits), until
  half the asked rounds, or until the probe has spent :data:`_PROBE_SPEND` of a fit's share. When
  the rounds never outweighed the fit's own cost, that cost is taken to have been a fifth lower in
  the longer fit (:data:`_STEADY`): the rest counts as rounds, so the cap errs on the short side. A run's first distributed fit pays one-off costs (up to seconds on a loaded
  machine): the first probe's seconds only ever end the probe early, where they err on the safe
  side.

Every completed trial then refines its family's pace (:class:`Paces`).

The rounds that fit are the single-process cap's arithmetic
(:meth:`pipelines.automl._schedule.RoundCap.rounds_within`):

* the run's first trial (no trial has completed: it must finish, a run ends with a model) gets
  the share :meth:`~pipelines.automl._schedule.RoundCap.for_first_trial` gives it, for its one fit
  and its refit on the whole training part;
* a later trial gets what is left after the reserve for the end of the run (shared with the
  trials in flight), for its fit, and its refit too when its family has no completed trial yet;
  when not even :data:`~pipelines.automl._schedule.MIN_ROUNDS` rounds fit it does not run
  (:class:`~pipelines.automl._schedule.OutOfTime`) and no trial starts after it.

A trial whose rounds do not fit is :func:`~pipelines.automl._schedule.shortened` (fewer rounds,
the learning rate raised in proportion) and says so (``time_cut``), exactly as on the
single-process path; the refit uses the same shortened parameters. Without a time budget nothing
is probed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.automl._schedule import MIN_ROUNDS, Clock, OutOfTime, RoundCap, shortened
from pipelines.automl.models import get_family

__all__ = ["Pace", "Paces", "TrialCap", "probe"]

Evaluate = Callable[[str, dict[str, Any]], np.ndarray]
_PROBE_SPEND = 0.15  # of a fit's share of the budget, what the probe may spend before it decides
_STEADY = 0.8  # a fit's own cost (before its rounds) may vary by this much between two fits


@dataclass(frozen=True)
class Pace:
    """Seconds of a distributed fit (and its prediction) of one family: ``before`` its first round,
    then ``per_round``."""

    before: float
    per_round: float

    def seconds(self, rounds: int) -> float:
        return self.before + rounds * self.per_round


def probe(family: str, params: dict[str, Any], evaluate: Evaluate, cap: RoundCap) -> Pace:
    """Time short fits of ``params`` until the pace is known well enough for ``cap`` (see the
    module docstring)."""
    name = get_family(family).rounds_param
    rounds = MIN_ROUNDS
    took = _timed(evaluate, family, {**params, name: rounds}, cap.now)
    if cap.rounds_within(before=0.0, per_round=took / rounds) is None:
        return Pace(0.0, took / rounds)  # even with all of it counted as rounds, the asked rounds fit
    one = _timed(evaluate, family, {**params, name: 1}, cap.now)
    top = max(MIN_ROUNDS, cap.rounds // 2)
    while True:  # at least once: the first fit paid one-off costs, its seconds only ever end the probe early
        rounds = min(4 * rounds, top)
        took = _timed(evaluate, family, {**params, name: rounds}, cap.now)
        if cap.rounds_within(before=0.0, per_round=took / rounds) is None:
            return Pace(0.0, took / rounds)
        if took >= 2 * one or rounds >= top or \
                cap.now() - (cap.started or 0.0) >= _PROBE_SPEND * cap.seconds / cap.fits:
            break
    per_round = (took - one) / (rounds - 1)
    if took < 2 * one:  # the rounds never outweighed the fit's own cost, which varies: say it was lower
        per_round = max(per_round, (took - _STEADY * one) / rounds)
    if per_round <= 0:  # the one-round fit took longer (noise): all of the longer one counts as rounds
        per_round = took / rounds
    return Pace(before=max(0.0, min(one, took) - per_round), per_round=per_round)


def _timed(evaluate: Evaluate, family: str, params: dict[str, Any], now: Callable[[], float]) -> float:
    started = now()
    evaluate(family, params)
    return now() - started


@dataclass
class Paces:
    """Each family's pace: from its probe, then from its completed trials (the median of their
    seconds per round, the probe's cost before the first round kept). Shared by trial threads."""

    probed: dict[str, Pace] = field(default_factory=dict)
    observed: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    probing: threading.Lock = field(default_factory=threading.Lock)  # one probe at a time: a second waits for it

    def get(self, family: str) -> Pace | None:
        with self.lock:
            base = self.probed.get(family)
            seen = self.observed.get(family)
        if base is None or not seen:
            return base
        return Pace(before=base.before, per_round=float(np.median([base.per_round, *seen])))

    def set(self, family: str, pace: Pace) -> None:
        with self.lock:
            self.probed.setdefault(family, pace)

    def observe(self, family: str, rounds: Any, seconds: float) -> None:
        with self.lock:
            base = self.probed.get(family)
            if base is not None and isinstance(rounds, (int, np.integer)) and rounds > 0:
                self.observed.setdefault(family, []).append(max(0.0, seconds - base.before) / int(rounds))


@dataclass
class TrialCap:
    """The cap of one trial: ``first`` (nothing completed yet: it must finish) or a later one with
    ``allowed()`` seconds (what is left after the reserve, shared with the trials in flight);
    ``refit`` when the trial's family has no completed trial, so its refit is not reserved yet."""

    clock: Clock
    paces: Paces
    evaluate: Evaluate
    first: bool
    allowed: Callable[[], float] = lambda: float("inf")
    refit: bool = True
    now: Callable[[], float] = time.perf_counter

    def __call__(self, family: str, params: dict[str, Any], pins: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, list[Any]] | None]:
        """``params`` as the trial may run them, and what was cut (None when nothing was)."""
        name = getattr(get_family(family), "rounds_param", None)
        rounds = params.get(name) if name else None
        if not isinstance(rounds, (int, np.integer)) or rounds <= MIN_ROUNDS:
            return params, None
        fits = 1 + (self.clock.scale() if self.refit else 0.0)
        cap = RoundCap.for_first_trial(self.clock, int(rounds), trial_fits=1, now=self.now) if self.first else \
            RoundCap(seconds=self.allowed(), fits=fits, rounds=int(rounds), now=self.now)
        if cap.seconds <= 0:  # the budget is used: no probe can change the answer
            if not self.first:
                raise OutOfTime()
            return shortened(params, rounds=MIN_ROUNDS, pins=pins, name=name)
        with self.paces.probing:
            pace = self.paces.get(family)
            if pace is None:
                pace = probe(family, params, self.evaluate, cap)
                self.paces.set(family, pace)
        used = cap.rounds_within(before=pace.before, per_round=pace.per_round)
        if used is None:
            return params, None
        if not self.first and pace.seconds(used) * fits > cap.seconds - (cap.now() - (cap.started or 0.0)):
            raise OutOfTime()  # not even the fewest rounds fit before the end's reserve
        return shortened(params, rounds=used, pins=pins, name=name)
