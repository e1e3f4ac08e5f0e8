"""The stored profile of a dataset version: aggregates only, never rows.

The profile is shown to people who may not see patient rows, so it holds counts, quantiles, bins
and the most frequent categories, and nothing at all (not even min/max) for identifier, free-text
or identifier-flagged columns, whose single values are themselves identifying.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._identifiers import IdentifierFlag
from ._ranges import range_for_column

__all__ = ["DatasetProfile", "ColumnProfile", "Histogram", "RangeCheck", "profile"]

_BINS = 20
_TOP = 20
_PRIVATE_TYPES = ("identifier", "free_text")


@dataclass(frozen=True)
class Histogram:
    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class RangeCheck:
    """Values outside a plausible clinical range for the quantity the column name suggests."""

    range_name: str
    unit: str
    low: float
    high: float
    below: int
    above: int


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    missing_count: int
    missing_pct: float
    unique_count: int
    minimum: float | str | None = None
    median: float | str | None = None
    maximum: float | str | None = None
    histogram: Histogram | None = None
    top_categories: tuple[tuple[str, int], ...] = ()
    other_count: int = 0
    out_of_range: RangeCheck | None = None
    flagged: bool = False


@dataclass(frozen=True)
class DatasetProfile:
    n_rows: int
    n_columns: int
    columns: tuple[ColumnProfile, ...] = field(default=())

    def column(self, name: str) -> ColumnProfile:
        for item in self.columns:
            if item.name == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetProfile:
        columns = []
        for raw in data["columns"]:
            item = dict(raw)
            if item.get("histogram") is not None:
                item["histogram"] = Histogram(
                    edges=tuple(item["histogram"]["edges"]), counts=tuple(item["histogram"]["counts"])
                )
            if item.get("out_of_range") is not None:
                item["out_of_range"] = RangeCheck(**item["out_of_range"])
            item["top_categories"] = tuple((str(k), int(v)) for k, v in item.get("top_categories", ()))
            columns.append(ColumnProfile(**item))
        return cls(n_rows=int(data["n_rows"]), n_columns=int(data["n_columns"]), columns=tuple(columns))


def profile(
    frame: pd.DataFrame,
    *,
    types: dict[str, str] | None = None,
    flags: tuple[IdentifierFlag, ...] | list[IdentifierFlag] = (),
) -> DatasetProfile:
    """Aggregate statistics per column; ``types`` come from ingestion (inferred when not given)."""
    if types is None:
        from ._read import infer_frame_types

        types = infer_frame_types(frame)
    flagged = {flag.column for flag in flags}
    n_rows = len(frame)
    columns = tuple(
        _column_profile(str(name), frame[name], types.get(str(name), "free_text"), str(name) in flagged, n_rows)
        for name in frame.columns
    )
    return DatasetProfile(n_rows=n_rows, n_columns=frame.shape[1], columns=columns)


def _column_profile(name: str, series: pd.Series, kind: str, flagged: bool, n_rows: int) -> ColumnProfile:
    missing = int(series.isna().sum())
    present = series.dropna()
    unique = int(present.nunique())
    base = dict(
        name=name,
        type=kind,
        missing_count=missing,
        missing_pct=round(100.0 * missing / n_rows, 3) if n_rows else 0.0,
        unique_count=unique,
        flagged=flagged,
    )
    if flagged or kind in _PRIVATE_TYPES or present.empty:
        return ColumnProfile(**base)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        # Dates are shown by month-level bins only; exact dates are identifying.
        months = present.dt.to_period("M").astype(str)
        counts = months.value_counts().sort_index()
        return ColumnProfile(
            **base,
            minimum=str(counts.index[0]),
            maximum=str(counts.index[-1]),
            top_categories=tuple((str(k), int(v)) for k, v in counts.head(_TOP * 5).items()),
        )
    numeric = _as_float(present)
    if numeric is not None and kind in ("numeric", "integer") or (numeric is not None and kind == "binary" and not _is_text(series)):
        values = numeric
        low, high = float(values.min()), float(values.max())
        median = float(np.median(values))
        histogram = None
        if kind != "binary":
            counts, edges = np.histogram(values, bins=_BINS if low < high else 1)
            histogram = Histogram(edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts))
        check = None
        clinical = range_for_column(name)
        if clinical is not None and kind != "binary":
            below = int((values < clinical.low).sum())
            above = int((values > clinical.high).sum())
            check = RangeCheck(clinical.name, clinical.unit, clinical.low, clinical.high, below, above)
        if kind == "binary":
            top = present.value_counts()
            return ColumnProfile(
                **base,
                minimum=low,
                median=median,
                maximum=high,
                top_categories=tuple((_label(k), int(v)) for k, v in top.items()),
            )
        return ColumnProfile(**base, minimum=low, median=median, maximum=high, histogram=histogram, out_of_range=check)
    counts = present.astype("string").value_counts()
    top = counts.head(_TOP)
    return ColumnProfile(
        **base,
        top_categories=tuple((str(k), int(v)) for k, v in top.items()),
        other_count=int(counts.iloc[_TOP:].sum()),
    )


def _is_text(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series.dtype)


def _as_float(present: pd.Series) -> np.ndarray | None:
    if _is_text(present) or pd.api.types.is_datetime64_any_dtype(present.dtype):
        return None
    try:
        return present.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        return None


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
