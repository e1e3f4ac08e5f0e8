"""Median imputation with missingness indicators for the linear family, fitted inside each fold.

It gives the same output as ``SimpleImputer(strategy="median", add_indicator=True,
keep_empty_features=True)`` (tested on real tables with gaps), in a fraction of the time:
scikit-learn computes the median through ``np.ma.median``, about 6 s per fold on the 101,766-row
readmission table's 284 columns, where ``np.nanmedian`` takes under one. The semantics kept:

* the median of each column's observed values; a column with no observed value gets 0 and is
  kept (``keep_empty_features``);
* one indicator column (1.0 where missing) per column that had a missing value at fit time,
  appended after the imputed columns in column order; a column that first misses values at
  transform time is imputed but gets no indicator (``error_on_new=False``);
* output names as scikit-learn's: the input names, then ``missingindicator_<name>``.

Plain NumPy arrays as state, so it is stored through skops (its type is on the persistence
allowlist, ``pipelines.automl.persist.TRUSTED_TYPES``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["MedianImputer"]


class MedianImputer(TransformerMixin, BaseEstimator):
    """Column medians for NaN, plus an indicator for each column that had NaN when fitted."""

    def fit(self, X: Any, y: Any = None) -> MedianImputer:
        X = _matrix(X)
        missing = np.isnan(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: "All-NaN slice"
            medians = np.nanmedian(X, axis=0) if X.shape[0] else np.full(X.shape[1], np.nan)
        self.statistics_ = np.where(np.isnan(medians), 0.0, medians)
        self.indicator_features_ = np.flatnonzero(missing.any(axis=0))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "statistics_")
        X = _matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but MedianImputer is expecting {self.n_features_in_} features as input.")
        missing = np.isnan(X)
        imputed = np.where(missing, self.statistics_, X)
        indicators = missing[:, self.indicator_features_].astype(imputed.dtype)
        return np.hstack([imputed, indicators]) if indicators.shape[1] else imputed

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "statistics_")
        if input_features is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        else:
            names = [str(n) for n in input_features]
            if len(names) != self.n_features_in_:
                raise ValueError("input_features should have length equal to number of features "
                                 f"({self.n_features_in_}), got {len(names)}")
        indicators = [f"missingindicator_{names[i]}" for i in self.indicator_features_]
        return np.asarray(names + indicators, dtype=object)


def _matrix(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X)
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array, got {X.ndim}D")
    if np.isinf(X).any():  # as scikit-learn refuses them: a median cannot stand in for infinity
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    return X
