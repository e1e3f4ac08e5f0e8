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
import pyarrow as pa
import pyarrow.compute as pc

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
        _column_profile(str(name), frame.iloc[:, position], types.get(str(name), "free_text"), str(name) in flagged, n_rows)
        for position, name in enumerate(frame.columns)
    )
    return DatasetProfile(n_rows=n_rows, n_columns=frame.shape[1], columns=columns)


def _arrow(series: pd.Series) -> pa.ChunkedArray:
    """The column's Arrow data (zero-copy for the Arrow-backed dtypes ingestion produces)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return pa.chunked_array([pa.DictionaryArray.from_pandas(series.array)])
    array = pa.array(series.array) if not isinstance(series.dtype, np.dtype) else pa.Array.from_pandas(series)
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _column_profile(name: str, series: pd.Series, kind: str, flagged: bool, n_rows: int) -> ColumnProfile:
    array = _arrow(series)
    missing = array.null_count
    if pa.types.is_floating(array.type):
        nans = int(pc.sum(pc.fill_null(pc.is_nan(array), False)).as_py() or 0)
        if nans:
            missing += nans
            array = pc.if_else(pc.is_nan(array), pa.scalar(None, array.type), array)
    base = dict(
        name=name,
        type=kind,
        missing_count=missing,
        missing_pct=round(100.0 * missing / n_rows, 3) if n_rows else 0.0,
        flagged=flagged,
    )
    if pa.types.is_dictionary(array.type):
        return _categorical(base, array, kind, flagged)
    numeric = pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_boolean(array.type)
    if numeric and not (flagged or kind in _PRIVATE_TYPES) and missing < n_rows:
        return _numeric(base, name, array, kind)
    base["unique_count"] = int(pc.count_distinct(array.combine_chunks()).as_py())
    if flagged or kind in _PRIVATE_TYPES or missing == n_rows:
        return ColumnProfile(**base)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        # Dates are shown by month only; exact dates are identifying.
        present = pc.drop_null(array)
        months = pc.add(pc.multiply(pc.year(present), 100), pc.month(present))
        counts = pc.value_counts(months).to_pylist()
        counts.sort(key=lambda item: item["values"])
        labels = [f"{c['values'] // 100:04d}-{c['values'] % 100:02d}" for c in counts]
        return ColumnProfile(
            **base,
            minimum=labels[0],
            maximum=labels[-1],
            top_categories=tuple((label, int(c["counts"])) for label, c in zip(labels[: _TOP * 5], counts)),
        )
    text = pc.drop_null(array.cast(pa.string()))
    counts = pc.value_counts(text).to_pylist()
    counts.sort(key=lambda item: (-item["counts"], str(item["values"])))
    return ColumnProfile(
        **base,
        top_categories=tuple((str(c["values"]), int(c["counts"])) for c in counts[:_TOP]),
        other_count=int(sum(c["counts"] for c in counts[_TOP:])),
    )


def _numeric(base: dict, name: str, array: pa.ChunkedArray, kind: str) -> ColumnProfile:
    present = pc.drop_null(array).combine_chunks()
    if pa.types.is_boolean(present.type):
        present = present.cast(pa.int8())
    numbers = present.to_numpy(zero_copy_only=False)
    low, high = numbers.min(), numbers.max()
    by_value = None
    if pa.types.is_integer(present.type) and int(high) - int(low) < 1_000_000:
        # Counts, scores and flags: one bincount gives distinct values, median and histogram.
        by_value = np.bincount(numbers - low, minlength=int(high - low) + 1)
        base["unique_count"] = int(np.count_nonzero(by_value))
        cumulative = np.cumsum(by_value)
        n = int(cumulative[-1])
        lower = int(np.searchsorted(cumulative, (n - 1) // 2 + 1)) + int(low)
        upper = int(np.searchsorted(cumulative, n // 2 + 1)) + int(low)
        median = (lower + upper) / 2
    else:
        base["unique_count"] = int(pc.count_distinct(present).as_py())
        median = _median(numbers)
    low, high = float(low), float(high)
    if kind == "binary" and by_value is not None:
        pairs = sorted(((int(v) + int(low), int(c)) for v, c in enumerate(by_value) if c), key=lambda vc: -vc[1])
        return ColumnProfile(**base, minimum=low, median=median, maximum=high,
                             top_categories=tuple((str(v), c) for v, c in pairs))
    if kind == "binary":
        top = pc.value_counts(present).to_pylist()
        top.sort(key=lambda item: -item["counts"])
        return ColumnProfile(**base, minimum=low, median=median, maximum=high,
                             top_categories=tuple((_label(t["values"]), int(t["counts"])) for t in top))
    counts, edges = np.histogram(numbers, bins=_BINS if low < high else 1, range=(low, high) if low < high else None)
    check = None
    clinical = range_for_column(name)
    if clinical is not None:
        below = int(np.count_nonzero(numbers < clinical.low))
        above = int(np.count_nonzero(numbers > clinical.high))
        check = RangeCheck(clinical.name, clinical.unit, clinical.low, clinical.high, below, above)
    histogram = Histogram(edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts))
    return ColumnProfile(**base, minimum=low, median=float(median), maximum=high, histogram=histogram, out_of_range=check)


def _categorical(base: dict, array: pa.ChunkedArray, kind: str, flagged: bool) -> ColumnProfile:
    chunk = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    n_values = len(chunk.dictionary)
    counts = np.bincount(chunk.indices.fill_null(n_values).to_numpy(zero_copy_only=False), minlength=n_values + 1)[:n_values]
    used = counts > 0
    base["unique_count"] = int(used.sum())
    if flagged or kind in _PRIVATE_TYPES:
        return ColumnProfile(**base)
    labels = [str(v) for v in chunk.dictionary.to_pylist()]
    order = sorted((i for i in range(n_values) if used[i]), key=lambda i: (-counts[i], labels[i]))
    return ColumnProfile(
        **base,
        top_categories=tuple((labels[i], int(counts[i])) for i in order[:_TOP]),
        other_count=int(sum(int(counts[i]) for i in order[_TOP:])),
    )


def _median(numbers: np.ndarray) -> float:
    """Exact median by selection (no full sort): a few milliseconds at a million values."""
    n = len(numbers)
    middle = n // 2
    if n % 2:
        return float(np.partition(numbers, middle)[middle])
    part = np.partition(numbers, [middle - 1, middle])
    return float((part[middle - 1] + part[middle]) / 2)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
