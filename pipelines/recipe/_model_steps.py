"""Model-level steps: compiled into scikit-learn transformers and fitted inside every CV fold.

A step here never sees the table when the recipe is compiled, only its column names and kinds;
all values are learned in ``fit`` on the rows the caller gives it, which is what keeps held-out
folds out of the imputation medians, the scaling means and the target encodings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from sklearn.base import TransformerMixin

from pipelines.recipe._base import ColumnKind, Step
from pipelines.recipe._transformers import (
    CategoryEncoder,
    FrameImputer,
    FrameScaler,
    QuantileClipper,
    RareCategoryGrouper,
    SignedLog,
)

__all__ = ["ModelStep", "Impute", "ClipOutliers", "Scale", "LogTransform", "Encode", "GroupRareCategories"]


@dataclass(frozen=True)
class ModelStep(Step):
    """A step fitted on training rows only; ``columns=()`` means every column of the right kind."""

    level: ClassVar[Literal["data", "model"]] = "model"
    accepts: ClassVar[tuple[ColumnKind, ...]] = ("numeric",)

    columns: tuple[str, ...] = ()

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        for col in self.columns:
            self._need_column(schema, col, param="columns", kinds=self.accepts)

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        """A new, unfitted transformer for this step."""
        raise NotImplementedError

    def _cols(self) -> list[str] | None:
        return list(self.columns) or None


@dataclass(frozen=True)
class Impute(ModelStep):
    """Fill missing values: median/mean or iterative (numbers), most frequent or "missing" (labels),
    with optional missing-value indicator columns (missingness itself can be informative)."""

    kind: ClassVar[str] = "impute"
    accepts: ClassVar[tuple[ColumnKind, ...]] = ("numeric", "categorical", "datetime")

    numeric: Literal["median", "mean", "iterative"] = "median"
    categorical: Literal["most_frequent", "constant"] = "most_frequent"
    add_indicator: bool = True

    def _check_params(self) -> None:
        self._need_choice("numeric", self.numeric, ("median", "mean", "iterative"))
        self._need_choice("categorical", self.categorical, ("most_frequent", "constant"))

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        return FrameImputer(numeric=self.numeric, categorical=self.categorical,
                            add_indicator=self.add_indicator, columns=self._cols())


@dataclass(frozen=True)
class ClipOutliers(ModelStep):
    """Winsorise numbers at the training rows' quantiles."""

    kind: ClassVar[str] = "clip_outliers"

    lower: float = 0.01
    upper: float = 0.99

    def _check_params(self) -> None:
        if not (0.0 <= self.lower < self.upper <= 1.0):
            raise self._fail("recipe.quantiles_bad", lower=self.lower, upper=self.upper)

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        return QuantileClipper(lower=self.lower, upper=self.upper, columns=self._cols())


@dataclass(frozen=True)
class Scale(ModelStep):
    """Standardise numbers (needed by linear models and neural nets, harmless for trees)."""

    kind: ClassVar[str] = "scale"

    method: Literal["standard", "robust", "minmax"] = "standard"

    def _check_params(self) -> None:
        self._need_choice("method", self.method, ("standard", "robust", "minmax"))

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        return FrameScaler(method=self.method, columns=self._cols())


@dataclass(frozen=True)
class LogTransform(ModelStep):
    """Signed log for right-skewed values (creatinine phosphokinase, insulin, triglycerides)."""

    kind: ClassVar[str] = "log_transform"

    def _check_params(self) -> None:
        if not self.columns:
            raise self._fail("recipe.param_required", param="columns")

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        return SignedLog(columns=self._cols())


@dataclass(frozen=True)
class Encode(ModelStep):
    """Turn category labels into numbers: one-hot, ordinal (in the recipe's category order) or target."""

    kind: ClassVar[str] = "encode"
    accepts: ClassVar[tuple[ColumnKind, ...]] = ("categorical",)

    method: Literal["onehot", "ordinal", "target"] = "onehot"

    def _check_params(self) -> None:
        self._need_choice("method", self.method, ("onehot", "ordinal", "target"))

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        return CategoryEncoder(method=self.method, columns=self._cols(), orders=orders or None)


@dataclass(frozen=True)
class GroupRareCategories(ModelStep):
    """Labels rarer than ``min_fraction`` of the training rows become one ``label`` ("Other")."""

    kind: ClassVar[str] = "group_rare"
    accepts: ClassVar[tuple[ColumnKind, ...]] = ("categorical",)

    min_fraction: float = 0.01
    label: str = "Other"

    def _check_params(self) -> None:
        if not 0.0 < self.min_fraction < 0.5:
            raise self._fail("recipe.bad_param", param="min_fraction", value=str(self.min_fraction),
                             expected="a fraction between 0 and 0.5")
        if not self.label:
            raise self._fail("recipe.param_required", param="label")

    def compile(self, *, orders: dict[str, list[str]] | None = None) -> TransformerMixin:
        return RareCategoryGrouper(min_fraction=self.min_fraction, label=self.label, columns=self._cols())
