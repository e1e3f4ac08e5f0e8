"""Secondary suppression on the tables a results-only viewer gets (Table 1 and subgroups).

The table builders hide counts below 5 (``suppress_below``). Those tables also show totals: Table 1
has the overall column (the row total of each level) and the group sizes in its header (the column
totals of a variable's levels); the subgroup table has the overall n and events (the totals of each
variable's levels). One hidden cell in such a line is the total minus the others, so
:func:`permissions.disclosure.complementary_suppression` picks complementary cells to hide as well.
They are shown as ``x`` with a note, since writing ``<5`` for them would be untrue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from permissions.disclosure import complementary_suppression
from pipelines import tables as tb
from pipelines.evaluation import SubgroupPerformance, TableOne
from workbench.i18n import t

__all__ = ["COMPLEMENT_LABEL", "protect_table_one", "protect_subgroups", "table_one_blocks"]

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


def protect_table_one(table: tb.Table, source: TableOne, *, limit: int, lang: str = "en") -> tb.Table:
    """``table`` (built by ``table_one_table`` from ``source`` with ``suppress_below=limit``) with complements hidden."""
    if not limit:
        return table
    rows = [list(r) for r in table.rows]
    groups = len(source.groups)
    hidden_any = False
    for block in table_one_blocks(source):
        grid = np.array([source.rows[i].counts[1:1 + groups] for i in block], dtype=float)
        overall = np.array([source.rows[i].counts[0] for i in block], dtype=float)
        primary = _small(grid, limit)
        # A lone level row (binary variable, "= yes" only): its column partner is not printed.
        columns_shown = np.full(groups, len(block) > 1)
        mask = complementary_suppression(grid, primary, row_totals=~_small(overall, limit), column_totals=columns_shown)
        for (r, g) in zip(*np.nonzero(mask & ~primary)):
            rows[block[r]][2 + g] = COMPLEMENT_LABEL
            hidden_any = True
    return _with_note(table, rows, hidden_any, lang)


def protect_subgroups(table: tb.Table, source: SubgroupPerformance, *, limit: int, lang: str = "en") -> tb.Table:
    """The subgroup table with complements hidden among each variable's levels (n and events columns)."""
    if not limit:
        return table
    rows = [list(r) for r in table.rows]
    by_variable: dict[str, list[int]] = {}
    for i, row in enumerate(source.rows, start=1):  # row 0 of the table is the overall line
        by_variable.setdefault(row.variable, []).append(i)
    hidden_any = False
    for lines in by_variable.values():
        grid = np.array([[source.rows[i - 1].n, source.rows[i - 1].n_positive] for i in lines], dtype=float)
        primary = _small(grid, limit)
        mask = complementary_suppression(grid, primary, row_totals=np.zeros(len(lines), bool))
        for (r, c) in zip(*np.nonzero(mask & ~primary)):
            rows[lines[r]][2 + c] = COMPLEMENT_LABEL
            hidden_any = True
    return _with_note(table, rows, hidden_any, lang)


def _with_note(table: tb.Table, rows: Sequence[list], hidden_any: bool, lang: str) -> tb.Table:
    notes = table.notes + ((t("auth.disclosure.complementary", lang, label=COMPLEMENT_LABEL),) if hidden_any else ())
    return tb.Table(table.title, table.columns, tuple(tuple(r) for r in rows), notes, table.name)
