"""What a reader can work out of a grid with hidden cells: the integer bounds of each small cell.

A restricted reader sees a grid (a multiclass confusion matrix) whose shown cells are numbers, small
hidden cells ``"<5"`` (1 to 4 patients), the other hidden cells ``x`` (0 or at least 5, since a count
of 1 to 4 would read ``"<5"``), and knows the totals of its lines (class sizes, predicted counts, the
diagonal from accuracy x patients). The cells are whole numbers, so besides exact sums and differences
(:func:`permissions.disclosure.determined_cells`) the reader can narrow a small cell down: a column of
22 with 19 shown and three ``"<5"`` holds 1, 1 and 1. :func:`reader_ranges` is that reader: for each
small cell, the least and the most it can hold given everything shown (a mixed-integer program, solved
exactly by HiGHS through SciPy). A cell is safe when that is still 1 to ``limit - 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["grid_lines", "reader_ranges", "narrowed_cells"]

Cell = tuple[int, int]


def grid_lines(shape: tuple[int, int], rows: Any, cols: Any, diagonal: bool) -> list[list[Cell]]:
    """The cells of each line whose total is printed: rows, then columns, then the diagonal."""
    out = [[(i, j) for j in range(shape[1])] for i in range(shape[0]) if rows[i]]
    out += [[(i, j) for i in range(shape[0])] for j in range(shape[1]) if cols[j]]
    if diagonal:
        out.append([(i, i) for i in range(min(shape))])
    return out


def reader_ranges(table: Any, small: Any, hidden: Any, *, limit: int, row_totals: Any = None,
                  column_totals: Any = None, diagonal_total: bool = False, x_any: bool = False,
                  stop_at_narrowed: bool = False) -> dict[Cell, tuple[int, int] | None]:
    """Per small cell (``small``, read ``"<limit"``): the (least, most) it can hold for a reader who knows
    the shown cells, the printed totals, that small cells hold 1 to ``limit - 1`` and the other
    ``hidden`` cells 0 or at least ``limit`` (any count when ``x_any``). None when no grid fits.
    ``stop_at_narrowed``: stop at the first cell narrower than 1 to ``limit - 1`` (or None)."""
    grid = np.asarray(table, dtype=float)
    small, hidden = np.asarray(small, bool), np.asarray(hidden, bool)
    rows = np.ones(grid.shape[0], bool) if row_totals is None else np.asarray(row_totals, bool)
    cols = np.ones(grid.shape[1], bool) if column_totals is None else np.asarray(column_totals, bool)
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden | small))]
    index = {c: k for k, c in enumerate(cells)}
    others = [c for c in cells if not small[c]] if not x_any else []
    count = len(cells) + len(others)  # one unknown per hidden cell, one switch (0 or >= limit) per x cell
    top = float(grid.sum())
    lower, upper = np.zeros(count), np.full(count, top)
    for c in cells:
        if small[c]:
            lower[index[c]], upper[index[c]] = 1, limit - 1
    upper[len(cells):] = 1
    equations, sums = [], []
    for line in grid_lines(grid.shape, rows, cols, diagonal_total):
        row = np.zeros(count)
        for c in line:
            if c in index:
                row[index[c]] = 1
        if row.any():
            equations.append(row)
            sums.append(sum(grid[c] for c in line if c in index))
    constraints = [LinearConstraint(np.array(equations), sums, sums)] if equations else []
    for k, c in enumerate(others):  # x >= limit * s and x <= top * s: x is 0 (s = 0) or at least limit
        switch = np.zeros((2, count))
        switch[:, index[c]] = 1
        switch[0, len(cells) + k], switch[1, len(cells) + k] = -limit, -top
        constraints.append(LinearConstraint(switch, [0, -np.inf], [np.inf, 0]))
    out: dict[Cell, tuple[int, int] | None] = {}
    for c in cells:
        if not small[c]:
            continue
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(count)
            objective[index[c]] = sign
            result = milp(objective, constraints=constraints, integrality=np.ones(count), bounds=Bounds(lower, upper))
            ends.append(int(round(sign * result.fun)) if result.success else None)
        out[c] = None if None in ends else (ends[0], ends[1])
        if stop_at_narrowed and out[c] != (1, limit - 1):
            break
    return out


def narrowed_cells(table: Any, small: Any, hidden: Any, *, limit: int, first: bool = False, **totals: Any) -> list[Cell]:
    """The small cells a reader can narrow below 1 to ``limit - 1`` (:func:`reader_ranges`); where no grid
    fits the ``x`` cells' "0 or at least limit" (some of them hold a small count read ``x``), the reader
    can assume nothing of the ``x`` cells and is asked again so. ``first``: the first one found only."""
    ranges = reader_ranges(table, small, hidden, limit=limit, **totals, stop_at_narrowed=first)
    if any(r is None for r in ranges.values()):
        ranges = reader_ranges(table, small, hidden, limit=limit, **totals, x_any=True, stop_at_narrowed=first)
    return [c for c, r in ranges.items() if r != (1, limit - 1)]
