"""Meta-features: the few numbers that describe a table well enough to recommend settings.

They are all the workbench ever shares between projects (with the best hyperparameters), so they
hold no row-level information: sizes and shares only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

__all__ = ["MetaFeatures", "meta_features"]


@dataclass(frozen=True)
class MetaFeatures:
    task: str
    n_rows: int
    n_features: int
    n_classes: int  # 0 for regression
    prevalence: float | None  # positive share (binary) or smallest class share (multiclass)
    missing_share: float  # share of empty cells among the predictors
    categorical_share: float  # share of predictors that are not numeric

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetaFeatures:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def vector(self) -> tuple[float, ...]:
        """Coordinates for nearest-neighbour search; sizes on a log scale (300 vs 600 rows
        differ as much as 30,000 vs 60,000)."""
        return (
            math.log10(max(self.n_rows, 1)),
            math.log10(max(self.n_features, 1)),
            self.prevalence if self.prevalence is not None else 0.5,
            self.missing_share,
            self.categorical_share,
        )


def meta_features(X: pd.DataFrame, y: pd.Series, task: str) -> MetaFeatures:
    n_rows, n_features = X.shape
    cells = n_rows * n_features
    missing = float(X.isna().sum().sum()) / cells if cells else 0.0
    categorical = sum(1 for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))
    prevalence: float | None = None
    n_classes = 0
    if task != "regression":
        shares = y.value_counts(normalize=True, dropna=True).sort_index()
        n_classes = len(shares)
        prevalence = float(shares.iloc[-1]) if task == "binary" else float(shares.min())
    return MetaFeatures(
        task=task,
        n_rows=int(n_rows),
        n_features=int(n_features),
        n_classes=n_classes,
        prevalence=None if prevalence is None else round(prevalence, 4),
        missing_share=round(missing, 4),
        categorical_share=round(categorical / n_features, 4) if n_features else 0.0,
    )
