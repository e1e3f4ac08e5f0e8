"""What a results-only viewer (collaborator) may be shown of an aggregate table.

Two rules from the hospital's disclosure policy: a count below 5 is shown as ``"<5"`` (a cell of 1
to 4 patients with a rare combination can identify someone), and a column flagged as an
identifier never leaves the server. Services apply both before anything reaches a collaborator;
these helpers are pure so the rule is tested once and used everywhere.

Suppressing one cell of a table whose totals are shown is not enough: the hidden value is the
total minus the other cells of its row (or column). :func:`complementary_suppression` hides, for
each such cell, the smallest other cell of the same row or column as well (secondary suppression),
until every suppressed cell shares its row and its column with another suppressed cell, or the
total of that line is itself hidden.

Counts are recognised as integers (Python or NumPy, or floats with no fractional part) and as
formatted cells that *start* with a count, such as ``"3 (1.2%)"``, because Table 1 cells are often
already formatted: the whole cell is suppressed, since the percentage gives the count away.
"""

from __future__ import annotations

import math
import numbers
import numpy as np
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
    "complementary_suppression",
    "recoverable_cells",
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


def complementary_suppression(
    counts: Any,
    primary: Any,
    *,
    row_totals: Any = None,
    column_totals: Any = None,
) -> np.ndarray:
    """The cells to hide so that no primary-suppressed count can be recovered by subtraction.

    ``counts`` is a grid of non-negative counts whose row and column totals are published;
    ``primary`` marks the cells already hidden (small counts). ``row_totals`` / ``column_totals``
    say, per line, whether that total is shown (default: all shown; a hidden total protects its
    line). Returns the full mask (primary plus complementary cells). A complement is the smallest
    non-zero visible cell of the line (a zero is often known from context, so it is used only when
    nothing else is left), which hides as little as possible.
    """
    grid = np.asarray(counts, dtype=float)
    if grid.ndim != 2:
        raise ValueError("counts must be a two-dimensional grid")
    mask = np.array(primary, dtype=bool, copy=True)
    if mask.shape != grid.shape:
        raise ValueError("primary must have the shape of counts")
    rows_shown = np.ones(grid.shape[0], bool) if row_totals is None else np.asarray(row_totals, bool)
    cols_shown = np.ones(grid.shape[1], bool) if column_totals is None else np.asarray(column_totals, bool)
    changed = True
    while changed:  # each pass hides at least one more cell, so this ends
        changed = False
        for axis, shown in ((1, rows_shown), (0, cols_shown)):
            lines = mask if axis == 1 else mask.T
            values = grid if axis == 1 else grid.T
            for i in range(lines.shape[0]):
                if not shown[i] or lines[i].sum() != 1:
                    continue
                candidates = [j for j in range(lines.shape[1]) if not lines[i, j]]
                if not candidates:
                    continue  # a one-cell line: its total is that cell, hidden or not by the caller
                nonzero = [j for j in candidates if values[i, j] > 0]
                pick = min(nonzero or candidates, key=lambda j: (values[i, j], j))
                lines[i, pick] = True
                changed = True
    return mask


def recoverable_cells(mask: Any, *, row_totals: Any = None, column_totals: Any = None) -> list[tuple[int, int]]:
    """Hidden cells alone in a row or column whose total is shown: what subtraction would reveal."""
    hidden = np.asarray(mask, dtype=bool)
    rows_shown = np.ones(hidden.shape[0], bool) if row_totals is None else np.asarray(row_totals, bool)
    cols_shown = np.ones(hidden.shape[1], bool) if column_totals is None else np.asarray(column_totals, bool)
    row_count, col_count = hidden.sum(axis=1), hidden.sum(axis=0)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden))
            if (rows_shown[i] and row_count[i] < 2 and hidden.shape[1] > 1)
            or (cols_shown[j] and col_count[j] < 2 and hidden.shape[0] > 1)]
