"""Regression metrics (RMSE, MAE, R^2) with bootstrap CIs, for continuous outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.errors import EvaluationError
from pipelines.evaluation._estimate import Estimate, as_groups, bootstrap

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


def _vector(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    err = q - y
    ss_tot = np.sum((y - y.mean()) ** 2)
    r2 = 1 - np.sum(err**2) / ss_tot if ss_tot > 0 else np.nan
    return np.array([np.sqrt(np.mean(err**2)), np.mean(np.abs(err)), r2])


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
    point = _vector(y, q)
    lo, hi = bootstrap(lambda idx: _vector(y[idx], q[idx]), strata=None, n=len(y), groups=g,
                       n_resamples=n_resamples, seed=seed, level=level)
    est = [Estimate(float(point[i]), float(lo[i]), float(hi[i]), level) for i in range(3)]
    return RegressionMetrics(len(y), *est, n_resamples=n_resamples, seed=seed)
