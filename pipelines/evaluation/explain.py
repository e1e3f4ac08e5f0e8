"""Explanations: exact per-patient feature contributions (SHAP values); permutation importance is in
``permutation.py``.

Contributions come from the model libraries themselves instead of the ``shap`` package (which
pulls in numba and lags behind new NumPy releases): XGBoost's ``pred_contribs`` and LightGBM's
``pred_contrib`` compute exact TreeSHAP, and for a linear model the SHAP value of feature j is
exactly ``coef_j * (x_j - mean_j)`` (interventional, independent features). All are on the
model's raw scale (log-odds for classifiers), so they add up to the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import EvaluationError
from pipelines.evaluation.feature_names import learner_input, pipeline_steps

__all__ = ["Contributions", "FeatureImportance", "by_input", "feature_contributions"]


@dataclass(frozen=True)
class Contributions:
    """SHAP values (rows: patients, columns: features) plus what they explain."""

    features: tuple[str, ...]
    values: np.ndarray
    base_value: float
    data: np.ndarray  # the (preprocessed) feature values, to colour a beeswarm or draw dependence
    method: str  # "xgboost_treeshap", "lightgbm_treeshap" or "linear_exact" (+ "+sigmoid" when calibrated)
    inputs: tuple[str, ...] = ()  # the model input each feature comes from ("sex" for "sex = male")

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


def _unwrap(head: Any) -> tuple[Any, list[dict[str, float]]]:
    """The model that makes the raw score inside the workbench's wrappers, and the sigmoid
    calibrations applied after it (outermost last). Says plainly what cannot be broken down."""
    from pipelines.automl.wrappers import CalibratedModel, WeightedEnsemble

    sigmoids: list[dict[str, float]] = []
    while True:
        if isinstance(head, CalibratedModel):
            if head.method != "sigmoid" or len(head.parameters) != 1:
                raise EvaluationError("evaluation.contributions_calibrated", method=str(head.method))
            sigmoids.insert(0, dict(head.parameters[0]))
            head = head.base
        elif isinstance(head, WeightedEnsemble):
            members = [m for m, w in zip(head.estimators, head.weights) if float(w) > 0]
            if len(members) != 1:
                raise EvaluationError("evaluation.contributions_ensemble", n_models=len(members))
            head = members[0]
        else:
            return head, sigmoids


def _raw(estimator: Any, data: np.ndarray) -> tuple[np.ndarray, float, str]:
    """Contributions (rows x columns) and base value on the learner's raw scale."""
    from pipelines.automl.wrappers import NativeLightGBM

    kind = type(estimator).__module__.split(".")[0]
    n_classes = len(getattr(estimator, "classes_", [0, 1]))
    if n_classes > 2:
        raise EvaluationError("evaluation.contributions_multiclass", n_classes=n_classes)
    if kind == "xgboost":
        import xgboost

        booster = estimator.get_booster() if hasattr(estimator, "get_booster") else estimator
        raw = booster.predict(xgboost.DMatrix(data, feature_names=booster.feature_names), pred_contribs=True)
        return raw[:, :-1], float(raw[0, -1]), "xgboost_treeshap"
    if kind == "lightgbm" or isinstance(estimator, NativeLightGBM):
        if isinstance(estimator, NativeLightGBM):
            raw = np.asarray(estimator.booster.predict(data, pred_contrib=True))
        else:
            fitted = getattr(estimator, "feature_names_in_", None)
            frame = pd.DataFrame(data, columns=list(fitted)) if fitted is not None and len(fitted) == data.shape[1] else data
            raw = np.asarray(estimator.predict(frame, pred_contrib=True))
        return raw[:, :-1], float(raw[0, -1]), "lightgbm_treeshap"
    coef = getattr(estimator, "coef_", None)
    if coef is not None and kind == "sklearn":
        w = np.asarray(coef, dtype=float).reshape(-1)
        if w.shape[0] != data.shape[1]:
            raise EvaluationError("evaluation.contributions_unsupported", model=type(estimator).__name__)
        mean = data.mean(axis=0)
        intercept = float(np.ravel(getattr(estimator, "intercept_", 0.0))[0])
        return (data - mean) * w, intercept + float(mean @ w), "linear_exact"
    raise EvaluationError("evaluation.contributions_unsupported", model=type(estimator).__name__)


def feature_contributions(model: Any, X: pd.DataFrame) -> Contributions:
    """Exact contributions for XGBoost, LightGBM and linear models, bare or as the workbench stores
    them (nested pipelines, a one-member ensemble, sigmoid calibration, which is linear on the
    log-odds scale and so rescales the contributions exactly). An ensemble of several models or an
    isotonic calibration has no exact breakdown: the error says so, and permutation importance
    covers those models."""
    steps = pipeline_steps(model)
    core, sigmoids = _unwrap(steps[-1])
    seen = learner_input(model, X, learner=core)
    values, base, method = _raw(seen.learner, seen.data)
    for params in sigmoids:
        values, base = values * params["slope"], base * params["slope"] + params["intercept"]
        method += "+sigmoid"
    return Contributions(seen.names, values, base, seen.data, method, inputs=seen.inputs)


def by_input(contributions: Contributions, row: int) -> dict[str, float]:
    """One patient's contributions summed onto the model's inputs (the one-hot columns of "sex"
    become one factor "sex"), in the order of the learner's columns."""
    totals: dict[str, float] = {}
    owners = contributions.inputs or contributions.features
    for owner, value in zip(owners, np.asarray(contributions.values)[row]):
        totals[owner] = totals.get(owner, 0.0) + float(value)
    return totals
