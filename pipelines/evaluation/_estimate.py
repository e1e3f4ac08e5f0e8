"""A point estimate with its bootstrap confidence interval, and the bootstrap itself.

Every number the workbench reports carries an interval: a reader of a clinical paper needs to
know how much an AUROC of 0.81 could move in another sample of the same size. The interval is a
percentile interval over resamples drawn *within* each outcome class (so every resample has both
classes and the prevalence stays put) and, when a patient contributes several rows, over whole
patients, because rows of one patient are not independent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.errors import EvaluationError
from pipelines.evaluation.progress import tick

__all__ = ["Estimate", "interval_separator", "resample_indices", "bootstrap", "bootstrap_rows", "as_binary_arrays",
           "as_groups"]

MINUS = "\u2212"  # typographic minus: journals want it, and a cell never starts with "-"


@dataclass(frozen=True)
class Estimate:
    """A value with the lower and upper bound of its confidence interval (``nan`` when undefined)."""

    value: float
    lower: float
    upper: float
    level: float = 0.95

    def format(self, digits: int = 2, *, percent: bool = False, lang: str = "en") -> str:
        """``0.81 (0.76 to 0.86)``: the form journals ask for (no dash, which reads as minus). In Korean
        ``0.81 (0.76\u20130.86)`` as the figures print it, ``~`` where a bound is negative
        (:func:`interval_separator`)."""

        def one(v: float) -> str:
            if not math.isfinite(v):
                return "NA"
            text = f"{v * 100:.{max(digits - 2, 0)}f}" if percent else f"{v:.{digits}f}"
            return text.replace("-", MINUS)

        if not math.isfinite(self.lower) or not math.isfinite(self.upper):
            return one(self.value)
        sep = " to " if lang == "en" else interval_separator(min(self.lower, self.value), lang)
        return f"{one(self.value)} ({one(self.lower)}{sep}{one(self.upper)})"


def interval_separator(lowest: float, lang: str) -> str:
    """Between an interval's bounds in the figures (any language) and in Korean text: an en dash, unless
    ``lowest`` (the lower bound or the value) is negative, where a dash would read as a minus sign: then
    ``" to "`` in English and ``" ~ "`` in Korean (the range mark Korean text uses, as in "1~4\uba85")."""
    if lowest < 0:
        return " to " if lang == "en" else " ~ "
    return "\u2013"


def as_binary_arrays(y_true: Sequence | np.ndarray, y_prob: Sequence | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Checked 0/1 labels and probabilities; the first thing every binary metric does."""
    y = np.asarray(y_true)
    p = np.asarray(y_prob, dtype=float)
    if y.ndim != 1 or p.ndim != 1 or len(y) != len(p):
        raise EvaluationError("evaluation.shape_mismatch", n_true=int(np.size(y)), n_pred=int(np.size(p)))
    if len(y) == 0:
        raise EvaluationError("evaluation.empty")
    if not np.all(np.isfinite(p)):
        raise EvaluationError("evaluation.non_finite_predictions", count=int(np.sum(~np.isfinite(p))))
    if np.any(p < 0) or np.any(p > 1):
        raise EvaluationError("evaluation.not_probabilities", low=float(p.min()), high=float(p.max()))
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:  # True and False are 1 and 0
        raise EvaluationError("evaluation.labels_not_binary", labels=sorted(map(str, values))[:5])
    y = y.astype(int)
    if len(set(y.tolist())) < 2:
        raise EvaluationError("evaluation.one_class", label=int(y[0]))
    return y, p


def as_groups(groups: Sequence | np.ndarray | None, n: int) -> np.ndarray | None:
    if groups is None:
        return None
    g = np.asarray(groups)
    if len(g) != n:
        raise EvaluationError("evaluation.groups_length", n_groups=len(g), n_rows=n)
    return g


def _check_resamples(n_resamples: int) -> None:
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 0:
        raise EvaluationError("evaluation.bad_resamples", value=n_resamples)


