"""What a results-only viewer (collaborator) may be shown of an aggregate table.

Two rules from the hospital's disclosure policy: a count below 5 is shown as ``"<5"`` (a cell of 1
to 4 patients with a rare combination can identify someone), and a column flagged as an
identifier never leaves the server. Services apply both before anything reaches a collaborator;
these helpers are pure so the rule is tested once and used everywhere.

Counts are recognised as integers (Python or NumPy, or floats with no fractional part) and as
formatted cells that *start* with a count, such as ``"3 (1.2%)"``, because Table 1 cells are often
already formatted: the whole cell is suppressed, since the percentage gives the count away.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "SMALL_COUNT_THRESHOLD",
    "suppressed_label",
    "suppress_small_counts",
    "drop_identifier_columns",
    "collaborator_table",
]

SMALL_COUNT_THRESHOLD = 5
_LEADING_COUNT = re.compile(r"^\s*(\d+)(?:\s*[(/]|\s*$)")


def suppressed_label(threshold: int = SMALL_COUNT_THRESHOLD) -> str:
    return f"<{threshold}"


def _small_count(value: Any, threshold: int) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return 0 <= int(value) < threshold
    if isinstance(value, numbers.Real):
        number = float(value)
        return math.isfinite(number) and number.is_integer() and 0 <= number < threshold
    if isinstance(value, str):
        match = _LEADING_COUNT.match(value)
        return bool(match) and int(match.group(1)) < threshold
    return False


def suppress_small_counts(
    data: Any,
    threshold: int = SMALL_COUNT_THRESHOLD,
    *,
    columns: Sequence[str] | None = None,
) -> Any:
    """Replace every count below ``threshold`` (zero included) with ``"<threshold"``.

    A scalar comes back suppressed or unchanged. A DataFrame comes back as a new frame in which
    ``columns`` (default: every column holding integers or count-like text) are strings with small
    counts replaced; other columns are untouched. A Series is treated as one column.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    label = suppressed_label(threshold)
    if isinstance(data, pd.DataFrame):
        out = data.copy()
        targets = list(columns) if columns is not None else [c for c in out.columns if _count_like(out[c])]
        missing = [c for c in targets if c not in out.columns]
        if missing:
            raise KeyError(f"columns not in the table: {missing}")
        for name in targets:
            out[name] = _suppress_series(out[name], threshold, label)
        return out
    if isinstance(data, pd.Series):
        return _suppress_series(data, threshold, label)
    return label if _small_count(data, threshold) else data


def _count_like(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_integer_dtype(series):
        return True
    if pd.api.types.is_float_dtype(series):
        values = series.dropna()
        return bool(len(values)) and bool((values == values.round()).all())
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        values = series.dropna()
        return bool(len(values)) and any(isinstance(v, str) and _LEADING_COUNT.match(v) for v in values)
    return False


def _suppress_series(series: pd.Series, threshold: int, label: str) -> pd.Series:
    def one(value: Any) -> Any:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return pd.NA
        if _small_count(value, threshold):
            return label
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
            return str(int(value))
        return str(value)

    return pd.Series([one(v) for v in series], index=series.index, name=series.name, dtype="string")


def drop_identifier_columns(frame: pd.DataFrame, identifier_columns: Collection[str]) -> pd.DataFrame:
    """The frame without any column flagged as an identifier (names not present are ignored)."""
    flagged = set(identifier_columns)
    return frame.loc[:, [c for c in frame.columns if c not in flagged]].copy()


def collaborator_table(
    frame: pd.DataFrame,
    *,
    identifier_columns: Collection[str],
    threshold: int = SMALL_COUNT_THRESHOLD,
    count_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Both rules at once, in the safe order: drop identifiers, then suppress small counts."""
    kept = drop_identifier_columns(frame, identifier_columns)
    columns = None if count_columns is None else [c for c in count_columns if c in kept.columns]
    return suppress_small_counts(kept, threshold, columns=columns)
