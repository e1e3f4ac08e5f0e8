"""Regression metrics (RMSE, MAE, R^2) with bootstrap CIs, for continuous outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.errors import EvaluationError
from pipelines.evaluation._estimate import Estimate, as_groups, bootstrap_rows

__all__ = ["RegressionMetrics", "regression_metrics"]


@dataclass(frozen=True)
class RegressionMetrics:
    n: int
    rmse: Estimate
    mae: Estimate
    r2: Estimate
    n_resamples: int
    seed: int

    def estimates(self) -> dict[str, Estimate]:
        return {"rmse": self.rmse, "mae": self.mae, "r2": self.r2}


def _metric_rows(Y: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """RMSE, MAE and R^2 of every row (resamples x patients); R^2 is ``nan`` for a constant outcome."""
    err = Q - Y
    ss_tot = np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - np.sum(err**2, axis=1) / ss_tot, np.nan)
    return np.column_stack([np.sqrt(np.mean(err**2, axis=1)), np.mean(np.abs(err), axis=1), r2])


def regression_metrics(
    y_true: Sequence | np.ndarray,
    y_pred: Sequence | np.ndarray,
    *,
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> RegressionMetrics:
    y = np.asarray(y_true, dtype=float)
    q = np.asarray(y_pred, dtype=float)
    if y.ndim != 1 or y.shape != q.shape:
        raise EvaluationError("evaluation.shape_mismatch", n_true=int(y.size), n_pred=int(q.size))
    if len(y) < 2:
        raise EvaluationError("evaluation.empty")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(q))):
        raise EvaluationError("evaluation.non_finite_predictions", count=int(np.sum(~np.isfinite(q)) + np.sum(~np.isfinite(y))))
    g = as_groups(groups, len(y))
    point = _metric_rows(y[None, :], q[None, :])[0]
    lo, hi = bootstrap_rows(lambda idx: _metric_rows(y[idx], q[idx]), strata=None, n=len(y), groups=g,
                            n_resamples=n_resamples, seed=seed, level=level)
    est = [Estimate(float(point[i]), float(lo[i]), float(hi[i]), level) for i in range(3)]
    return RegressionMetrics(len(y), *est, n_resamples=n_resamples, seed=seed)
