"""Secondary suppression: no count hidden as "<5" can be worked out from the totals a table shows.

The property, checked on random grids and on Table 1 and subgroup tables of real datasets (small
samples, where small cells occur): every hidden cell shares its row with another hidden cell (or
the row total is hidden) and shares its column with another hidden cell (where the column total
is printed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permissions.disclosure import complementary_suppression, recoverable_cells
from pipelines import tables as tb
from pipelines.evaluation import subgroup_performance, table_one
from workbench.services._table_disclosure import COMPLEMENT_LABEL, protect_subgroups, protect_table_one, table_one_blocks

LIMIT = 5


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6).flatmap(lambda rows: st.integers(2, 5).flatmap(
    lambda cols: st.lists(st.lists(st.integers(0, 40), min_size=cols, max_size=cols), min_size=rows, max_size=rows))))
def test_no_hidden_cell_is_alone_in_a_line_with_a_shown_total(grid):
    counts = np.array(grid)
    primary = (counts > 0) & (counts < LIMIT)
    mask = complementary_suppression(counts, primary)
    assert (mask | ~primary).all()  # primary cells stay hidden
    single_row = counts.shape[0] == 1
    assert recoverable_cells(mask, column_totals=None if not single_row else np.zeros(counts.shape[1], bool)) == []


def test_primary_alone_is_recoverable_so_the_check_can_fail():
    counts = np.array([[3, 40, 12], [20, 25, 30]])
    primary = (counts > 0) & (counts < LIMIT)
    assert recoverable_cells(primary) == [(0, 0)]
    mask = complementary_suppression(counts, primary)
    assert mask.sum() == 4 and mask[0, 2] and mask[1, 0]  # the smallest cells of its row and column, and their partner


def _hidden(cell) -> bool:
    return cell == f"<{LIMIT}" or cell == COMPLEMENT_LABEL


def _check_table_one(source, table) -> int:
    """Assert the property on the printed Table 1; return how many complements were hidden."""
    groups = len(source.groups)
    complements = 0
    for block in table_one_blocks(source):
        hidden = np.array([[_hidden(table.rows[i][2 + g]) for g in range(groups)] for i in block])
        overall_hidden = np.array([_hidden(table.rows[i][1]) for i in block])
        columns = None if len(block) > 1 else np.zeros(groups, bool)
        assert recoverable_cells(hidden, row_totals=~overall_hidden, column_totals=columns) == [], (source.rows[block[0]].variable, hidden)
        complements += sum(table.rows[i][2 + g] == COMPLEMENT_LABEL for i in block for g in range(groups))
    return complements


CASES = [
    ("heart_failure_clinical_records.csv", "DEATH_EVENT", ["anaemia", "diabetes", "high_blood_pressure", "sex", "smoking"]),
    ("gbsg2.csv", "cens", ["horTh", "menostat", "tgrade"]),
    ("heart_cleveland.csv", "num", ["sex", "cp", "fbs", "restecg", "exang", "slope", "thal"]),
]


@pytest.mark.parametrize(("file", "outcome", "columns"), CASES)
def test_table_one_of_real_samples_leaks_no_small_count(datasets_dir, file, outcome, columns):
    data = pd.read_csv(datasets_dir / file)
    if outcome == "num":
        data[outcome] = (data[outcome] > 0).astype(int)
    complements = 0
    for seed in range(12):
        sample = data.sample(n=45, random_state=seed)
        if sample[outcome].nunique() < 2:
            continue
        source = table_one(sample, outcome=outcome, columns=columns)
        printed = tb.table_one_table(source, suppress_below=LIMIT)
        if seed == 0:  # primary suppression alone leaves small cells recoverable in these samples
            assert any(_hidden(c) for row in printed.rows for c in row[2:2 + len(source.groups)])
        protected = protect_table_one(printed, source, limit=LIMIT)
        complements += _check_table_one(source, protected)
    assert complements > 0  # the rule had something to do on real data


def test_subgroup_table_of_a_real_sample_leaks_no_small_count(datasets_dir):
    data = pd.read_csv(datasets_dir / "heart_cleveland.csv").sample(n=120, random_state=4)
    y = (data["num"] > 0).astype(int).to_numpy()
    risk = (data["thalach"].rank(pct=True, ascending=False) * 0.8 + 0.1).to_numpy()  # a crude real score
    groups = pd.DataFrame({"cp": data["cp"].astype(str), "restecg": data["restecg"].astype(str)})
    source = subgroup_performance(y, risk, groups, threshold=0.5, n_resamples=20, min_size=5)
    printed = protect_subgroups(tb.subgroup_table(source, suppress_below=LIMIT), source, limit=LIMIT)
    by_variable: dict[str, list[int]] = {}
    for i, row in enumerate(source.rows, start=1):
        by_variable.setdefault(row.variable, []).append(i)
    hidden_somewhere = False
    for lines in by_variable.values():
        hidden = np.array([[_hidden(printed.rows[i][2]), _hidden(printed.rows[i][3])] for i in lines])
        hidden_somewhere |= bool(hidden.any())
        assert recoverable_cells(hidden, row_totals=np.zeros(len(lines), bool)) == []
    assert hidden_somewhere


def test_full_view_is_untouched():
    data = pd.DataFrame({"y": [0, 1] * 20, "g": ["a"] * 37 + ["b"] * 3})
    source = table_one(data, outcome="y", columns=["g"])
    printed = tb.table_one_table(source, suppress_below=0)
    assert protect_table_one(printed, source, limit=0) == printed
