"""ROC, precision-recall, calibration and threshold-performance curves, ready to draw.

Each curve comes with a pointwise 95% band from the same stratified bootstrap as the metrics:
the band is what lets a reader see whether two overlaid curves really differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import beta as beta_dist

from pipelines.errors import EvaluationError
from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import Estimate, as_binary_arrays, as_groups, bootstrap

__all__ = [
    "RocCurve",
    "PrCurve",
    "CalibrationCurve",
    "ThresholdCurve",
    "roc_curve",
    "pr_curve",
    "calibration_curve",
    "threshold_curve",
]

_GRID = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class RocCurve:
    label: str
    fpr: np.ndarray
    tpr: np.ndarray
    auroc: Estimate
    grid: np.ndarray  # false-positive rates at which the band is given
    tpr_lower: np.ndarray
    tpr_upper: np.ndarray


@dataclass(frozen=True)
class PrCurve:
    label: str
    recall: np.ndarray
    precision: np.ndarray
    auprc: Estimate
    prevalence: float
    grid: np.ndarray  # recalls at which the band is given
    precision_lower: np.ndarray
    precision_upper: np.ndarray


@dataclass(frozen=True)
class CalibrationCurve:
    """Observed event rate per bin of predicted risk, with exact (Clopper-Pearson) 95% CIs."""

    label: str
    strategy: str
    predicted: np.ndarray  # mean predicted risk per bin
    observed: np.ndarray
    observed_lower: np.ndarray
    observed_upper: np.ndarray
    counts: np.ndarray
    slope: Estimate
    intercept: Estimate
    histogram_edges: np.ndarray
    histogram_events: np.ndarray  # predictions of patients with the outcome, per histogram bin
    histogram_non_events: np.ndarray


@dataclass(frozen=True)
class ThresholdCurve:
    label: str
    thresholds: np.ndarray
    sensitivity: np.ndarray
    specificity: np.ndarray
    ppv: np.ndarray
    npv: np.ndarray
    fraction_positive: np.ndarray  # share of patients flagged at each threshold


def _roc_points(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(ps)), len(ps) - 1]
    tp = np.cumsum(ys)[last]
    fp = last + 1 - tp
    n_pos, n_neg = ys.sum(), len(ys) - ys.sum()
    fpr = np.r_[0.0, fp / n_neg] if n_neg else np.r_[0.0, fp * np.nan]
    tpr = np.r_[0.0, tp / n_pos] if n_pos else np.r_[0.0, tp * np.nan]
    return fpr, tpr, np.r_[np.inf, ps[last]]


def _tpr_on_grid(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    fpr, tpr, _ = _roc_points(y, p)
    # right-continuous step: the best TPR reachable at each FPR
    return np.interp(_GRID, fpr, tpr)


def roc_curve(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    label: str = "",
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> RocCurve:
    y, p = as_binary_arrays(y_true, y_prob)
    g = as_groups(groups, len(y))
    fpr, tpr, _ = _roc_points(y, p)
    stats = lambda idx: np.r_[s.auroc(y[idx], p[idx]), _tpr_on_grid(y[idx], p[idx])]  # noqa: E731
    lower, upper = bootstrap(stats, strata=y, n=len(y), groups=g, n_resamples=n_resamples, seed=seed, level=level)
    auc = Estimate(s.auroc(y, p), float(lower[0]), float(upper[0]), level)
    return RocCurve(label, fpr, tpr, auc, _GRID.copy(), lower[1:], upper[1:])


def _pr_points(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(ps)), len(ps) - 1]
    tp = np.cumsum(ys)[last]
    precision = tp / (last + 1)
    recall = tp / max(ys.sum(), 1)
    return np.r_[0.0, recall], np.r_[precision[0], precision]


def _precision_on_grid(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    recall, precision = _pr_points(y, p)
    # interpolated precision (the maximum precision at any recall >= r), the usual PR envelope
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.clip(np.searchsorted(recall, _GRID, side="left"), 0, len(recall) - 1)
    return envelope[idx]


def pr_curve(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    label: str = "",
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> PrCurve:
    y, p = as_binary_arrays(y_true, y_prob)
    g = as_groups(groups, len(y))
    recall, precision = _pr_points(y, p)
    stats = lambda idx: np.r_[s.average_precision(y[idx], p[idx]), _precision_on_grid(y[idx], p[idx])]  # noqa: E731
    lower, upper = bootstrap(stats, strata=y, n=len(y), groups=g, n_resamples=n_resamples, seed=seed, level=level)
    ap = Estimate(s.average_precision(y, p), float(lower[0]), float(upper[0]), level)
    return PrCurve(label, recall, precision, ap, float(y.mean()), _GRID.copy(), lower[1:], upper[1:])


def _clopper_pearson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    with np.errstate(all="ignore"):
        lo = np.where(k > 0, beta_dist.ppf(alpha / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, beta_dist.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    return lo, hi


def calibration_curve(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    label: str = "",
    n_bins: int = 10,
    strategy: Literal["quantile", "uniform"] = "quantile",
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> CalibrationCurve:
    """Binned calibration: quantile bins by default so every point rests on the same number of patients."""
    y, p = as_binary_arrays(y_true, y_prob)
    g = as_groups(groups, len(y))
    if not isinstance(n_bins, int) or n_bins < 2:
        raise EvaluationError("evaluation.bad_bins", value=n_bins)
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        raise EvaluationError("evaluation.bad_bin_strategy", value=strategy, allowed=["quantile", "uniform"])
    which = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, len(edges) - 2)
    counts = np.bincount(which, minlength=len(edges) - 1)
    events = np.bincount(which, weights=y, minlength=len(edges) - 1)
    sums = np.bincount(which, weights=p, minlength=len(edges) - 1)
    keep = counts > 0
    counts, events, sums = counts[keep], events[keep], sums[keep]
    lo, hi = _clopper_pearson(events, counts, level)
    slope, intercept = s.logistic_recalibration(y, p)
    b_lo, b_hi = bootstrap(
        lambda idx: np.array(s.logistic_recalibration(y[idx], p[idx])),
        strata=y, n=len(y), groups=g, n_resamples=n_resamples, seed=seed, level=level,
    )
    h_edges = np.linspace(0, 1, 41)
    return CalibrationCurve(
        label=label,
        strategy=strategy,
        predicted=sums / counts,
        observed=events / counts,
        observed_lower=lo,
        observed_upper=hi,
        counts=counts.astype(int),
        slope=Estimate(slope, float(b_lo[0]), float(b_hi[0]), level),
        intercept=Estimate(intercept, float(b_lo[1]), float(b_hi[1]), level),
        histogram_edges=h_edges,
        histogram_events=np.histogram(p[y == 1], bins=h_edges)[0],
        histogram_non_events=np.histogram(p[y == 0], bins=h_edges)[0],
    )


def threshold_curve(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    label: str = "",
    thresholds: Sequence[float] | np.ndarray | None = None,
) -> ThresholdCurve:
    """Sensitivity, specificity, PPV and NPV across cut-offs: the picture behind choosing one."""
    y, p = as_binary_arrays(y_true, y_prob)
    t = np.linspace(0.01, 0.99, 99) if thresholds is None else np.asarray(thresholds, dtype=float)
    rows = [s.threshold_metrics(*s.confusion(y, p, float(v))) for v in t]
    return ThresholdCurve(
        label=label,
        thresholds=t,
        sensitivity=np.array([r["sensitivity"] for r in rows]),
        specificity=np.array([r["specificity"] for r in rows]),
        ppv=np.array([r["ppv"] for r in rows]),
        npv=np.array([r["npv"] for r in rows]),
        fraction_positive=np.array([np.mean(p >= v) for v in t]),
    )
