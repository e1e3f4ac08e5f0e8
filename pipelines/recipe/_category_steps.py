"""Data-level steps on categories: recode, merge and order the labels of one column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from pipelines.recipe._base import ColumnKind
from pipelines.recipe._data_steps import DataStep, _map_values

__all__ = ["RecodeCategories", "MergeCategories", "OrderCategories"]


@dataclass(frozen=True)
class RecodeCategories(DataStep):
    """Replace values by others (``1 -> "male"``); values not listed stay as they are."""

    kind: ClassVar[str] = "recode"

    column: str
    mapping: tuple[tuple[Any, Any], ...]

    def _check_params(self) -> None:
        if not self.mapping:
            raise self._fail("recipe.param_required", param="mapping")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        if any(isinstance(new, str) for _, new in self.mapping):
            schema[self.column] = "categorical"
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.column] = _map_values(frame[self.column], self.mapping, keep_unmapped=True)
        return out


@dataclass(frozen=True)
class MergeCategories(DataStep):
    """Merge several category labels into one (a grid action: select labels, "merge into")."""

    kind: ClassVar[str] = "merge_categories"

    column: str
    labels: tuple[Any, ...]
    into: Any

    def _check_params(self) -> None:
        if len(self.labels) < 1:
            raise self._fail("recipe.param_required", param="labels")
        if self.into is None:
            raise self._fail("recipe.param_required", param="into")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        if isinstance(self.into, str):
            schema[self.column] = "categorical"
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.column] = _map_values(frame[self.column], tuple((lab, self.into) for lab in self.labels),
                                       keep_unmapped=True)
        return out


@dataclass(frozen=True)
class OrderCategories(DataStep):
    """Put category labels in a meaningful order (mild < moderate < severe) for ordinal encoding."""

    kind: ClassVar[str] = "order_categories"

    column: str
    order: tuple[Any, ...]

    def _check_params(self) -> None:
        if len(self.order) < 2:
            raise self._fail("recipe.param_required", param="order")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column", kinds=("categorical",))

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        present = set(frame[self.column].dropna().astype(str))
        order = [str(v) for v in self.order]
        missing = sorted(present - set(order))
        if missing:
            raise self._fail("recipe.category_not_in_order", column=self.column, label=missing[0])
        out = frame.copy()
        out[self.column] = pd.Categorical(frame[self.column].astype("str").where(frame[self.column].notna()),
                                          categories=order, ordered=True)
        return out
