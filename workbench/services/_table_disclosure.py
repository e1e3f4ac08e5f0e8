"""Secondary suppression on what a results-only viewer gets: Table 1, subgroups (table and forest
plot) and the patient and event counts of the performance tables.

The table builders hide counts below 5 (``suppress_below``). Those tables also show totals: Table 1
has the overall column (the row total of each level) and the group sizes in its header (the column
totals of a variable's levels); the subgroup table and the forest plot have the overall n and
events (the totals of each variable's levels); the training (out-of-fold) and test parts of the
performance tables add up to the analysed table, whose patients and events Table 1 prints. One
hidden cell in such a line is the total minus the others, so
:func:`permissions.disclosure.complementary_suppression` picks complementary cells to hide as well.
They are shown as ``x`` with a note, since writing ``<5`` for them would be untrue. The subgroup
table and the forest plot print the same counts (:func:`subgroup_counts`), and their overall line
is the main part's counts as the performance table prints them (:func:`part_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from permissions.disclosure import complementary_suppression, count_line_suppression
from pipelines import tables as tb
from pipelines.evaluation import SubgroupPerformance, TableOne
from pipelines.tables._table import Cell
from workbench.i18n import t
from workbench.services._evaluate import ModelEvaluation

__all__ = ["COMPLEMENT_LABEL", "protect_table_one", "hidden_groups", "protect_subgroups", "protect_performance", "table_one_blocks",
           "count_lines", "part_lines", "part_counts", "main_mask", "subgroup_lines", "subgroup_counts", "forest_counts",
           "complement_note"]

COMPLEMENT_LABEL = "x"


def _small(values: np.ndarray, limit: int) -> np.ndarray:
    return (values > 0) & (values < limit)


def table_one_blocks(source: TableOne) -> list[list[int]]:
    """Indices of ``source.rows`` that form one variable's levels (rows with counts), in order."""
    blocks: dict[str, list[int]] = {}
    for i, row in enumerate(source.rows):
        if row.kind == "categorical" and row.counts:
            blocks.setdefault(row.variable, []).append(i)
    return list(blocks.values())


