"""Data-level steps on values: unit conversion, plausible ranges and single-cell corrections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from pipelines.recipe._base import ColumnKind, column_kind
from pipelines.recipe._data_steps import DataStep, _text

__all__ = ["ConvertUnits", "PlausibleRange", "EditCell"]


@dataclass(frozen=True)
class ConvertUnits(DataStep):
    """``new = value * factor + offset`` (mg/dL to mmol/L, Fahrenheit to Celsius, lb to kg)."""

    kind: ClassVar[str] = "convert_units"

    column: str
    factor: float
    offset: float = 0.0
    unit: str = ""

    def _check_params(self) -> None:
        if self.factor == 0:
            raise self._fail("recipe.bad_param", param="factor", value="0", expected="a non-zero number")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column", kinds=("numeric",))

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.column] = frame[self.column].astype("float64") * self.factor + self.offset
        return out


@dataclass(frozen=True)
class PlausibleRange(DataStep):
    """Values outside ``[low, high]`` or equal to a missing code (BMI 0, blood pressure 0, -1)
    become missing: they are recording artefacts, not patients."""

    kind: ClassVar[str] = "plausible_range"

    column: str
    low: float | None = None
    high: float | None = None
    missing_codes: tuple[float, ...] = ()

    def _check_params(self) -> None:
        if self.low is None and self.high is None and not self.missing_codes:
            raise self._fail("recipe.range_empty")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise self._fail("recipe.range_inverted", low=self.low, high=self.high)

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column", kinds=("numeric",))

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        values = frame[self.column].astype("float64")
        bad = values.isin(list(self.missing_codes))
        if self.low is not None:
            bad |= values < self.low
        if self.high is not None:
            bad |= values > self.high
        out = frame.copy()
        out[self.column] = values.mask(bad)
        return out


@dataclass(frozen=True)
class EditCell(DataStep):
    """One spreadsheet cell fixed by hand, recorded with its old value so the change is visible.

    The row is found by ``key_column == row_key`` (a patient or record ID), or by the uploaded row
    number when ``key_column`` is empty. If the cell no longer holds ``old_value`` (the data
    changed), the edit refuses instead of overwriting something the physician never saw.
    """

    kind: ClassVar[str] = "edit_cell"

    column: str
    row_key: Any
    old_value: Any
    new_value: Any
    key_column: str = ""

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")
        if self.key_column:
            self._need_column(schema, self.key_column, param="key_column")

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        if self.key_column:
            keys = frame[self.key_column]
            hits = np.flatnonzero((keys.astype(str) == _text(self.row_key)).to_numpy())
        else:
            hits = np.flatnonzero(np.asarray(frame.index) == self.row_key)
        if len(hits) == 0:
            raise self._fail("recipe.cell_row_missing", column=self.column, row_key=self.row_key,
                             key_column=self.key_column or "row")
        if len(hits) > 1:
            raise self._fail("recipe.cell_row_ambiguous", row_key=self.row_key, key_column=self.key_column,
                             count=len(hits))
        pos = int(hits[0])
        current = frame[self.column].iloc[pos]
        if not _same(current, self.old_value):
            raise self._fail("recipe.cell_stale", column=self.column, row_key=self.row_key,
                             expected=self.old_value, found=None if pd.isna(current) else _plain(current))
        out = frame.copy()
        col = out[self.column]
        new = self.new_value
        if new is not None and column_kind(col.dtype) == "numeric" and not isinstance(new, (int, float)):
            try:
                new = float(new)
            except (TypeError, ValueError):
                raise self._fail("recipe.cell_not_number", column=self.column, value=self.new_value) from None
        if column_kind(col.dtype) == "numeric":
            col = col.astype("float64")
            col.iloc[pos] = np.nan if new is None else float(new)
        else:
            col = col.astype(object)
            col.iloc[pos] = np.nan if new is None else new
            col = col.astype("str").where(col.notna())
        out[self.column] = col
        return out


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _same(current: Any, old: Any) -> bool:
    if old is None:
        return bool(pd.isna(current))
    if pd.isna(current):
        return False
    if isinstance(old, (int, float)) and not isinstance(old, bool):
        try:
            return float(current) == float(old)
        except (TypeError, ValueError):
            return False
    return _text(_plain(current)) == _text(old)
