"""ROC, precision-recall, calibration and threshold-performance curves, ready to draw.

Each curve comes with a pointwise 95% band from the same stratified bootstrap as the metrics:
the band is what lets a reader see whether two overlaid curves really differ. A multiclass
outcome gets one-vs-rest ROC and PR curves per class and their macro averages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import beta as beta_dist

from pipelines.errors import EvaluationError
from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import Estimate, as_binary_arrays, as_groups, bootstrap, bootstrap_rows

__all__ = [
    "RocCurve",
    "PrCurve",
    "CalibrationCurve",
    "ThresholdCurve",
    "MulticlassCurves",
    "roc_curve",
    "pr_curve",
    "calibration_curve",
    "threshold_curve",
    "multiclass_curves",
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


def _roc_from_ends(last: np.ndarray, tp: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR from (0, 0) through each tie group's end (``last``: places, ``tp``: positives so far)."""
    fp = last + 1 - tp
    n_pos = tp[-1]
    n_neg = n - n_pos
    fpr = np.concatenate(([0.0], fp / n_neg if n_neg else fp * np.nan))
    tpr = np.concatenate(([0.0], tp / n_pos if n_pos else tp * np.nan))
    return fpr, tpr


def _roc_points(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ps, tp, ends = s.tie_ends(y[None, :], p[None, :])
    last = np.flatnonzero(ends[0])
    return *_roc_from_ends(last, tp[0, last], len(y)), np.r_[np.inf, ps[0, last]]


def _tpr_grid(fpr: np.ndarray, tpr: np.ndarray) -> np.ndarray:
    # right-continuous step: the best TPR reachable at each FPR
    return np.interp(_GRID, fpr, tpr)


def _grid_rows(Y: np.ndarray, P: np.ndarray, curve: Literal["roc", "pr"]) -> np.ndarray:
    """TPR (``roc``) or interpolated precision (``pr``) on the grid for every row: sorted all at
    once, then each row's curve through its own tie groups."""
    _, tp, ends = s.tie_ends(Y, P)
    out = np.empty((len(Y), len(_GRID)))
    for i, row_ends in enumerate(ends):
        last = np.flatnonzero(row_ends)
        if curve == "roc":
            out[i] = _tpr_grid(*_roc_from_ends(last, tp[i, last], Y.shape[1]))
        else:
            out[i] = _precision_grid(*_pr_from_ends(last, tp[i, last]))
    return out


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

    def stats(idx: np.ndarray) -> np.ndarray:  # a stack of resamples: AUROC, then the TPR on the grid
        Y, P = y[idx], p[idx]
        return np.column_stack([s.auroc_rows(Y, P), _grid_rows(Y, P, "roc")])

    lower, upper = bootstrap_rows(stats, strata=y, n=len(y), groups=g, n_resamples=n_resamples, seed=seed, level=level)
    auc = Estimate(s.auroc(y, p), float(lower[0]), float(upper[0]), level)
    return RocCurve(label, fpr, tpr, auc, _GRID.copy(), lower[1:], upper[1:])


def _pr_from_ends(last: np.ndarray, tp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    precision = tp / (last + 1)
    recall = tp / max(tp[-1], 1)
    return np.concatenate(([0.0], recall)), np.concatenate((precision[:1], precision))


def _pr_points(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, tp, ends = s.tie_ends(y[None, :], p[None, :])
    last = np.flatnonzero(ends[0])
    return _pr_from_ends(last, tp[0, last])


def _precision_grid(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
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

    def stats(idx: np.ndarray) -> np.ndarray:  # a stack of resamples: AP, then the precision on the grid
        Y, P = y[idx], p[idx]
        return np.column_stack([s.average_precision_rows(Y, P), _grid_rows(Y, P, "pr")])

    lower, upper = bootstrap_rows(stats, strata=y, n=len(y), groups=g, n_resamples=n_resamples, seed=seed, level=level)
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
    b_lo, b_hi = bootstrap_rows(
        lambda idx: np.column_stack(s.logistic_recalibration_rows(y[idx], p[idx])),
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


@dataclass(frozen=True)
class MulticlassCurves:
    """One-vs-rest ROC and PR curves of every class of a multiclass outcome, and their macro averages.

    The macro ROC is the class TPRs averaged at every false-positive rate, the macro PR the classes'
    interpolated precisions averaged at every recall; their AUROC and AUPRC are the means of the
    class values (scikit-learn's ``average="macro"``). A class without patients in this part has no
    curve (``absent``) and is left out of the averages, as it is in ``MulticlassMetrics``.
    """

    label: str
    classes: tuple[str, ...]  # the classes with a curve, in the model's order
    roc: tuple[RocCurve, ...]
    pr: tuple[PrCurve, ...]
    macro_roc: RocCurve
    macro_pr: PrCurve
    absent: tuple[str, ...] = ()
    suppressed: tuple[str, ...] = ()  # classes left out for a restricted reader (workbench.services._curve_disclosure)


def _step_tpr(fpr: np.ndarray, tpr: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The ROC step function: the best TPR reached at a false-positive rate of at most ``at``."""
    return np.maximum.accumulate(tpr)[np.searchsorted(fpr, at, side="right") - 1]


def _class_statistics(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """AUROC, AP, TPR on the grid and interpolated precision on the grid of one class, from one
    sort (a bootstrap calls this classes x resamples times; the separate kernels sort four times)."""
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.append(np.flatnonzero(np.diff(ps)), len(ps) - 1)
    tp = np.cumsum(ys)[last].astype(float)
    fp = last + 1 - tp
    fpr = np.concatenate(([0.0], fp / fp[-1]))
    tpr = np.concatenate(([0.0], tp / tp[-1]))
    precision = tp / (last + 1)
    recall = np.concatenate(([0.0], tpr[1:]))
    auroc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids: ties count half
    ap = float(np.sum(np.diff(recall) * precision))
    envelope = np.maximum.accumulate(np.concatenate(([precision[0]], precision))[::-1])[::-1]
    at = np.clip(np.searchsorted(recall, _GRID, side="left"), 0, len(recall) - 1)
    return np.concatenate(([auroc, ap], np.interp(_GRID, fpr, tpr), envelope[at]))


def _one_vs_rest(codes: np.ndarray, prob: np.ndarray, present: list[int]) -> np.ndarray:
    """Per present class: AUROC, AP, TPR on the grid, precision on the grid; then their means."""
    rows = []
    for c in present:
        yc = (codes == c).astype(int)
        if 0 < yc.sum() < len(yc):
            rows.append(_class_statistics(yc, prob[:, c]))
        else:  # cannot happen with class-stratified resamples; kept so a statistic is never wrong
            rows.append(np.full(2 + 2 * len(_GRID), np.nan))
    table = np.vstack(rows)
    with np.errstate(all="ignore"):
        return np.concatenate((table.ravel(), np.nanmean(table, axis=0)))


def multiclass_curves(
    y_true: Sequence | np.ndarray,
    y_prob: np.ndarray,
    *,
    classes: Sequence,
    label: str = "",
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> MulticlassCurves:
    """``y_prob`` has one column per entry of ``classes``; bands from one class-stratified bootstrap
    (the resamples of ``multiclass_metrics`` with the same seed, so the intervals agree)."""
    from pipelines.evaluation.multiclass import as_class_codes

    codes, prob, labels = as_class_codes(y_true, y_prob, classes)
    g = as_groups(groups, len(codes))
    present = [c for c in range(len(labels)) if 0 < np.sum(codes == c) < len(codes)]
    if len(present) < 2:
        raise EvaluationError("evaluation.one_class", label=str(labels[int(codes[0])]))
    lower, upper = bootstrap(lambda idx: _one_vs_rest(codes[idx], prob[idx], present), strata=codes, n=len(codes),
                             groups=g, n_resamples=n_resamples, seed=seed, level=level)
    point = _one_vs_rest(codes, prob, present)
    width, m = 2 + 2 * len(_GRID), len(_GRID)

    def block(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return point[i * width:(i + 1) * width], lower[i * width:(i + 1) * width], upper[i * width:(i + 1) * width]

    def estimate(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, j: int) -> Estimate:
        return Estimate(float(v[j]), float(lo[j]), float(hi[j]), level)

    rocs, prs, fprs, tprs = [], [], [], []
    for i, c in enumerate(present):
        v, lo, hi = block(i)
        yc = (codes == c).astype(int)
        fpr, tpr, _ = _roc_points(yc, prob[:, c])
        recall, precision = _pr_points(yc, prob[:, c])
        fprs.append(fpr)
        tprs.append(tpr)
        name = str(labels[c])
        rocs.append(RocCurve(name, fpr, tpr, estimate(v, lo, hi, 0), _GRID.copy(), lo[2:2 + m], hi[2:2 + m]))
        prs.append(PrCurve(name, recall, precision, estimate(v, lo, hi, 1), float(yc.mean()), _GRID.copy(),
                           lo[2 + m:], hi[2 + m:]))
    v, lo, hi = block(len(present))
    at = np.unique(np.concatenate(fprs))
    macro_tpr = np.mean([_step_tpr(f, t, at) for f, t in zip(fprs, tprs)], axis=0)
    macro_roc = RocCurve(label, at, macro_tpr, estimate(v, lo, hi, 0), _GRID.copy(), lo[2:2 + m], hi[2:2 + m])
    macro_pr = PrCurve(label, _GRID.copy(), v[2 + m:], estimate(v, lo, hi, 1), float(np.mean([p.prevalence for p in prs])),
                       _GRID.copy(), lo[2 + m:], hi[2 + m:])
    absent = tuple(str(labels[c]) for c in range(len(labels)) if c not in present)
    return MulticlassCurves(label, tuple(str(labels[c]) for c in present), tuple(rocs), tuple(prs), macro_roc, macro_pr,
                            absent)
