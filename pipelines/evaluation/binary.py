"""Binary classification metrics with bootstrap confidence intervals, at a chosen threshold.

Discrimination (AUROC, AUPRC), overall accuracy of the probabilities (Brier, log loss) and
calibration (slope, intercept) do not depend on a threshold; sensitivity, specificity, PPV, NPV,
F1 and accuracy do, so the threshold is chosen once on the point sample and then held fixed in
every resample: the interval describes that operating point, not the optimiser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipelines.errors import EvaluationError
from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import Estimate, as_binary_arrays, as_groups, bootstrap_rows

__all__ = [
    "ThresholdRule",
    "ThresholdChoice",
    "ConfusionMatrix",
    "BinaryMetrics",
    "choose_threshold",
    "binary_metrics",
    "THRESHOLD_FREE",
    "AT_THRESHOLD",
]

ThresholdRule = Literal["youden", "sensitivity", "specificity", "fixed"]
THRESHOLD_FREE = ("auroc", "auprc", "brier", "log_loss", "calibration_slope", "calibration_intercept")
AT_THRESHOLD = ("sensitivity", "specificity", "ppv", "npv", "f1", "accuracy")


@dataclass(frozen=True)
class ThresholdChoice:
    """How the operating point was chosen (``target`` is the asked-for sensitivity/specificity)."""

    rule: str
    value: float
    target: float | None = None


@dataclass(frozen=True)
class ConfusionMatrix:
    tn: int
    fp: int
    fn: int
    tp: int

    @property
    def table(self) -> np.ndarray:
        """Rows: observed negative, positive; columns: predicted negative, positive."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])


@dataclass(frozen=True)
class BinaryMetrics:
    n: int
    n_positive: int
    threshold: ThresholdChoice
    confusion: ConfusionMatrix
    auroc: Estimate
    auprc: Estimate
    brier: Estimate
    log_loss: Estimate
    calibration_slope: Estimate
    calibration_intercept: Estimate
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    f1: Estimate
    accuracy: Estimate
    n_resamples: int
    seed: int
    patient_level: bool

    def estimates(self) -> dict[str, Estimate]:
        """Every metric by name, in the order a performance table lists them."""
        return {name: getattr(self, name) for name in THRESHOLD_FREE + AT_THRESHOLD}


def _check_target(target: float | None, rule: str) -> float:
    if target is None or not (0 < float(target) < 1 or (rule == "fixed" and 0 <= float(target) <= 1)):
        raise EvaluationError("evaluation.bad_threshold_target", rule=rule, value=target)
    return float(target)


def choose_threshold(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    rule: ThresholdRule = "youden",
    target: float | None = None,
) -> ThresholdChoice:
    """The probability cut-off above which a patient is called positive.

    ``youden`` maximises sensitivity + specificity - 1; ``sensitivity`` returns the highest
    cut-off that still reaches the target sensitivity (so specificity is as high as it can be);
    ``specificity`` the lowest cut-off that reaches the target specificity; ``fixed`` uses the
    typed-in ``target`` itself.
    """
    if rule not in ("youden", "sensitivity", "specificity", "fixed"):
        raise EvaluationError("evaluation.unknown_threshold_rule", rule=rule, allowed=["youden", "sensitivity", "specificity", "fixed"])
    y, p = as_binary_arrays(y_true, y_prob)
    if rule == "fixed":
        return ThresholdChoice("fixed", _check_target(target, rule), _check_target(target, rule))
    candidates = np.unique(p)[::-1]  # descending: sensitivity rises along the array
    n_pos = y.sum()
    n_neg = len(y) - n_pos
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    # counts of positives/negatives with p >= candidate
    last = np.searchsorted(-ps, -candidates, side="right")
    tp = np.cumsum(ys)[last - 1]
    fp = last - tp
    sens = tp / n_pos
    spec = 1 - fp / n_neg
    if rule == "youden":
        best = int(np.argmax(sens + spec - 1))
        return ThresholdChoice("youden", float(candidates[best]))
    goal = _check_target(target, rule)
    if rule == "sensitivity":
        hit = np.flatnonzero(sens >= goal - 1e-12)
        return ThresholdChoice("sensitivity", float(candidates[hit[0]]), goal)
    # specificity: the lowest cut-off (most sensitive) that still reaches the target
    hit = np.flatnonzero(spec >= goal - 1e-12)
    return ThresholdChoice("specificity", float(candidates[hit[-1]]), goal)


def _metric_rows(Y: np.ndarray, P: np.ndarray, threshold: float) -> np.ndarray:
    """Every metric of every row (resamples x patients): resamples x (THRESHOLD_FREE + AT_THRESHOLD)."""
    slope, intercept = s.logistic_recalibration_rows(Y, P)
    at = s.threshold_metrics(*s.confusion_rows(Y, P, threshold))
    return np.column_stack(
        [s.auroc_rows(Y, P), s.average_precision_rows(Y, P), s.brier_rows(Y, P), s.log_loss_rows(Y, P), slope, intercept]
        + [at[k] for k in AT_THRESHOLD]
    )


def binary_metrics(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    threshold: ThresholdChoice | float | None = None,
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> BinaryMetrics:
    """All binary metrics with percentile CIs from a seeded stratified bootstrap.

    ``threshold`` defaults to Youden's; a bare float is a typed-in threshold. ``groups`` (patient
    IDs) makes the bootstrap draw patients instead of rows.
    """
    y, p = as_binary_arrays(y_true, y_prob)
    g = as_groups(groups, len(y))
    if threshold is None:
        choice = choose_threshold(y, p)
    elif isinstance(threshold, ThresholdChoice):
        choice = threshold
    else:
        choice = ThresholdChoice("fixed", _check_target(float(threshold), "fixed"), float(threshold))
    point = _metric_rows(y[None, :], p[None, :], choice.value)[0]
    lower, upper = bootstrap_rows(
        lambda idx: _metric_rows(y[idx], p[idx], choice.value),
        strata=y,
        n=len(y),
        groups=g,
        n_resamples=n_resamples,
        seed=seed,
        level=level,
    )
    names = THRESHOLD_FREE + AT_THRESHOLD
    est = {
        name: Estimate(float(point[i]), float(lower[i]), float(upper[i]), level)
        for i, name in enumerate(names)
    }
    return BinaryMetrics(
        n=len(y),
        n_positive=int(y.sum()),
        threshold=choice,
        confusion=ConfusionMatrix(*s.confusion(y, p, choice.value)),
        n_resamples=n_resamples,
        seed=seed,
        patient_level=g is not None,
        **est,
    )


