"""The budget clock and the scheduler: which family gets the next trial, and when to stop.

A time budget covers the whole run, the end included: preprocessing on the whole training part,
refitting every family's best configuration (each one is a leaderboard model the run stores) and
the likely ensemble members, ensemble selection and calibration. Every cost the end will pay is
estimated from times measured in this run, and kept in reserve while trials are scheduled:

* the final preprocessing from the mean seconds of fitting it inside a fold, scaled to the whole
  training part (``k / (k - 1)`` times the rows of a fold's training part);
* a refit from the trial's own seconds per fold, scaled the same way;
* ensemble selection from the measured seconds of one pooled out-of-fold score.

A trial starts only when its expected seconds fit in what is left after the reserve. A family not
tried yet is expected to cost what the slowest family tried so far costs, times a rough prior of
how the two compare (defaults on clinical tables: forests and scikit-learn's histogram boosting
are several times slower than a penalised regression); once it has run, its own times are used.
Boosted fits (XGBoost, LightGBM, scikit-learn's histogram boosting) poll the clock between rounds
and forests between batches of trees, and stop at the trial's deadline; a penalised regression is
cut between folds. The first trial of a run always finishes: a run must end with a model.

On a large table the first trial alone (LightGBM's default on 76,000 training rows, a forest's
300 trees) and its refit can cost more than the budget. So, under a time budget, the first trial
of a family with rounds (``rounds_param``: boosting rounds, or a forest's trees) is capped by time
(:class:`RoundCap`): its first fold times its first rounds, extrapolates what its folds and its
refit would take, and when that is more than its share of what is left, the trial restarts with
fewer rounds and, for boosting, a learning rate raised in proportion (``rounds x learning rate``
kept, up to the search space's 0.3). The shortened trial is a complete, valid model; its record
says what was cut (``time_cut``), and its refit uses the same shortened parameters. Without a
time budget nothing is timed, so a trial budget stays reproducible.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pipelines.automl.settings import SearchSettings
from pipelines.errors import JobCancelled

if TYPE_CHECKING:
    from pipelines.automl._trial import Done

__all__ = [
    "ENSEMBLE_POOL",
    "ENSEMBLE_ROUNDS",
    "LARGE_ROWS",
    "MIN_ROUNDS",
    "Clock",
    "OutOfTime",
    "Recap",
    "RoundCap",
    "expected_seconds",
    "family_bests",
    "initial_queue",
    "next_family",
    "refit_seconds",
    "reserve_seconds",
    "shortened",
]

ENSEMBLE_POOL = 20  # trials the greedy ensemble chooses from (the best by out-of-fold score)
ENSEMBLE_ROUNDS = 25
_LIKELY_MEMBERS = 3  # besides each family's best, the best trials kept in reserve as ensemble members
LARGE_ROWS = 20_000  # a training part this large changes which family is tried first
_MARGIN = 1.15  # refits and the final preprocessing run on more rows than the folds measured; be generous
# Seconds per fold of each family's default configuration, relative to each other (measured on
# the heart failure and readmission tables); only used before a family has run in this search.
_RELATIVE_COST = {"linear": 1.0, "lightgbm": 1.0, "xgboost": 2.0, "hist_gb": 6.0, "forest": 15.0}
MIN_ROUNDS = 10  # a time-capped trial keeps at least these boosting rounds
_PROBE_ROUNDS = 10  # rounds of the first fold timed before a cap is decided, at least
_PROBE_SHARE = 0.1  # ... and at least this share of a fold's seconds
_PREDICT_SHARE = 0.15  # predicting a fold and the test part, relative to the rounds' fitting time (LightGBM)
_FIRST_SHARE = 0.9  # of what the end leaves, what the capped first trial and its refit may take: the rest is slack
_MAX_LEARNING_RATE = 0.3  # the top of the boosted families' search spaces


class OutOfTime(Exception):
    """Raised inside a trial (between folds, or from a boosted fit's callback) past its deadline."""


@dataclass
class Clock:
    start: float
    budget: float | None
    stop: Callable[[], bool] | None
    deadline: float | None = None  # the running trial's, on the perf_counter clock
    prep_seconds: float = 0.0  # mean seconds to fit the preprocessor in a fold (measured)
    n_folds: int = 1
    score_times: list[float] = field(default_factory=list)  # seconds of each pooled out-of-fold score
    end: dict[str, float] = field(default_factory=dict)  # measured seconds of the end, by step

    @property
    def score_seconds(self) -> float:
        """Typical seconds of one pooled out-of-fold score (ensemble selection computes hundreds)."""
        return float(np.median(self.score_times)) if self.score_times else 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return math.inf if self.budget is None else self.budget - self.elapsed()

    def poll(self) -> None:
        if self.stop is not None and self.stop():
            raise JobCancelled("training.cancelled")

    def fit_should_stop(self) -> bool:
        """The ``should_stop`` a fit polls: True asks for a cancel; past the trial's deadline the
        fit is cut (:class:`OutOfTime`)."""
        if self.stop is not None and self.stop():
            return True
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise OutOfTime()
        return False

    def scale(self) -> float:
        """Rows of the whole training part over rows of a fold's training part, with a margin."""
        return _MARGIN * self.n_folds / max(1, self.n_folds - 1)


class Recap(Exception):
    """Raised from a boosting callback: the trial restarts with ``rounds`` rounds."""

    def __init__(self, rounds: int) -> None:
        super().__init__(rounds)
        self.rounds = rounds


@dataclass
class RoundCap:
    """Watches the first fold of the first (must-finish) trial, round by round (or batch by batch
    of a forest's trees: ``iteration`` is then the last tree's number).

    Once it has timed at least ``probe`` rounds (:data:`_PROBE_ROUNDS`; fewer for a forest, whose
    trees each cost what many boosting rounds do) and a tenth of a fold's share of ``seconds`` (on
    a small table the first rounds are quicker than the rest: a longer probe
    extrapolates better, and restarting loses little), it knows the seconds before the first round
    (building the library's data set) and per round. A fold of ``k`` rounds is then expected to
    cost ``before + k * per_round * (1 + predicting)``, and the trial ``fits`` such folds (its folds
    plus its refit on the whole training part). When ``rounds`` would not fit in what the probe
    left of ``seconds`` it raises :class:`Recap` with the rounds that do (at least :data:`MIN_ROUNDS`).
    """

    seconds: float
    fits: float
    rounds: int
    now: Callable[[], float] = time.perf_counter
    probe: int = _PROBE_ROUNDS
    started: float | None = None  # set on creation, from ``now``
    first: float | None = None
    decided: bool = False

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.now()

    @classmethod
    def for_first_trial(cls, clock: Clock, rounds: int, probe: int = _PROBE_ROUNDS, trial_fits: int | None = None,
                        now: Callable[[], float] = time.perf_counter) -> RoundCap:
        """The cap of the run's first trial: a share of what is left after the end's fixed part
        (the final preprocessing) goes to its fits (one per fold, or ``trial_fits``) and its refit."""
        free = clock.left() - clock.prep_seconds * clock.scale() - 0.5
        fits = (clock.n_folds if trial_fits is None else trial_fits) + clock.scale()
        return cls(seconds=_FIRST_SHARE * max(0.0, free), fits=fits, rounds=rounds, probe=probe, now=now)

    def __call__(self, iteration: int) -> None:
        if self.decided:
            return
        now = self.now()
        if iteration == 0:
            self.first = now
            return
        if self.first is None or iteration < self.probe - 1:
            return
        per_fold = self.seconds / self.fits
        if now - self.first < _PROBE_SHARE * per_fold:
            return
        self.decided = True
        fitting = self.rounds_within(before=self.first - (self.started or 0.0),
                                     per_round=(now - self.first) / iteration * (1 + _PREDICT_SHARE),
                                     spent=now - (self.started or 0.0))
        if fitting is not None:
            raise Recap(fitting)

    def rounds_within(self, *, before: float, per_round: float, spent: float | None = None) -> int | None:
        """The rounds (at least :data:`MIN_ROUNDS`) that fit when a fit costs ``before`` seconds
        plus ``per_round`` a round, or None when the asked rounds fit. What the probe took (``spent``,
        by default since the cap was created) is lost: the fits share what is left."""
        if spent is None:
            spent = self.now() - (self.started or 0.0)
        per_fit = (self.seconds - spent) / self.fits
        fitting = self.rounds if per_round <= 0 else int((per_fit - before) / per_round)
        return max(MIN_ROUNDS, fitting) if fitting < self.rounds else None


def shortened(params: dict[str, Any], *, rounds: int, pins: dict[str, Any],
              name: str = "n_estimators") -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """``params`` with ``rounds`` rounds (the family's ``name``: boosting rounds, a forest's trees)
    and the learning rate, when there is one, raised in proportion (unless pinned), and what
    changed: ``{name: [asked, used]}``."""
    out = dict(params)
    asked = int(params[name])
    out[name] = rounds
    if "learning_rate" in params and "learning_rate" not in pins:
        rate = float(params["learning_rate"])
        out["learning_rate"] = round(max(rate, min(_MAX_LEARNING_RATE, rate * asked / rounds)), 6)
    return out, {k: [params[k], out[k]] for k in out if out[k] != params.get(k)}


def refit_seconds(done: Done, clock: Clock) -> float:
    return done.fold_seconds * clock.scale()


def family_bests(ranked: list[Done]) -> dict[str, Done]:
    """Each family's best trial, from trials ranked best first."""
    out: dict[str, Done] = {}
    for d in ranked:
        out.setdefault(d.record.family, d)
    return out


def reserve_seconds(done: list[Done], clock: Clock, settings: SearchSettings) -> float:
    """Seconds the end of the run will need if the search stopped now."""
    if not done:
        return 0.0
    ranked = sorted(done, key=lambda d: (-d.score, d.record.number))
    kept = {d.record.number: d for d in [*family_bests(ranked).values(), *ranked[:_LIKELY_MEMBERS]]}
    seconds = clock.prep_seconds * clock.scale() + sum(refit_seconds(d, clock) for d in kept.values())
    if settings.ensemble and len(done) > 1:
        seconds += ENSEMBLE_ROUNDS * min(len(done), ENSEMBLE_POOL) * clock.score_seconds
    if settings.calibration:
        seconds += 4 * (clock.n_folds + 1) * clock.score_seconds
    return seconds + 0.5


def expected_seconds(family: str, trial_seconds: dict[str, list[float]]) -> float:
    own = trial_seconds.get(family) or []
    if own:
        return float(np.median(own))
    guesses = [float(np.median(v)) * _RELATIVE_COST.get(family, 1.0) / _RELATIVE_COST.get(f, 1.0)
               for f, v in trial_seconds.items() if v]
    return max(guesses) if guesses else 0.0


def initial_queue(families: list[str], waiting: dict[str, int], n_rows: int) -> list[str]:
    """Every family's default first (cheap, interpretable first), then the recommended ones.

    On a large training part (:data:`LARGE_ROWS` rows or more) LightGBM's default goes first: the
    first trial always finishes, so it must be cheap and strong, and there a penalised regression
    is neither (median imputation and scaling of every one-hot column cost more than boosting,
    and trees usually win on such tables)."""
    queue = list(families)
    if n_rows >= LARGE_ROWS and "lightgbm" in queue:
        queue.remove("lightgbm")
        queue.insert(0, "lightgbm")
    for name in families:
        queue.extend([name] * (waiting[name] - 1))
    return queue


def next_family(queue: list[str], families: list[str], done: list[Done], trial_seconds: dict[str, list[float]],
                clock: Clock, settings: SearchSettings) -> str | None:
    """The family of the next trial, or None when no trial fits in what the budget leaves."""
    reserve = reserve_seconds(done, clock, settings)
    have_best = {d.record.family for d in done}

    def fits(name: str) -> bool:
        if not done:
            return True
        cost = expected_seconds(name, trial_seconds)
        if name not in have_best:  # its best will be refitted too
            cost *= 1 + clock.scale() / clock.n_folds
        return clock.left() - reserve >= cost

    while queue:
        name = queue.pop(0)
        if fits(name):
            return name
    if not done:
        return None
    best: dict[str, float] = {}
    for d in done:
        best[d.record.family] = max(best.get(d.record.family, -math.inf), d.score)
    tried = sum(len(v) for v in trial_seconds.values())
    spread = (max(best.values()) - min(best.values())) if len(best) > 1 else 0.0
    c = 0.5 * spread + 1e-3 * (abs(max(best.values())) + 1e-3)
    ranked = []
    for name in families:
        n = len(trial_seconds[name])
        if name not in best:  # only failures or prunes so far: give it one more chance late
            value = -math.inf if n >= 3 else min(best.values())
        else:
            value = best[name] + c * math.sqrt(math.log(tried + 1) / n)
        ranked.append((value, -families.index(name), name))
    for value, _, name in sorted(ranked, reverse=True):
        if value > -math.inf and fits(name):
            return name
    return None