def resample_indices(
    strata: np.ndarray | None,
    *,
    n: int,
    groups: np.ndarray | None = None,
    n_resamples: int,
    seed: int,
) -> Iterator[np.ndarray]:
    """Row indices of each bootstrap resample.

    Without groups: rows are drawn with replacement separately in every stratum (outcome class),
    so each resample keeps the class counts. With groups (patient IDs): whole patients are drawn,
    stratified by the stratum of their first row (for a binary outcome: whether the patient
    has an event), and all their rows come along.
    """
    _check_resamples(n_resamples)
    rng = np.random.default_rng(seed)
    if groups is None:
        buckets = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
        for _ in range(n_resamples):
            yield np.concatenate([_draw(rng, b) for b in buckets])
            tick()
        return
    codes = np.unique(groups, return_inverse=True)[1]
    order = np.argsort(codes, kind="stable")  # the rows of patient i: order[starts[i]:starts[i] + sizes[i]]
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    if strata is None:
        group_strata = np.zeros(len(starts), dtype=int)
    else:
        # a patient counts as an event patient when any of their rows is positive
        group_strata = np.maximum.reduceat(np.asarray(strata)[order], starts)
    buckets = [np.flatnonzero(group_strata == s) for s in np.unique(group_strata)]
    for _ in range(n_resamples):
        chosen = np.concatenate([_draw(rng, b) for b in buckets])
        yield order[_member_positions(starts[chosen], sizes[chosen])]
        tick()


def _member_positions(first: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(f, f + k) for f, k in zip(first, sizes)])`` without a Python loop."""
    ends = np.cumsum(sizes)
    return np.repeat(first - (ends - sizes), sizes) + np.arange(ends[-1] if len(ends) else 0)


def _draw(rng: np.random.Generator, bucket: np.ndarray) -> np.ndarray:
    """``len(bucket)`` draws with replacement: the numbers ``rng.choice(bucket, len(bucket))`` draws
    (it calls ``rng.integers`` the same way), without its argument checks, which cost more here."""
    return bucket[rng.integers(0, len(bucket), len(bucket))]


def bootstrap(
    statistic: Callable[[np.ndarray], np.ndarray | float],
    *,
    strata: np.ndarray | None,
    n: int,
    groups: np.ndarray | None,
    n_resamples: int,
    seed: int,
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds of ``statistic(indices)`` (a scalar or a vector) over the resamples.

    Resamples where a statistic is undefined (``nan``, e.g. no predicted positives for PPV) are
    left out of that statistic's interval instead of poisoning it.
    """

    def one_at_a_time(stack: np.ndarray) -> np.ndarray:
        return np.vstack([np.atleast_1d(np.asarray(statistic(idx), dtype=float)) for idx in stack])

    return bootstrap_rows(one_at_a_time, strata=strata, n=n, groups=groups, n_resamples=n_resamples, seed=seed,
                          level=level)


STACKED_CELLS = 1_000_000  # resamples x rows handed to a statistic at once: 8 MB per float array, ~110 MB at the peak


def bootstrap_rows(
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    strata: np.ndarray | None,
    n: int,
    groups: np.ndarray | None,
    n_resamples: int,
    seed: int,
    level: float,
    width: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bootstrap` for a statistic that takes a stack of resamples: ``statistic(indices)`` gets
    a 2-D array (resamples x rows) and returns one vector per resample (resamples x values).

    The resamples are :func:`resample_indices`' own, in the same order, so the bounds are those of
    :func:`bootstrap` with the same statistic row by row. Resamples of rows all have ``n`` rows and
    go in stacks of up to :data:`STACKED_CELLS` cells (``width`` values per row: the classes of a
    multiclass outcome); resamples of patients differ in length and go one by one (a stack of one).
    """
    _check_level(level)
    draws = resample_indices(strata, n=n, groups=groups, n_resamples=n_resamples, seed=seed)
    per_stack = 1 if groups is not None else max(1, STACKED_CELLS // max(n * width, 1))
    values = []
    while stack := list(itertools.islice(draws, per_stack)):
        values.append(np.asarray(statistic(np.vstack(stack)), dtype=float))
    if not values:
        width = np.asarray(statistic(np.arange(n)[None, :]), dtype=float).shape[1]
        return _percentiles(np.empty((0, width)), level)
    return _percentiles(np.vstack(values), level)


def _check_level(level: float) -> None:
    if not 0.5 < level < 1:
        raise EvaluationError("evaluation.bad_level", value=level)


def _percentiles(stacked: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds per column of resamples x values, each over its finite values (``nan`` when none)."""
    alpha = (1 - level) / 2
    lower = np.full(stacked.shape[1], np.nan)
    upper = np.full(stacked.shape[1], np.nan)
    with np.errstate(all="ignore"):
        for j in range(stacked.shape[1]):
            column = stacked[:, j]
            column = column[np.isfinite(column)]
            if len(column):
                lower[j], upper[j] = np.quantile(column, [alpha, 1 - alpha])
    return lower, upper
