"""What a results-only viewer (collaborator) may be shown of an aggregate table.

Two rules from the hospital's disclosure policy: a count below 5 is shown as ``"<5"`` (a cell of 1
to 4 patients with a rare combination can identify someone), and a column flagged as an
identifier never leaves the server. Services apply both before anything reaches a collaborator;
these helpers are pure so the rule is tested once and used everywhere.

Suppressing one cell of a table whose totals are shown is not enough: the hidden value is the
total minus the other cells of its row (or column). :func:`complementary_suppression` hides, for
each such cell, the smallest other cell of the same row or column as well (secondary suppression),
until every suppressed cell shares its row and its column with another suppressed cell, or the
total of that line is itself hidden. Where the hidden cells of a line are parts of one whole (the
classes of one outcome), their sum is the line's total minus the shown cells, a count like any
other: ``min_hidden_total`` hides more of the line until that sum is 0 or at least the threshold.

Counts are recognised as integers (Python or NumPy, or floats with no fractional part) and as
formatted cells that *start* with a count, such as ``"3 (1.2%)"``, because Table 1 cells are often
already formatted: the whole cell is suppressed, since the percentage gives the count away.

Three more ways a small count leaks, each closed by a rule here:

- **Non-events.** Where a line prints its patients ``n`` and its events, the non-events are
  ``n - events`` although nobody printed them. :func:`count_line_suppression` treats each line as
  three cells (n, events, non-events) tied by ``n = events + non-events``: a small non-event count
  is hidden like a small event count (with its events, so the subtraction gives nothing).
- **The confusion matrix.** Each row of it (observed non-events, observed events) adds up to a
  count printed beside it, and its row percentages give the rest away. :func:`confusion_suppression`
  hides the other cell of a row holding a small cell, and a whole row whose total is hidden.
- **Larger grids.** In a grid whose row and column totals are printed (a multiclass confusion
  matrix), hidden cells that each share their lines with another can still be pinned down together
  (a hidden cell that is a "bridge" between two groups of hidden cells is a sum of differences).
  :func:`determined_cells` finds every hidden cell the printed totals fix exactly (a rank test), and
  :func:`table_suppression` hides more until there is none.
- **What hidden cells hold together.** A line's hidden cells hold its printed total minus its shown
  cells, and the reader knows that a ``"<5"`` holds 1 to 4 and an ``x`` 0 or at least 5, in whole
  numbers: three "<5" holding 3 are 1 each, a "<5" and an ``x`` holding 6 are 1 and 5. So the hidden
  cells of a line hold 0 or at least the threshold together (:func:`short_lines`), and a grid hides
  more until a reader solving for each small cell across rows, columns and the diagonal
  (:mod:`permissions._reader_bounds`, exact integer bounds) still finds 1 to 4; where nothing is left
  to hide, the small cells concerned read ``x``.
- **Bins along a curve.** Calibration bins add up to the patients, and a bin's observed rate with its
  exact confidence interval gives the bin's size back, so hiding a bin's count hides nothing: small
  bins are merged with their neighbours instead (:func:`merge_small_bins`), and every count shown is
  at least the threshold.
- **Measures at the threshold.** Sensitivity is TP / events, specificity TN / non-events, and PPV,
  NPV, F1 and accuracy follow from the same four cells; printed beside n and events, they give every
  cell of the confusion matrix exactly (TP = sensitivity x events), and with two of them even a
  hidden event count (accuracy = sensitivity x prevalence + specificity x (1 - prevalence)). So for a
  restricted viewer they are shown only where n and events are printed and no confusion cell is
  small (:func:`threshold_measures_safe`); elsewhere they are "suppressed". Threshold-free measures
  (AUROC, AUPRC, Brier score, calibration) do not give a count back and stay. Curves drawn over every
  threshold (ROC, threshold and decision curves) are read by eye, not to the patient, and stay too.
"""

from __future__ import annotations

import math
import numbers
import numpy as np
import re
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

from permissions._grid_suppression import (
    complementary_suppression,
    determined_cells,
    recoverable_cells,
    short_lines,
    small_grid,
    table_suppression,
)