def hidden_groups(source: TableOne, *, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(primary, mask) over the outcome groups of Table 1: a group of 1 to ``limit - 1`` patients, and
    the smallest other group with it while the overall size is printed (it is their sum)."""
    sizes = np.array([source.group_sizes], dtype=float)
    primary = _small(sizes, limit)
    if not limit or not primary.any():
        return primary[0], primary[0].copy()
    mask = complementary_suppression(sizes, primary, row_totals=~_small(np.array([source.n]), limit),
                                     column_totals=np.zeros(sizes.shape[1], bool))
    return primary[0], mask[0]


def protect_table_one(table: tb.Table, source: TableOne, *, limit: int, lang: str = "en") -> tb.Table:
    """``table`` (built by ``table_one_table`` from ``source`` with ``suppress_below=limit``) with complements hidden.

    An outcome group below ``limit`` is hidden whole, with a second group (:func:`hidden_groups`): its
    size, and every cell of its column, since a percentage gives its column's size back and a mean or
    median of fewer than five patients is nearly a patient's own value; the P values too, which
    compare the groups. Within the shown columns, each variable's levels get complements as before."""
    if not limit:
        return table
    rows = [list(r) for r in table.rows]
    columns = list(table.columns)
    groups = len(source.groups)
    small_group, hidden_group = hidden_groups(source, limit=limit)
    hidden_any = False
    for g in np.nonzero(hidden_group)[0]:
        size = f"<{limit}" if small_group[g] else COMPLEMENT_LABEL
        columns[2 + g] = t("figures.table.group", lang, outcome=source.outcome, value=source.groups[g], n=size)
        for row in rows:
            if row[2 + g] != "":
                row[2 + g] = COMPLEMENT_LABEL
    if hidden_group.any():
        for row in rows:
            row[3 + groups] = row[4 + groups] = ""  # P value and test
    for block in table_one_blocks(source):
        grid = np.array([source.rows[i].counts[1:1 + groups] for i in block], dtype=float)
        overall = np.array([source.rows[i].counts[0] for i in block], dtype=float)
        primary = _small(grid, limit) | hidden_group[None, :]
        # A lone level row (binary variable, "= yes" only): its column partner is not printed.
        columns_shown = np.full(groups, len(block) > 1)
        mask = complementary_suppression(grid, primary, row_totals=~_small(overall, limit), column_totals=columns_shown)
        for (r, g) in zip(*np.nonzero(mask & ~primary)):
            rows[block[r]][2 + g] = COMPLEMENT_LABEL
            hidden_any = True
    out = _with_note(table, rows, hidden_any, lang)
    notes = out.notes + ((t("figures.table.note_group_hidden", lang, n=limit, label=COMPLEMENT_LABEL),)
                         if hidden_group.any() else ())
    return tb.Table(out.title, tuple(columns), out.rows, notes, out.name)


def _labels(grid: np.ndarray, primary: np.ndarray, mask: np.ndarray, limit: int) -> list[tuple[Cell, Cell]]:
    def one(value: float, small: bool, hidden: bool) -> Cell:
        return f"<{limit}" if small else COMPLEMENT_LABEL if hidden else int(value)

    return [(one(grid[i, 0], primary[i, 0], mask[i, 0]), one(grid[i, 1], primary[i, 1], mask[i, 1]))
            for i in range(grid.shape[0])]


def count_lines(lines: np.ndarray, limit: int, *, column_totals=None, forced=None) -> tuple[list[tuple[Cell, Cell]], np.ndarray]:
    """(n, events) as printed for each line, and the (k, 3) mask over (n, events, non-events)."""
    grid = np.asarray(lines, dtype=float).reshape(-1, 2)
    if not limit:
        return [(int(n), int(e)) for n, e in grid], np.zeros((len(grid), 3), bool)
    mask = count_line_suppression(grid, limit=limit, column_totals=column_totals, forced=forced)
    return _labels(grid, _small(grid, limit), mask, limit), mask


def part_lines(evaluation: ModelEvaluation, *, limit: int) -> dict[str, tuple[tuple[Cell, Cell], np.ndarray]]:
    """Each part's printed (n, events) and its mask over (n, events, non-events) (binary models).

    The parts add up to the analysed table, whose patients, events and non-events Table 1 prints
    (its overall column and group sizes), so every column total is shown."""
    parts = [p for p in evaluation.parts if hasattr(p.metrics, "n_positive")]
    grid = np.array([[p.metrics.n, p.metrics.n_positive] for p in parts], dtype=float).reshape(-1, 2)
    labels, mask = count_lines(grid, limit)
    return {p.part: (cells, mask[i]) for i, (p, cells) in enumerate(zip(parts, labels))}


def part_counts(evaluation: ModelEvaluation, *, limit: int) -> dict[str, tuple[Cell, Cell]]:
    """Patients and events of each part (binary models) as a restricted viewer sees them: the number,
    ``"<limit"``, or ``x`` when it would give a small count (events or non-events, here or in the
    other part) away by subtraction."""
    return {part: cells for part, (cells, _) in part_lines(evaluation, limit=limit).items()}


def subgroup_lines(source: SubgroupPerformance, *, limit: int,
                   overall: np.ndarray | None = None) -> tuple[list[tuple[Cell, Cell]], np.ndarray]:
    """The (n, events) printed for the overall line, then for each row of ``source`` (subgroup table
    and forest plot alike), with the (k, 3) mask. ``overall`` is the main part's mask from
    :func:`part_lines`: a column hidden there is hidden on every level, which would add up to it."""
    lines = [(r.n, r.n_positive) for r in (source.overall, *source.rows)]
    if not limit:
        return [(int(n), int(e)) for n, e in lines], np.zeros((len(lines), 3), bool)
    first = np.array([lines[0]], dtype=float)
    if overall is None:
        labels, head = count_lines(first, limit, column_totals=np.zeros(3, bool))
        overall = head[0]
    else:
        grid_first = first.reshape(1, 2)
        labels = _labels(grid_first, _small(grid_first, limit), np.asarray(overall, bool)[None, :2], limit)
    overall = np.asarray(overall, bool)
    printed: list[tuple[Cell, Cell]] = [None] * len(source.rows)  # type: ignore[list-item]
    masks = np.zeros((len(lines), 3), bool)
    masks[0] = overall
    by_variable: dict[str, list[int]] = {}
    for i, row in enumerate(source.rows):
        by_variable.setdefault(row.variable, []).append(i)
    for rows in by_variable.values():
        grid = np.array([lines[1 + i] for i in rows], dtype=float)
        cells, mask = count_lines(grid, limit, column_totals=~overall, forced=overall)
        for i, c, m in zip(rows, cells, mask):
            printed[i], masks[1 + i] = c, m
    return labels + printed, masks


def subgroup_counts(source: SubgroupPerformance, *, limit: int,
                    overall: np.ndarray | None = None) -> list[tuple[Cell, Cell]]:
    """The (n, events) printed for the overall line, then for each row of ``source``."""
    return subgroup_lines(source, limit=limit, overall=overall)[0]


def main_mask(evaluation: ModelEvaluation, *, limit: int) -> np.ndarray | None:
    """The main part's (n, events, non-events) mask: the subgroups' overall line is that part."""
    line = part_lines(evaluation, limit=limit).get(evaluation.main.part)
    return None if line is None else line[1]


def protect_subgroups(table: tb.Table, source: SubgroupPerformance, *, limit: int, lang: str = "en",
                      overall: np.ndarray | None = None) -> tb.Table:
    """The subgroup table with complements hidden among each variable's levels (n and events columns)."""
    if not limit:
        return table
    rows = [list(r) for r in table.rows]  # row 0 is the overall line, then source.rows in order
    hidden_any = False
    for row, cells in zip(rows, subgroup_counts(source, limit=limit, overall=overall)):
        for c, cell in enumerate(cells):
            if cell == COMPLEMENT_LABEL:
                row[2 + c] = cell
                hidden_any = True
    return _with_note(table, rows, hidden_any, lang)


def protect_performance(table: tb.Table, evaluations: Sequence[ModelEvaluation], *, part: str, limit: int,
                        lang: str = "en") -> tb.Table:
    """A performance table (``evaluations`` are its model columns, in order) with its patient and event
    counts (the last two rows of a binary table) as :func:`part_counts` prints them."""
    rows = [list(r) for r in table.rows]
    counted = len(rows) >= 2 and all(isinstance(c, int) and not isinstance(c, bool) for r in rows[-2:] for c in r[1:])
    if not limit or not counted:
        return table
    hidden_any = False
    for j, evaluation in enumerate(evaluations, start=1):
        n, events = part_counts(evaluation, limit=limit).get(part, (rows[-2][j], rows[-1][j]))
        rows[-2][j], rows[-1][j] = n, events
        hidden_any |= COMPLEMENT_LABEL in (n, events)
    return _with_note(table, rows, hidden_any, lang)


def forest_counts(evaluation: ModelEvaluation, *, limit: int, lang: str = "en") -> tuple[list[tuple[Cell, Cell]] | None, str]:
    """The forest plot's (n, events) labels as the subgroup table prints them, and its footnote
    when a complement is hidden; ``(None, "")`` for the full view."""
    if not limit or evaluation.subgroups is None:
        return None, ""
    counts = subgroup_counts(evaluation.subgroups, limit=limit, overall=main_mask(evaluation, limit=limit))
    return counts, complement_note(lang) if any(COMPLEMENT_LABEL in cells for cells in counts) else ""


def complement_note(lang: str) -> str:
    return t("auth.disclosure.complementary", lang, label=COMPLEMENT_LABEL)


def _with_note(table: tb.Table, rows: Sequence[list], hidden_any: bool, lang: str) -> tb.Table:
    notes = table.notes + ((complement_note(lang),) if hidden_any else ())
    return tb.Table(table.title, table.columns, tuple(tuple(r) for r in rows), notes, table.name)
