"""Cell suppression on a grid of counts whose line totals are printed (the machinery behind
:mod:`permissions.disclosure`, which re-exports the public names).

Hiding a small cell of a line with a printed total hides nothing: the total minus the other cells gives
it back. :func:`complementary_suppression` hides complements so that no hidden cell is alone in such a
line; :func:`determined_cells` finds hidden cells that the totals still fix through any chain of sums
and differences (a rank test); :func:`short_lines` finds lines whose hidden cells hold a small count
together or bound a small cell by what the ``"<5"`` and ``x`` labels say; :func:`table_suppression`
puts them together for a multiclass confusion matrix, with a reader solving for each small cell in
whole numbers (:mod:`permissions._reader_bounds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from permissions._reader_bounds import grid_lines, narrowed_cells

__all__ = ["small_grid", "complementary_suppression", "recoverable_cells", "determined_cells", "short_lines",
           "table_suppression"]


def complementary_suppression(
    counts: Any,
    primary: Any,
    *,
    row_totals: Any = None,
    column_totals: Any = None,
    min_hidden_total: int = 0,
) -> np.ndarray:
    """The cells to hide so that no primary-suppressed count can be recovered by subtraction.

    ``counts`` is a grid of non-negative counts whose row and column totals are published;
    ``primary`` marks the cells already hidden (small counts). ``row_totals`` / ``column_totals``
    say, per line, whether that total is shown (default: all shown; a hidden total protects its
    line). Returns the full mask (primary plus complementary cells). A complement is the smallest
    non-zero visible cell of the line (a zero is often known from context, so it is used only when
    nothing else is left), which hides as little as possible. ``min_hidden_total``: a line whose total
    is shown also takes complements while its hidden cells add up to 1 to ``min_hidden_total - 1``
    (the total minus the shown cells is that sum), unless the line's total is itself under it (a small
    count, hidden wherever it is printed); 0 (default) asks only for a second hidden cell.
    The mask returned is a fixed point: given back as ``primary``, it comes back unchanged.
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
                hidden_sum = values[i][lines[i]].sum()
                small_sum = 0 < hidden_sum < min_hidden_total <= values[i].sum()  # a small line is hidden elsewhere
                if not shown[i] or not (lines[i].sum() == 1 or small_sum):
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


def small_grid(grid: np.ndarray, limit: int) -> np.ndarray:
    return (grid > 0) & (grid < limit)


def determined_cells(mask: Any, *, row_totals: Any = None, column_totals: Any = None,
                     diagonal_total: bool = False) -> list[tuple[int, int]]:
    """Hidden cells whose value the shown cells and totals fix exactly, by any sequence of sums and
    differences (not only alone in a line: :func:`recoverable_cells` is the one-step case).

    The hidden cells are unknowns; each shown total gives one equation over its line's hidden cells. A
    cell is fixed when its unit vector lies in the span of those equations (rank test), which covers
    chains of subtractions across rows and columns. ``diagonal_total``: the sum of the diagonal is
    known too (a multiclass accuracy beside the patients gives it)."""
    hidden = np.asarray(mask, dtype=bool)
    rows_shown = np.ones(hidden.shape[0], bool) if row_totals is None else np.asarray(row_totals, bool)
    cols_shown = np.ones(hidden.shape[1], bool) if column_totals is None else np.asarray(column_totals, bool)
    cells = list(zip(*np.nonzero(hidden)))
    if not cells:
        return []
    equations = [[1.0 if i == r else 0.0 for i, _ in cells] for r in range(hidden.shape[0]) if rows_shown[r]]
    equations += [[1.0 if j == c else 0.0 for _, j in cells] for c in range(hidden.shape[1]) if cols_shown[c]]
    if diagonal_total:
        equations.append([1.0 if i == j else 0.0 for i, j in cells])
    system = np.array(equations, dtype=float).reshape(-1, len(cells))
    rank = np.linalg.matrix_rank(system) if len(system) else 0
    out = []
    for k, (i, j) in enumerate(cells):
        unit = np.zeros((1, len(cells)))
        unit[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([system, unit])) == rank:
            out.append((int(i), int(j)))
    return out


def _bounds_small(held: float, small: int, others: int, limit: int) -> bool:
    """Do a line's hidden cells (``small`` read ``"<limit"``, ``others`` read ``x``: 0 or at least
    ``limit`` each) holding ``held`` together tell a reader more about a small cell than 1 to ``limit - 1``?
    Yes unless, for every value of one small cell, the rest can hold what is left."""
    if 0 < held < limit:
        return True
    if not small:
        return False
    low, high = small - 1, (small - 1) * (limit - 1)  # what the other small cells can hold together

    def fits(rest: float) -> bool:
        return low <= rest <= high or (others > 0 and rest >= low + limit)

    return not all(fits(held - v) for v in range(1, limit))