__all__ = [
    "SMALL_COUNT_THRESHOLD",
    "suppressed_label",
    "suppress_small_counts",
    "drop_identifier_columns",
    "collaborator_table",
    "complementary_suppression",
    "recoverable_cells",
    "count_line_suppression",
    "confusion_suppression",
    "confusion_from_rates",
    "has_small_cell",
    "threshold_measures_safe",
    "determined_cells",
    "table_suppression",
    "short_lines",
    "merge_small_bins",
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


def count_line_suppression(lines: Any, *, limit: int, column_totals: Any = None, forced: Any = None) -> np.ndarray:
    """Which of (n, events, non-events) to hide on each line that prints n and events.

    ``lines`` is a ``(k, 2)`` grid of (n, events); the non-events ``n - events`` are a cell too, never
    printed but known to anyone who subtracts, so a small one is hidden (primary) like a small event
    count. ``n = events + non-events`` ties the three cells of a line the way a shown total ties a
    row, so a line never has exactly one hidden cell. ``column_totals`` says which of the three column
    sums is printed elsewhere (default: all); ``forced`` columns are hidden on every line (their
    total is itself hidden, and the lines would add up to it). Returns the ``(k, 3)`` mask; the
    non-events column is hidden whenever the n or the events of its line is.
    """
    counts = np.asarray(lines, dtype=float).reshape(-1, 2)
    grid = np.column_stack([counts[:, 0], counts[:, 1], counts[:, 0] - counts[:, 1]])
    force = np.zeros(3, bool) if forced is None else np.asarray(forced, bool)
    primary = small_grid(grid, limit) if limit else np.zeros(grid.shape, bool)
    primary[:, force] = True
    shown = np.ones(3, bool) if column_totals is None else np.asarray(column_totals, bool).copy()
    shown &= ~force
    mask = complementary_suppression(grid, primary, column_totals=shown) if limit else primary
    mask[:, 2] |= mask[:, 0] | mask[:, 1]
    return mask


def has_small_cell(table: Any, limit: int) -> bool:
    """True when a count of the grid is between 1 and ``limit - 1`` (a zero identifies no one)."""
    return bool(limit) and bool(small_grid(np.asarray(table, dtype=float), limit).any())


def confusion_suppression(table: Any, *, limit: int, rows_shown: Any = (True, True)) -> tuple[np.ndarray, np.ndarray]:
    """(small, mask) of a 2x2 confusion matrix (rows observed no event / event) for a restricted viewer:
    ``small`` the cells to print as ``"<limit"``, ``mask`` every cell to hide.

    Each row adds up to a count printed beside the matrix (non-events, events: ``rows_shown``), so a
    small cell takes the other cell of its row with it; a row whose total is hidden elsewhere is hidden
    whole (its two cells would add up to it). The column sums (predicted negatives and positives) are
    printed nowhere. A row with a hidden cell gets no percentages either: 100 % minus the other share
    is the hidden one. A hidden row whose total is under ``limit + (limit - 1)`` per small cell would let
    the labels pin its cells (6 events read "<5" and "x": the ``x``, not small, is 5 and the other 1),
    so both its cells read ``x`` (:func:`short_lines`).
    """
    grid = np.asarray(table, dtype=float).reshape(2, 2)
    primary = small_grid(grid, limit) if limit else np.zeros((2, 2), bool)
    if not limit:
        return primary, primary.copy()
    rows = np.asarray(rows_shown, bool)
    mask = complementary_suppression(grid, primary, row_totals=rows, column_totals=np.zeros(2, bool),
                                     min_hidden_total=limit)
    mask[~rows, :] = True
    small = primary.copy()
    for line in short_lines(grid, mask, limit=limit, small=primary, row_totals=rows, column_totals=np.zeros(2, bool)):
        for cell in line:
            small[cell] = False  # every cell of the line is hidden: all read "x"
    return small, mask


def confusion_from_rates(n: int, events: int, sensitivity: float, specificity: float) -> np.ndarray | None:
    """The confusion matrix ``[[TN, FP], [FN, TP]]`` that a line's n, events, sensitivity and specificity
    give back exactly (as anyone reading them could); None when the rates are missing."""
    if not (math.isfinite(sensitivity) and math.isfinite(specificity)):
        return None
    negatives = int(n) - int(events)
    tp = int(round(sensitivity * int(events)))
    tn = int(round(specificity * negatives))
    return np.array([[tn, negatives - tn], [int(events) - tp, tp]])


def threshold_measures_safe(confusion: Any, *, counts_printed: bool, limit: int) -> bool:
    """May a restricted viewer see the measures at the threshold (sensitivity, specificity, PPV, NPV,
    F1, accuracy) of one line? Only when its n and events are printed as they are and no cell of its
    confusion matrix is small; an unknown matrix (None) is not safe."""
    if not limit:
        return True
    return counts_printed and confusion is not None and not has_small_cell(confusion, limit)


def merge_small_bins(counts: Sequence[float], *, limit: int) -> list[list[int]]:
    """Adjacent bins (indices, in order) grouped so that each group holds at least ``limit`` patients:
    the smallest group below it joins its smaller neighbour, until none is left (or one group holds
    them all). ``limit=0`` keeps every bin."""
    groups = [[i] for i in range(len(counts))]
    totals = [float(c) for c in counts]
    while limit and len(groups) > 1:
        small = [g for g in range(len(groups)) if totals[g] < limit]
        if not small:
            break
        g = min(small, key=lambda k: (totals[k], k))
        h = min((k for k in (g - 1, g + 1) if 0 <= k < len(groups)), key=lambda k: (totals[k], k))
        a, b = sorted((g, h))
        groups[a:b + 1] = [groups[a] + groups[b]]
        totals[a:b + 1] = [totals[a] + totals[b]]
    return groups
