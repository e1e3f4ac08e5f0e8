"""The scikit-learn transformers that model-level recipe steps compile into.

They take and return DataFrames (so later steps can address columns by name) until the last one,
which hands the model a float matrix. Every fitted attribute is a plain list or dict of plain
values (or a scikit-learn estimator), so ``skops.io`` can save them without pickle; their fully
qualified names are listed in ``pipelines.recipe.TRUSTED_TYPES``.

Columns are chosen at fit time by kind when a step names none: float columns are numeric and
object columns are categorical, which ``FrameCoercer`` guarantees at the start of the pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold

__all__ = [
    "FrameCoercer",
    "FrameImputer",
    "QuantileClipper",
    "FrameScaler",
    "SignedLog",
    "RareCategoryGrouper",
    "CategoryEncoder",
    "FloatMatrix",
]


def _numeric_columns(X: pd.DataFrame) -> list[str]:
    return [str(c) for c in X.columns if X[c].dtype == "float64"]


def _categorical_columns(X: pd.DataFrame) -> list[str]:
    # pandas 3 may store the labels as its string dtype instead of object: anything not float is a label
    return [str(c) for c in X.columns if X[c].dtype != "float64"]


def _is_flag(values: pd.Series) -> bool:
    observed = values.dropna().unique()
    return len(observed) > 0 and set(observed.tolist()) <= {0.0, 1.0}


class _FrameStep(TransformerMixin, BaseEstimator):
    """Shared plumbing: resolve ``columns`` (None = every column of the step's kind) at fit time."""

    _select = "numeric"

    def _resolve(self, X: pd.DataFrame) -> list[str]:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("recipe transformers expect a DataFrame")
        self.feature_names_in_ = [str(c) for c in X.columns]
        self.n_features_in_ = X.shape[1]
        if self.columns:
            wanted = [str(c) for c in self.columns]
            chosen = _numeric_columns(X) if self._select == "numeric" else _categorical_columns(X)
            return [c for c in wanted if c in chosen]
        if self._select == "numeric":
            # 0/1 columns (flags, missing indicators, one-hot dummies) are left as they are:
            # clipping or scaling them only makes the coefficients harder to read
            return [c for c in _numeric_columns(X) if not _is_flag(X[c])]
        return _categorical_columns(X)


class FrameCoercer(TransformerMixin, BaseEstimator):
    """Give every column a fixed representation: numbers as float64 (booleans 0/1, dates as days
    since 1970), categories as Python strings in an object column with NaN for missing."""

    def __init__(self, numeric: list[str] | None = None, categorical: list[str] | None = None) -> None:
        self.numeric = numeric
        self.categorical = categorical

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameCoercer:
        self.feature_names_in_ = [str(c) for c in X.columns]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for col in list(self.numeric or []) + list(self.categorical or []):
            s = X[col]
            if col in (self.numeric or []):
                if pd.api.types.is_datetime64_any_dtype(s.dtype):
                    days = (s - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400.0
                    out[col] = days.to_numpy(dtype="float64", na_value=np.nan)
                else:
                    out[col] = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
            else:
                values = s.astype(object).to_numpy()
                mask = pd.isna(s).to_numpy()
                out[col] = np.array([np.nan if m else _label(v) for v, m in zip(values, mask)], dtype=object)
        return pd.DataFrame(out, index=X.index)


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


class FrameImputer(_FrameStep):
    """Median/mean (or iterative) for numbers, most frequent or a constant label for categories,
    optionally with a 0/1 indicator column per column that had missing values in the fit data."""

    _select = "any"

    def __init__(self, numeric: str = "median", categorical: str = "most_frequent",
                 add_indicator: bool = True, columns: list[str] | None = None, random_state: int = 0) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.add_indicator = add_indicator
        self.columns = columns
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameImputer:
        self.feature_names_in_ = [str(c) for c in X.columns]
        self.n_features_in_ = X.shape[1]
        wanted = set(self.columns) if self.columns else None
        num = [c for c in _numeric_columns(X) if wanted is None or c in wanted]
        cat = [c for c in _categorical_columns(X) if wanted is None or c in wanted]
        self.numeric_columns_ = num
        self.categorical_columns_ = cat
        self.fill_values_: dict[str, Any] = {}
        for c in num:
            values = X[c].to_numpy(dtype="float64")
            ok = values[~np.isnan(values)]
            if ok.size == 0:
                fill = 0.0
            elif self.numeric == "mean":
                fill = float(ok.mean())
            else:
                fill = float(np.median(ok))
            self.fill_values_[c] = fill
        for c in cat:
            s = X[c].dropna()
            if self.categorical == "constant" or s.empty:
                self.fill_values_[c] = "missing"
            else:
                counts = s.value_counts()
                top = counts[counts == counts.max()].index
                self.fill_values_[c] = str(sorted(map(str, top))[0])
        self.indicator_columns_ = [c for c in num + cat if self.add_indicator and X[c].isna().any()]
        self.iterative_ = None
        if self.numeric == "iterative" and num:
            from sklearn.experimental import enable_iterative_imputer  # noqa: F401
            from sklearn.impute import IterativeImputer

            imputer = IterativeImputer(max_iter=10, random_state=self.random_state, keep_empty_features=True)
            imputer.fit(np.array(X[num].to_numpy(dtype="float64"), copy=True))
            self.iterative_ = imputer
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        if self.iterative_ is not None:
            filled = self.iterative_.transform(np.array(X[self.numeric_columns_].to_numpy(dtype="float64"), copy=True))
            for i, c in enumerate(self.numeric_columns_):
                out[c] = filled[:, i]
        else:
            for c in self.numeric_columns_:
                out[c] = X[c].fillna(self.fill_values_[c]).astype("float64")
        for c in self.categorical_columns_:
            col = X[c].astype(object).copy()
            col[pd.isna(col)] = self.fill_values_[c]
            out[c] = col
        indicators = {f"{c}__missing": X[c].isna().astype("float64").to_numpy() for c in self.indicator_columns_}
        return pd.concat([out, pd.DataFrame(indicators, index=X.index)], axis=1) if indicators else out


class QuantileClipper(_FrameStep):
    """Clip numbers to the fit data's ``lower``/``upper`` quantiles (winsorising)."""

    def __init__(self, lower: float = 0.01, upper: float = 0.99, columns: list[str] | None = None) -> None:
        self.lower = lower
        self.upper = upper
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> QuantileClipper:
        cols = self._resolve(X)
        self.bounds_: dict[str, list[float]] = {}
        for c in cols:
            v = X[c].to_numpy(dtype="float64")
            v = v[~np.isnan(v)]
            if v.size:
                self.bounds_[c] = [float(np.quantile(v, self.lower)), float(np.quantile(v, self.upper))]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for c, (lo, hi) in self.bounds_.items():
            out[c] = X[c].clip(lower=lo, upper=hi)
        return out


class FrameScaler(_FrameStep):
    """Standard (mean/SD), robust (median/IQR) or min-max scaling; constant columns are only centred."""

    def __init__(self, method: str = "standard", columns: list[str] | None = None) -> None:
        self.method = method
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameScaler:
        cols = self._resolve(X)
        self.center_: dict[str, float] = {}
        self.scale_: dict[str, float] = {}
        for c in cols:
            v = X[c].to_numpy(dtype="float64")
            v = v[~np.isnan(v)]
            if v.size == 0:
                center, scale = 0.0, 1.0
            elif self.method == "robust":
                q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
                center, scale = float(med), float(q3 - q1)
            elif self.method == "minmax":
                center, scale = float(v.min()), float(v.max() - v.min())
            else:
                center, scale = float(v.mean()), float(v.std())
            self.center_[c] = center
            self.scale_[c] = scale if scale > 0 else 1.0
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for c in self.center_:
            out[c] = (X[c] - self.center_[c]) / self.scale_[c]
        return out


class SignedLog(_FrameStep):
    """``sign(x) * log(1 + |x|)``: the log transform for skewed labs that is defined at 0 and below."""

    def __init__(self, columns: list[str] | None = None) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> SignedLog:
        self.columns_ = self._resolve(X)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for c in self.columns_:
            v = X[c].to_numpy(dtype="float64")
            out[c] = np.sign(v) * np.log1p(np.abs(v))
        return out


class RareCategoryGrouper(_FrameStep):
    """Labels seen in fewer than ``min_fraction`` of the fit rows (or never) become ``label``."""

    _select = "categorical"

    def __init__(self, min_fraction: float = 0.01, label: str = "Other", columns: list[str] | None = None) -> None:
        self.min_fraction = min_fraction
        self.label = label
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> RareCategoryGrouper:
        cols = self._resolve(X)
        self.keep_: dict[str, list[str]] = {}
        for c in cols:
            freq = X[c].dropna().value_counts(normalize=True)
            self.keep_[c] = sorted(str(k) for k, f in freq.items() if f >= self.min_fraction)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for c, keep in self.keep_.items():
            kept = set(keep)
            col = X[c].astype(object)
            out[c] = np.array([v if (pd.isna(v) or v in kept) else self.label for v in col], dtype=object)
        return out


class CategoryEncoder(_FrameStep):
    """One-hot, ordinal or target (mean outcome per label, smoothed) encoding of categories.

    Target encoding cross-fits inside ``fit_transform`` (5 internal folds), so the training rows'
    own outcomes are not copied into their features; ``transform`` uses the full fit.
    """

    _select = "categorical"

    def __init__(self, method: str = "onehot", columns: list[str] | None = None,
                 orders: dict[str, list[str]] | None = None, smoothing: float = 10.0,
                 random_state: int = 0) -> None:
        self.method = method
        self.columns = columns
        self.orders = orders
        self.smoothing = smoothing
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any = None) -> CategoryEncoder:
        self.columns_ = self._resolve(X)
        self.categories_: dict[str, list[str]] = {}
        for c in self.columns_:
            seen = sorted(set(X[c].dropna().astype(str)), key=_natural)
            order = (self.orders or {}).get(c)
            if order:
                seen = [str(v) for v in order] + [v for v in seen if v not in set(map(str, order))]
            self.categories_[c] = seen
        if self.method == "target":
            if y is None:
                raise ValueError("target encoding needs the outcome")
            self._fit_target(X, np.asarray(y))
        return self

    def _fit_target(self, X: pd.DataFrame, y: np.ndarray) -> None:
        y_series = pd.Series(y)
        if y_series.dtype.kind in "fiub" and y_series.nunique() <= 2:
            classes: list[Any] = [None]
            Y = {None: y_series.astype("float64").to_numpy()}
        elif y_series.dtype.kind in "fiu" and y_series.nunique() > 20:
            classes = [None]
            Y = {None: y_series.astype("float64").to_numpy()}
        else:
            classes = sorted(y_series.unique().tolist(), key=str)
            Y = {k: (y_series == k).astype("float64").to_numpy() for k in classes}
        self.target_classes_ = [None if k is None else _label(k) for k in classes]
        self.prior_: dict[str, float] = {}
        self.means_: dict[str, dict[str, float]] = {}
        for k, name in zip(classes, self.target_classes_):
            yk = Y[k]
            prior = float(yk.mean())
            self.prior_[str(name)] = prior
            for c in self.columns_:
                self.means_[f"{c}\x1f{name}"] = _smoothed_means(X[c], yk, prior, self.smoothing)

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        self.fit(X, y)
        if self.method != "target" or len(X) < 10:
            return self.transform(X)
        y_arr = np.asarray(y)
        result = self.transform(X)
        kfold = KFold(n_splits=5, shuffle=True, random_state=self.random_state)
        for fit_idx, enc_idx in kfold.split(X):
            part = CategoryEncoder(method="target", columns=self.columns, orders=self.orders,
                                   smoothing=self.smoothing, random_state=self.random_state)
            part.fit(X.iloc[fit_idx], y_arr[fit_idx])
            part.columns_ = self.columns_
            encoded = part.transform(X.iloc[enc_idx])
            for col in self._target_names():
                result.iloc[enc_idx, result.columns.get_loc(col)] = encoded[col].to_numpy()
        return result

    def _target_names(self) -> list[str]:
        return [c if k is None else f"{c}~{k}" for c in self.columns_ for k in self.target_classes_]

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        keep = [c for c in X.columns if c not in set(self.columns_)]
        added: dict[str, np.ndarray] = {}
        n = len(X)
        for c in self.columns_:
            cats = self.categories_[c]
            if self.method == "onehot":
                codes = _codes(X[c], cats)
                block = np.zeros((n, len(cats)), dtype="float64", order="F")  # column-contiguous
                hit = np.flatnonzero(codes >= 0)
                block[hit, codes[hit]] = 1.0
                for j, cat in enumerate(cats):
                    added[f"{c}={cat}"] = block[:, j]
            elif self.method == "ordinal":
                codes = _codes(X[c], cats)
                values = np.where(codes >= 0, codes, -1).astype("float64")
                values[X[c].isna().to_numpy()] = np.nan
                added[c] = values
            else:
                for name in self.target_classes_:
                    means = self.means_[f"{c}\x1f{name}"]
                    prior = self.prior_[str(name)]
                    col = c if name is None else f"{c}~{name}"
                    labels = list(means)
                    codes = _codes(X[c], labels)
                    lookup = np.append(np.array([means[k] for k in labels], dtype="float64"), prior)
                    added[col] = lookup[np.where(codes >= 0, codes, len(labels))]
        return pd.concat([X[keep], pd.DataFrame(added, index=X.index)], axis=1)


def _codes(series: pd.Series, labels: list[str]) -> np.ndarray:
    """Position of each value's text in ``labels`` (-1: missing or not seen in fit), vectorised.

    The text is what ``fit`` compared (``astype(str)``), so a value matches exactly when its label
    was learnt; one hash lookup instead of comparing every row with every label (readmission's
    diagnosis codes have ~600 labels each).
    """
    missing = series.isna().to_numpy()
    text = series.astype(object).astype(str).to_numpy(dtype=object)
    codes = pd.Index(labels, dtype=object).get_indexer(text).astype(np.int64)  # labels are unique
    codes[missing] = -1
    return codes


def _smoothed_means(col: pd.Series, y: np.ndarray, prior: float, m: float) -> dict[str, float]:
    text = col.astype(object).astype(str).to_numpy(dtype=object)
    frame = pd.DataFrame({"x": text, "y": y})[col.notna().to_numpy()]
    stats = frame.groupby("x")["y"].agg(["sum", "count"])
    return {str(k): float((row["sum"] + m * prior) / (row["count"] + m)) for k, row in stats.iterrows()}


def _natural(v: str) -> tuple[int, float, str]:
    try:
        return (0, float(v), v)
    except ValueError:
        return (1, 0.0, v)


class FloatMatrix(TransformerMixin, BaseEstimator):
    """The last stage: the model gets a float64 matrix, with the column names kept for figures."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> FloatMatrix:
        left = [str(c) for c in X.columns if X[c].dtype != "float64"]
        if left:
            raise ValueError(f"columns still categorical after the recipe: {left}")
        self.feature_names_out_ = [str(c) for c in X.columns]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.feature_names_out_].to_numpy(dtype="float64", na_value=np.nan)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)
