"""The small scikit-learn-compatible pieces a final model is assembled from.

A final model is always ``Pipeline([("preprocess", ...), ("to_matrix", ToMatrix()), ("model", head)])``
where ``head`` is one fitted estimator, a :class:`WeightedEnsemble` of several, or either of those
wrapped in :class:`CalibratedModel`. Labels are encoded ``0..k-1``; the run keeps the original class
labels in the same order as the probability columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["CalibratedModel", "NativeLightGBM", "ToMatrix", "WeightedEnsemble", "apply_calibration", "predict_matrix",
           "weighted_mean"]


class ToMatrix(TransformerMixin, BaseEstimator):
    """Turns whatever the preprocessor emits into a float64 NumPy matrix.

    Dropping the column names here is deliberate: LightGBM and XGBoost refuse names with ``:``,
    ``[``, ``"`` or ``<``, and hospital exports are full of them. The user's names stay on the
    preprocessor (``get_feature_names_out``) for every output a person reads.
    """

    def fit(self, X: Any, y: Any = None) -> ToMatrix:
        return self

    def transform(self, X: Any) -> np.ndarray:
        if hasattr(X, "toarray"):
            X = X.toarray()
        return np.asarray(X, dtype=np.float64)


def predict_matrix(estimator: Any, X: np.ndarray, task: str) -> np.ndarray:
    """Class probabilities (n x k) for classification, values (n,) for regression."""
    if task == "regression":
        return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1)
    return np.asarray(estimator.predict_proba(X), dtype=np.float64)


class _Head(BaseEstimator):
    task: str

    def __sklearn_is_fitted__(self) -> bool:
        # Heads are assembled from members that are already fitted.
        return True

    def predict(self, X: Any) -> np.ndarray:
        pred = self._predict_matrix(X)
        if self.task == "regression":
            return pred
        return np.argmax(pred, axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.task == "regression":
            raise AttributeError("predict_proba is only defined for classification")
        return self._predict_matrix(X)

    def _predict_matrix(self, X: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class WeightedEnsemble(_Head):
    """A weighted average of fitted members' predictions (greedy ensemble selection's output)."""

    def __init__(self, estimators: Sequence[Any] = (), weights: Sequence[float] = (), task: str = "binary",
                 n_classes: int = 2) -> None:
        self.estimators = estimators
        self.weights = weights
        self.task = task
        self.n_classes = n_classes

    @property
    def classes_(self) -> np.ndarray:
        return np.arange(self.n_classes)

    def fit(self, X: Any, y: Any) -> WeightedEnsemble:
        """Refit every member on new data, keeping the weights chosen by the search."""
        for estimator in self.estimators:
            estimator.fit(X, y)
        return self

    def _predict_matrix(self, X: Any) -> np.ndarray:
        return weighted_mean([predict_matrix(estimator, X, self.task) for estimator in self.estimators], self.weights)


def weighted_mean(predictions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The ensemble's prediction from its members' (what :class:`WeightedEnsemble` predicts)."""
    total = None
    for pred, weight in zip(predictions, weights):
        part = float(weight) * pred
        total = part if total is None else total + part
    return total / float(np.sum(weights))


class CalibratedModel(_Head):
    """Maps a fitted model's probabilities through a calibrator fitted on out-of-fold predictions.

    The calibrator is plain numbers (sigmoid slope/intercept, or isotonic thresholds) per class,
    so it is stored in the manifest rather than as an object.
    """

    def __init__(self, base: Any = None, method: str = "sigmoid", parameters: Sequence[dict[str, Any]] = (),
                 task: str = "binary", n_classes: int = 2) -> None:
        self.base = base
        self.method = method
        self.parameters = parameters
        self.task = task
        self.n_classes = n_classes

    @property
    def classes_(self) -> np.ndarray:
        return np.arange(self.n_classes)

    def fit(self, X: Any, y: Any) -> CalibratedModel:
        """Refit the base model; the calibrator stays (it was fitted on out-of-fold predictions,
        which a single fit cannot produce)."""
        self.base.fit(X, y)
        return self

    def _predict_matrix(self, X: Any) -> np.ndarray:
        return apply_calibration(predict_matrix(self.base, X, self.task), self.method, self.parameters)


def apply_calibration(proba: np.ndarray, method: str, parameters: Sequence[dict[str, Any]]) -> np.ndarray:
    """Calibrate each class column (only the positive one for binary) and renormalise."""
    if proba.shape[1] == 2:
        p1 = _calibrate_column(proba[:, 1], method, parameters[0])
        return np.column_stack([1.0 - p1, p1])
    cols = [_calibrate_column(proba[:, k], method, parameters[k]) for k in range(proba.shape[1])]
    out = np.column_stack(cols)
    sums = out.sum(axis=1, keepdims=True)
    sums[sums <= 0] = 1.0
    return out / sums


def _calibrate_column(p: np.ndarray, method: str, params: dict[str, Any]) -> np.ndarray:
    if method == "sigmoid":
        z = logit(np.clip(p, 1e-6, 1 - 1e-6))
        return expit(params["slope"] * z + params["intercept"])
    return np.interp(p, np.asarray(params["x"], dtype=float), np.asarray(params["y"], dtype=float))


class NativeLightGBM(_Head):
    """A LightGBM model loaded back from its text format (no pickle of the sklearn wrapper)."""

    def __init__(self, booster: Any = None, task: str = "binary", n_classes: int = 2) -> None:
        self.booster = booster
        self.task = task
        self.n_classes = n_classes

    @property
    def classes_(self) -> np.ndarray:
        return np.arange(self.n_classes)

    def fit(self, X: Any, y: Any) -> NativeLightGBM:
        raise TypeError("a LightGBM model loaded from its text file is read-only; train a new run instead")

    def _predict_matrix(self, X: Any) -> np.ndarray:
        raw = np.asarray(self.booster.predict(np.asarray(X, dtype=np.float64)), dtype=np.float64)
        if self.task == "regression":
            return raw.reshape(-1)
        if raw.ndim == 1:
            return np.column_stack([1.0 - raw, raw])
        return raw