def short_lines(table: Any, mask: Any, *, limit: int, small: Any = None, row_totals: Any = None,
                column_totals: Any = None, diagonal_total: bool = False) -> list[list[tuple[int, int]]]:
    """The lines with a printed total (rows, columns, the diagonal when ``diagonal_total``) whose hidden
    cells give a small count away by their sum (the total minus the shown cells).

    A line fails when its hidden cells hold 1 to ``limit - 1`` patients together, or when that sum
    bounds a small cell: the small cells (``small``, default the hidden counts 1 to ``limit - 1``) read
    ``"<limit"`` and the other hidden ones ``x`` (0 or at least ``limit``), so a line of 6 hidden as
    "<5" and "x" is 1 and 5, and two "<5" holding 8 are 4 and 4. A line whose total is itself under
    ``limit`` is a small count printed nowhere and is left out. Each line is its list of cells."""
    grid = np.asarray(table, dtype=float)
    hidden = np.asarray(mask, dtype=bool)
    marked = hidden & (small_grid(grid, limit) if small is None else np.asarray(small, bool))
    rows = np.ones(grid.shape[0], bool) if row_totals is None else np.asarray(row_totals, bool)
    cols = np.ones(grid.shape[1], bool) if column_totals is None else np.asarray(column_totals, bool)
    out = []
    for line in grid_lines(grid.shape, rows, cols, diagonal_total):
        held = sum(grid[x] for x in line if hidden[x])
        p = sum(bool(marked[x]) for x in line)
        others = sum(bool(hidden[x]) for x in line) - p
        if sum(grid[x] for x in line) >= limit and _bounds_small(held, p, others, limit):
            out.append(line)
    return out


def _printed(shown: Any, totals: np.ndarray, limit: int) -> np.ndarray:
    """Which line totals a reader knows: those printed, but not a small one (1 to ``limit - 1``, hidden)."""
    printed = np.ones(len(totals), bool) if shown is None else np.asarray(shown, bool).copy()
    return printed & ~small_grid(totals, limit)


def table_suppression(table: Any, *, limit: int, row_totals: Any = None, column_totals: Any = None,
                      diagonal_total: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(small, mask) of a grid whose row and column totals are printed (a multiclass confusion matrix:
    observed classes, predicted classes): ``small`` the cells to print as ``"<limit"``, ``mask`` every
    cell to hide (the rest of it reads ``x``).

    Counts 1 to ``limit - 1`` are hidden, with complements per row and column
    (:func:`complementary_suppression`); then, while the totals fix a hidden cell
    (:func:`determined_cells`, with the diagonal's sum when ``diagonal_total``), a line's hidden cells
    give a small count away by their sum (:func:`short_lines`), or a reader can narrow a small cell down
    by whole numbers across lines (:func:`permissions._reader_bounds.narrowed_cells`), the smallest
    shown non-zero cell of its row (else its column, else anywhere) is hidden too. Where no such cell is
    left, the small cells concerned read ``x``, which bounds nothing."""
    grid = np.asarray(table, dtype=float)
    primary = small_grid(grid, limit) if limit else np.zeros(grid.shape, bool)
    if not limit:
        return primary, primary.copy()
    totals = {"row_totals": row_totals, "column_totals": column_totals}
    known = {"row_totals": _printed(row_totals, grid.sum(axis=1), limit),
             "column_totals": _printed(column_totals, grid.sum(axis=0), limit), "diagonal_total": diagonal_total}
    mask = complementary_suppression(grid, primary, **totals, min_hidden_total=limit)
    small = primary.copy()
    everything = [(i, j) for i in range(grid.shape[0]) for j in range(grid.shape[1])]
    while True:
        if fixed := determined_cells(mask, **totals, diagonal_total=diagonal_total):
            cells = fixed[:1]
        elif short := short_lines(grid, mask, limit=limit, small=small, **totals, diagonal_total=diagonal_total):
            cells = [x for x in short[0] if small[x]] or short[0]
        elif narrowed := narrowed_cells(grid, small, mask, limit=limit, first=True, **known):
            cells = narrowed[:1]
        else:
            break
        r, c = cells[0]
        lines = [[(r, j) for j in range(grid.shape[1])], [(i, c) for i in range(grid.shape[0])], everything]
        # a hidden zero adds nothing to a sum: only an equation (a determined cell) takes one, and last
        usable = [[x for x in line if not mask[x] and (fixed or grid[x] > 0)] for line in lines]
        shown = next((line for line in usable if line), [])
        if shown:  # the smallest shown (non-zero) cell of its row, else of its column, else anywhere
            mask[min(shown, key=lambda x: (grid[x] == 0, grid[x], x))] = True
            mask = complementary_suppression(grid, mask, **totals, min_hidden_total=limit)
        elif fixed or not any(small[x] for x in cells):
            break  # every non-zero cell is hidden
        else:
            for x in cells:
                small[x] = False  # read "x": a count of any size
    return small, mask
