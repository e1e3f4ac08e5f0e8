"""Explanations: exact per-patient feature contributions (SHAP values) and permutation importance.

Contributions come from the model libraries themselves instead of the ``shap`` package (which
pulls in numba and lags behind new NumPy releases): XGBoost's ``pred_contribs`` and LightGBM's
``pred_contrib`` compute exact TreeSHAP, and for a linear model the SHAP value of feature j is
exactly ``coef_j * (x_j - mean_j)`` (interventional, independent features). All are on the
model's raw scale (log-odds for classifiers), so they add up to the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import EvaluationError

__all__ = ["Contributions", "FeatureImportance", "feature_contributions", "permutation_importance"]


@dataclass(frozen=True)
class Contributions:
    """SHAP values (rows: patients, columns: features) plus what they explain."""

    features: tuple[str, ...]
    values: np.ndarray
    base_value: float
    data: np.ndarray  # the (preprocessed) feature values, to colour a beeswarm or draw dependence
    method: str  # "xgboost_treeshap", "lightgbm_treeshap" or "linear_exact"

    def mean_abs(self) -> np.ndarray:
        """Mean |SHAP| per feature: the global importance a summary plot ranks by."""
        return np.abs(self.values).mean(axis=0)


@dataclass(frozen=True)
class FeatureImportance:
    """Drop in ``metric`` when a feature is shuffled; ``lower``/``upper`` span the repeats (2.5-97.5%)."""

    features: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    metric: str
    n_repeats: int


def _split_pipeline(model: Any, X: pd.DataFrame) -> tuple[Any, np.ndarray, list[str]]:
    """The final estimator, X as it reaches it, and the names of those columns."""
    names = [str(c) for c in X.columns]
    data: Any = X
    steps = getattr(model, "steps", None)
    if steps:
        head = model[:-1]
        data = head.transform(X)
        try:
            names = [str(n) for n in head.get_feature_names_out()]
        except (AttributeError, ValueError):
            names = [f"x{i}" for i in range(np.shape(data)[1])]
        model = model[-1]
    if hasattr(data, "toarray"):
        data = data.toarray()
    return model, np.asarray(data, dtype=float), names


def feature_contributions(model: Any, X: pd.DataFrame) -> Contributions:
    """Exact contributions for XGBoost, LightGBM and linear models (optionally inside a Pipeline)."""
    estimator, data, names = _split_pipeline(model, X)
    kind = type(estimator).__module__.split(".")[0]
    n_classes = len(getattr(estimator, "classes_", [0, 1]))
    if n_classes > 2:
        raise EvaluationError("evaluation.contributions_multiclass", n_classes=n_classes)
    if kind == "xgboost":
        import xgboost

        booster = estimator.get_booster() if hasattr(estimator, "get_booster") else estimator
        raw = booster.predict(xgboost.DMatrix(data, feature_names=booster.feature_names), pred_contribs=True)
        return Contributions(tuple(names), raw[:, :-1], float(raw[0, -1]), data, "xgboost_treeshap")
    if kind == "lightgbm":
        fitted_names = getattr(estimator, "feature_names_in_", None)
        frame = pd.DataFrame(data, columns=list(fitted_names)) if fitted_names is not None and len(fitted_names) == data.shape[1] else data
        raw = np.asarray(estimator.predict(frame, pred_contrib=True))
        return Contributions(tuple(names), raw[:, :-1], float(raw[0, -1]), data, "lightgbm_treeshap")
    coef = getattr(estimator, "coef_", None)
    if coef is not None and kind == "sklearn":
        w = np.asarray(coef, dtype=float).reshape(-1)
        if w.shape[0] != data.shape[1]:
            raise EvaluationError("evaluation.contributions_unsupported", model=type(estimator).__name__)
        mean = data.mean(axis=0)
        intercept = float(np.ravel(getattr(estimator, "intercept_", 0.0))[0])
        return Contributions(tuple(names), (data - mean) * w, intercept + float(mean @ w), data, "linear_exact")
    raise EvaluationError("evaluation.contributions_unsupported", model=type(estimator).__name__)


def permutation_importance(
    model: Any,
    X: pd.DataFrame,
    y: Sequence | np.ndarray,
    *,
    metric: str = "roc_auc",
    n_repeats: int = 10,
    seed: int = 0,
) -> FeatureImportance:
    """Model-agnostic importance on held-out data; works for every model family, unlike SHAP."""
    from sklearn.inspection import permutation_importance as _sk_permutation
    from sklearn.metrics import get_scorer_names

    if metric not in get_scorer_names():
        raise EvaluationError("evaluation.unknown_metric", metric=metric, allowed=["roc_auc", "average_precision", "neg_brier_score", "r2", "neg_root_mean_squared_error"])
    if n_repeats < 2:
        raise EvaluationError("evaluation.bad_repeats", value=n_repeats)
    result = _sk_permutation(model, X, np.asarray(y), scoring=metric, n_repeats=n_repeats, random_state=seed, n_jobs=1)
    raw = result.importances
    return FeatureImportance(
        features=tuple(str(c) for c in X.columns),
        mean=result.importances_mean,
        std=result.importances_std,
        lower=np.percentile(raw, 2.5, axis=1),
        upper=np.percentile(raw, 97.5, axis=1),
        metric=metric,
        n_repeats=n_repeats,
    )
