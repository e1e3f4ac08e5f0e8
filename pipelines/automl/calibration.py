"""Probability calibration chosen by validation, never assumed.

Candidates (none, sigmoid, isotonic) are compared on *cross-fitted* out-of-fold predictions: for
each fold the calibrator is fitted on the other folds' out-of-fold predictions only, so the
comparison is not flattered by fitting and scoring on the same rows. The winner is then refitted
on all out-of-fold predictions and wrapped around the final model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from pipelines.automl.metrics import METRICS, Metric
from pipelines.automl.wrappers import apply_calibration

__all__ = ["CalibrationChoice", "choose_calibration", "fit_calibration"]

METHODS = ("none", "sigmoid", "isotonic")


@dataclass(frozen=True)
class CalibrationChoice:
    method: str  # "none" | "sigmoid" | "isotonic"
    parameters: tuple[dict[str, Any], ...]
    scores: dict[str, float]  # criterion value per method on cross-fitted predictions
    criterion: str
    oof: np.ndarray  # cross-fitted calibrated out-of-fold probabilities of the chosen method


def fit_calibration(proba: np.ndarray, y: np.ndarray, method: str) -> tuple[dict[str, Any], ...]:
    """Calibrator parameters per class column (one for binary)."""
    columns = [1] if proba.shape[1] == 2 else list(range(proba.shape[1]))
    out = []
    for k in columns:
        target = (y == k).astype(float)
        p = proba[:, k]
        if method == "sigmoid":
            z = logit(np.clip(p, 1e-6, 1 - 1e-6)).reshape(-1, 1)
            if len(np.unique(target)) < 2:
                out.append({"slope": 1.0, "intercept": 0.0})
                continue
            lr = LogisticRegression(C=1e4, max_iter=1000).fit(z, target)
            out.append({"slope": float(lr.coef_[0, 0]), "intercept": float(lr.intercept_[0])})
        else:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, target)
            out.append({"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]})
    return tuple(out)


def choose_calibration(*, proba: np.ndarray, y: np.ndarray, fold_of_row: np.ndarray, metric: Metric) -> CalibrationChoice:
    """Pick the method with the best cross-fitted criterion.

    The criterion is the run's metric when it measures probabilities (log loss, Brier), else the
    Brier score, among methods that do not lower the ranking metric (isotonic steps can create
    ties): calibration must not cost discrimination.
    """
    proper = metric.name in ("log_loss", "brier")
    criterion = METRICS[metric.name] if proper else METRICS["brier"]
    candidates: dict[str, np.ndarray] = {"none": proba}
    folds = [f for f in np.unique(fold_of_row) if f >= 0]
    for method in ("sigmoid", "isotonic"):
        crossfit = proba.copy()
        for fold in folds:
            inside = fold_of_row == fold
            params = fit_calibration(proba[~inside], y[~inside], method)
            crossfit[inside] = apply_calibration(proba[inside], method, params)
        candidates[method] = crossfit
    scores = {m: criterion.value(y, p) for m, p in candidates.items()}

    def ranking(pred: np.ndarray) -> float:
        # Fold by fold: each fold has its own calibrator, and pooling folds mapped by different
        # monotone functions would change the ranking even for a sigmoid.
        return float(np.mean([metric.score(y[fold_of_row == f], pred[fold_of_row == f]) for f in folds]))

    base_rank = ranking(proba)
    allowed = [m for m in METHODS if proper or m == "none" or ranking(candidates[m]) >= base_rank - 1e-3]
    best = min(allowed, key=lambda m: (scores[m], METHODS.index(m)))
    params = () if best == "none" else fit_calibration(proba, y, best)
    return CalibrationChoice(best, params, scores, criterion.name, candidates[best])
