"""Table 1 gives no outcome group of 1 to 4 patients away: not in its header ("n = 3"), not as the
overall size minus the other groups, not through its column's cells (a percentage gives the column's
size back; a median of three patients is one patient's value), not through the P values.

Real rows: 3 heart-failure deaths among 40 survivors (binary outcome), and a Cleveland sample whose
"num = 4" class holds 3 patients (five classes). Before the change both headers printed "n = 3".
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pipelines import tables as tb
from pipelines.evaluation import table_one
from workbench.services._table_disclosure import COMPLEMENT_LABEL, protect_table_one

LIMIT = 5
_SIZE = re.compile(r"\(n = ([^)]*)\)$")


def _sample(datasets_dir, case: str) -> tuple[pd.DataFrame, str, list[str]]:
    if case == "heart_failure":
        data = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
        frame = pd.concat([data[data.DEATH_EVENT == 1].sample(3, random_state=2),
                           data[data.DEATH_EVENT == 0].sample(40, random_state=2)])
        return frame, "DEATH_EVENT", ["age", "ejection_fraction", "serum_creatinine", "sex", "smoking", "diabetes"]
    data = pd.read_csv(datasets_dir / "heart_cleveland.csv")
    frame = pd.concat([data[data.num == 4].sample(3, random_state=2), data[data.num < 4].sample(60, random_state=2)])
    return frame, "num", ["age", "chol", "sex", "cp", "exang"]


@pytest.fixture(params=["heart_failure", "cleveland"])
def printed(request, datasets_dir):
    frame, outcome, columns = _sample(datasets_dir, request.param)
    source = table_one(frame, outcome=outcome, columns=columns)
    assert min(source.group_sizes) == 3  # the case on real data
    return source, protect_table_one(tb.table_one_table(source, suppress_below=LIMIT), source, limit=LIMIT)


def _size(header: str) -> int | None:
    text = _SIZE.search(header).group(1)
    return int(text) if text.isdigit() else None


def test_no_group_below_five_can_be_worked_out(printed):
    source, table = printed
    groups = len(source.groups)
    overall, sizes = _size(table.columns[1]), [_size(c) for c in table.columns[2:2 + groups]]
    hidden = [g for g, size in enumerate(sizes) if size is None]
    assert all(size >= LIMIT for size in sizes if size is not None)
    small = [g for g, size in enumerate(source.group_sizes) if size < LIMIT]
    assert set(small) <= set(hidden)
    # the overall size minus the shown groups is the sum of at least two hidden ones
    assert overall is None or len(hidden) != 1
    for row in table.rows:
        for g in hidden:  # nothing in a hidden column: no count, percentage or summary of its patients
            assert row[2 + g] in ("", COMPLEMENT_LABEL), row
        assert row[3 + groups] == "" and row[4 + groups] == ""  # no P value comparing the groups
    assert any(COMPLEMENT_LABEL in note for note in table.notes)


def test_the_full_view_keeps_every_group(datasets_dir):
    frame, outcome, columns = _sample(datasets_dir, "heart_failure")
    source = table_one(frame, outcome=outcome, columns=columns)
    table = tb.table_one_table(source, suppress_below=0)
    assert [_size(c) for c in table.columns[2:4]] == [40, 3]
    assert protect_table_one(table, source, limit=0) == table
