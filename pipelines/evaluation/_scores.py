"""Fast metric kernels on plain arrays, called once per bootstrap resample or once per stack of them.

scikit-learn's scorers validate their input on every call, which costs more than the metric
itself when it is called a thousand times per model; these kernels assume checked arrays
(``as_binary_arrays``) and are tested against scikit-learn for equality. The ``*_rows`` kernels
take one resample per row of 2-D arrays (``Y``, ``P``: resamples x patients) and return one value
per row: the bootstrap then asks once per stack of resamples instead of once per resample. The
one-sample kernels of the same names are those row kernels on a single row.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

__all__ = [
    "auroc",
    "auroc_rows",
    "average_precision",
    "average_precision_rows",
    "brier",
    "brier_rows",
    "confusion",
    "confusion_rows",
    "log_loss",
    "log_loss_rows",
    "logistic_recalibration",
    "logistic_recalibration_rows",
    "threshold_metrics",
    "tie_ends",
]

_EPS = 1e-15


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUROC with ties counted half (identical to ``roc_auc_score``)."""
    return float(auroc_rows(y[None, :], p[None, :])[0])


def _tie_bounds(ps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted along axis 1: the first and last position of each entry's group of equal values."""
    m = ps.shape[1]
    position = np.broadcast_to(np.arange(m), ps.shape)
    differs = ps[:, 1:] != ps[:, :-1]
    first = np.maximum.accumulate(np.where(np.c_[np.ones((len(ps), 1), bool), differs], position, 0), axis=1)
    is_last = np.c_[differs, np.ones((len(ps), 1), bool)]
    last = np.minimum.accumulate(np.where(is_last, position, m - 1)[:, ::-1], axis=1)[:, ::-1]
    return first, last


def auroc_rows(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    """AUROC of every row: the positives' rank sum, tied predictions sharing their mean rank (as
    ``scipy.stats.rankdata`` ranks); ``nan`` for a row with one class."""
    n_pos = Y.sum(axis=1)
    n_neg = Y.shape[1] - n_pos
    order = np.argsort(P, axis=1, kind="mergesort")
    first, last = _tie_bounds(np.take_along_axis(P, order, axis=1))
    rank_sum = np.sum((first + last + 2) / 2.0 * np.take_along_axis(Y, order, axis=1), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # one class: 0 / 0
        return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Step-wise area under the PR curve (identical to ``average_precision_score``)."""
    return float(average_precision_rows(y[None, :], p[None, :])[0])


def tie_ends(Y: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row sorted by decreasing prediction: the sorted predictions, the running count of
    positives, and whether each place ends a group of tied predictions (a point of the curves)."""
    order = np.argsort(-P, axis=1, kind="mergesort")
    ps = np.take_along_axis(P, order, axis=1)
    tp = np.cumsum(np.take_along_axis(Y, order, axis=1), axis=1)
    return ps, tp, np.c_[ps[:, 1:] != ps[:, :-1], np.ones((len(ps), 1), bool)]


def average_precision_rows(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Average precision of every row: at the last of each group of tied predictions (from the
    highest), precision times the recall gained since the group before; ``nan`` without positives."""
    n_pos = Y.sum(axis=1)
    ps, tp, is_last = tie_ends(Y, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = tp / n_pos[:, None]
        reached = np.maximum.accumulate(np.where(is_last, recall, 0.0), axis=1)  # recall at the last group end
        before = np.c_[np.zeros((len(ps), 1)), reached[:, :-1]]
        precision = tp / np.arange(1, ps.shape[1] + 1)
        out = np.sum(np.where(is_last, (recall - before) * precision, 0.0), axis=1)
    return np.where(n_pos > 0, out, np.nan)


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(brier_rows(y[None, :], p[None, :])[0])


def brier_rows(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    return np.mean((P - Y) ** 2, axis=1)


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(log_loss_rows(y[None, :], p[None, :])[0])


def log_loss_rows(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    Q = np.clip(P, _EPS, 1 - _EPS)
    return -np.mean(Y * np.log(Q) + (1 - Y) * np.log(1 - Q), axis=1)


def _newton(x: np.ndarray, y: np.ndarray, offset: np.ndarray, start: np.ndarray, n_iter: int = 50) -> np.ndarray:
    """Maximum-likelihood logistic coefficients for design ``x`` plus a fixed offset.

    Any design (external validation's recalibration models); the bootstrap's two recalibrations
    use :func:`logistic_recalibration_rows` instead, on many resamples at once.
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
    slope, intercept = logistic_recalibration_rows(y[None, :], p[None, :])
    return float(slope[0]), float(intercept[0])


_NEWTON_STEPS, _NEWTON_TOL = 50, 1e-9


def logistic_recalibration_rows(Y: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of every row (see :func:`logistic_recalibration`), fitted by Newton's
    method on all rows at once, each started at the calibrated answer and stopped when its own step
    is below 1e-9; a row whose fit is singular or diverges (e.g. perfect separation) gets ``nan``."""
    lp = logit_safe(P)
    yf = Y.astype(float)
    rows = len(lp)
    # the slope: two coefficients, the 2 x 2 Newton system solved in closed form
    a0, b1 = np.zeros(rows), np.ones(rows)
    broken = np.zeros(rows, bool)
    active = np.arange(rows)
    for _ in range(_NEWTON_STEPS):
        if not len(active):
            break
        x = lp[active]
        mu = expit(a0[active, None] + b1[active, None] * x)
        w, r = mu * (1 - mu), yf[active] - mu
        h00, h01, h11 = w.sum(axis=1), (w * x).sum(axis=1), (w * x * x).sum(axis=1)
        g0, g1 = r.sum(axis=1), (r * x).sum(axis=1)
        with np.errstate(all="ignore"):
            det = h00 * h11 - h01 * h01
            step0, step1 = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        a0[active] += step0
        b1[active] += step1
        bad = (det == 0) | ~np.isfinite(a0[active]) | ~np.isfinite(b1[active])
        broken[active[bad]] = True
        active = active[~bad & (np.maximum(np.abs(step0), np.abs(step1)) >= _NEWTON_TOL)]
    slope = np.where(broken, np.nan, b1)
    # the intercept: one coefficient beside the offset logit(p)
    c = np.zeros(rows)
    broken = np.zeros(rows, bool)
    active = np.arange(rows)
    for _ in range(_NEWTON_STEPS):
        if not len(active):
            break
        mu = expit(lp[active] + c[active, None])
        h, g = (mu * (1 - mu)).sum(axis=1), (yf[active] - mu).sum(axis=1)
        with np.errstate(all="ignore"):
            step = g / h
        c[active] += step
        bad = (h == 0) | ~np.isfinite(c[active])
        broken[active[bad]] = True
        active = active[~bad & (np.abs(step) >= _NEWTON_TOL)]
    return slope, np.where(broken, np.nan, c)


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """``(tn, fp, fn, tp)`` with a case called positive when ``p >= threshold``."""
    return tuple(int(count[0]) for count in confusion_rows(y[None, :], p[None, :], threshold))  # type: ignore[return-value]


def confusion_rows(Y: np.ndarray, P: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """``(tn, fp, fn, tp)`` of every row, each an array of counts."""
    pred = P >= threshold
    tp = np.sum(pred & (Y == 1), axis=1)
    fp = np.sum(pred & (Y == 0), axis=1)
    fn = np.sum(~pred & (Y == 1), axis=1)
    return Y.shape[1] - tp - fp - fn, fp, fn, tp


def _ratio(a, b):
    """``a / b``, ``nan`` where ``b`` is 0; scalars give a float, arrays an array."""
    if np.ndim(b) == 0:
        return a / b if b else float("nan")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.full(b.shape, np.nan), where=b != 0)


def threshold_metrics(tn, fp, fn, tp) -> dict[str, float | np.ndarray]:
    """The six measures at a threshold from the confusion counts (numbers, or arrays of them)."""
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
