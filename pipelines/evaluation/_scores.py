"""Fast metric kernels on plain arrays, called once per bootstrap resample.

scikit-learn's scorers validate their input on every call, which costs more than the metric
itself when it is called a thousand times per model; these kernels assume checked arrays
(``as_binary_arrays``) and are tested against scikit-learn for equality.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit
from scipy.stats import rankdata

__all__ = [
    "auroc",
    "average_precision",
    "brier",
    "log_loss",
    "logistic_recalibration",
    "confusion",
    "threshold_metrics",
]

_EPS = 1e-15


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUROC with ties counted half (identical to ``roc_auc_score``)."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Step-wise area under the PR curve (identical to ``average_precision_score``)."""
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ps)), len(ps) - 1]
    tp = np.cumsum(ys)[last_of_tie]
    predicted = last_of_tie + 1
    precision = tp / predicted
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _newton(x: np.ndarray, y: np.ndarray, offset: np.ndarray, start: np.ndarray, n_iter: int = 50) -> np.ndarray:
    """Maximum-likelihood logistic coefficients for design ``x`` plus a fixed offset.

    Started at the perfectly calibrated answer (slope 1, intercept 0), it converges in a few
    steps, which matters inside a thousand bootstrap resamples.
    """
    beta = start.astype(float).copy()
    for _ in range(n_iter):
        mu = expit(x @ beta + offset)
        w = mu * (1 - mu)
        hessian = x.T @ (x * w[:, None])
        gradient = x.T @ (y - mu)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return np.full(x.shape[1], np.nan)
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            return np.full(x.shape[1], np.nan)
        if np.max(np.abs(step)) < 1e-9:
            break
    return beta


def logistic_recalibration(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Calibration slope and calibration-in-the-large intercept (Van Calster et al. 2016).

    The slope comes from ``logit P(y) = a + b * logit(p)``; the intercept from the same model
    with ``b`` fixed at 1 (an offset), so that it measures mean miscalibration only. Ideal: 1, 0.
    """
    lp = logit(np.clip(p, 1e-10, 1 - 1e-10))
    yf = y.astype(float)
    ones = np.ones((len(y), 1))
    slope = _newton(np.column_stack([ones, lp]), yf, np.zeros(len(y)), np.array([0.0, 1.0]))[1]
    intercept = _newton(ones, yf, lp, np.zeros(1))[0]
    return float(slope), float(intercept)


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """``(tn, fp, fn, tp)`` with a case called positive when ``p >= threshold``."""
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = len(y) - tp - fp - fn
    return tn, fp, fn, tp


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def threshold_metrics(tn: int, fp: int, fn: int, tp: int) -> dict[str, float]:
    sens = _ratio(tp, tp + fn)
    spec = _ratio(tn, tn + fp)
    ppv = _ratio(tp, tp + fp)
    npv = _ratio(tn, tn + fn)
    return {
        "sensitivity": sens,
        "specificity": spec,
        "ppv": ppv,
        "npv": npv,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, tn + fp + fn + tp),
    }


def logit_safe(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, 1e-10, 1 - 1e-10))
