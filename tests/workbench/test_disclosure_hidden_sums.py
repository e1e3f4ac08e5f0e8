"""A collaborator's confusion matrix gives no small count back through what its hidden cells must hold
together: a line (row, column, the diagonal) with a printed total holds the total minus its shown cells
in its hidden ones, the small ones read "<5" (1 to 4) and the others "x" (0 or at least 5), and the
cells are whole numbers.

Real rows: the Cleveland records (``num`` 0-4) with a crude real score (``cleveland`` of the macro
curve tests), held-out part of 80 (seed 5). Before the change its matrix hid (2, 2), (1, 2) and (3, 2)
as three "<5" in a column of 22 whose other cells showed 19 and 0: 3 patients in three cells of at
least 1, so each was 1; the reader's integer bounds pinned five small cells and narrowed seven more.
The binary matrix: 24 real heart-failure records (seed 16) at a real score's cut, 6 events read as
FN "<5" and TP "x": TP, not small, is 5, and FN 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from permissions._reader_bounds import narrowed_cells, reader_ranges
from permissions.disclosure import (
    confusion_suppression,
    determined_cells,
    recoverable_cells,
    short_lines,
    table_suppression,
)
from tests.workbench.test_curve_disclosure_macro import cleveland
from workbench.services._measure_disclosure import multiclass_confusion_cells
from workbench.services._table_disclosure import COMPLEMENT_LABEL

LIMIT = 5


@pytest.fixture(scope="module")
def one_patient(datasets_dir):
    return cleveland(datasets_dir, 80, 5)


def as_read(cells) -> tuple[np.ndarray, np.ndarray]:
    """(small, hidden) as the reader reads the printed cells."""
    small = np.array([[c == f"<{LIMIT}" for c in row] for row in cells])
    return small, small | np.array([[c == COMPLEMENT_LABEL for c in row] for row in cells])


def known_totals(table: np.ndarray) -> dict:
    """The totals a reader knows: classes and predicted counts unless small (hidden wherever printed), and
    the diagonal (accuracy x patients)."""
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    return {"row_totals": ~((rows > 0) & (rows < LIMIT)), "column_totals": ~((cols > 0) & (cols < LIMIT)),
            "diagonal_total": True}


def hidden_sums(table: np.ndarray, hidden: np.ndarray) -> list[float]:
    """What the hidden cells of each line with a known total of at least the threshold hold together."""
    k = table.shape[0]
    lines = [table[i][hidden[i]] for i in range(k) if table[i].sum() >= LIMIT]
    lines += [table[:, j][hidden[:, j]] for j in range(k) if table[:, j].sum() >= LIMIT]
    lines.append(np.diag(table)[np.diag(hidden)])
    return [float(line.sum()) for line in lines]


def test_the_reader_pins_small_cells_by_whole_numbers():
    """The reader itself, on lines whose answer is plain: "<5" + "x" = 6 is 1 and 5; two "<5" = 8 are 4, 4."""
    one = reader_ranges([[1, 5, 30]], [[True, False, False]], [[True, True, False]], limit=LIMIT,
                        column_totals=np.zeros(3, bool))
    assert one == {(0, 0): (1, 1)}
    two = reader_ranges([[4, 4, 30]], [[True, True, False]], [[True, True, False]], limit=LIMIT,
                        column_totals=np.zeros(3, bool))
    assert two == {(0, 0): (4, 4), (0, 1): (4, 4)}
    free = reader_ranges([[2, 9, 30]], [[True, False, False]], [[True, True, False]], limit=LIMIT,
                         column_totals=np.zeros(3, bool))
    assert free == {(0, 0): (1, 4)}  # 11 = "<5" + "x": anything from 1 + 10 to 4 + 7


def test_a_collaborators_multiclass_matrix_holds_no_small_sum(one_patient):
    table = np.asarray(one_patient.main.metrics.confusion, dtype=float)
    assert table[:, 2].tolist() == [19, 1, 1, 1, 0]  # the case on real data
    small, hidden = as_read(multiclass_confusion_cells(one_patient, limit=LIMIT))
    assert (hidden | ~((table > 0) & (table < LIMIT))).all()  # every small cell is hidden
    sums = hidden_sums(table, hidden)
    assert all(s == 0 or s >= LIMIT for s in sums), sums
    assert determined_cells(hidden, diagonal_total=True) == [] and recoverable_cells(hidden) == []
    assert narrowed_cells(table, small, hidden, limit=LIMIT, **known_totals(table)) == []
    assert small.any()  # the rule keeps "<5" where it bounds nothing


def test_random_grids_leave_no_small_sum_and_nothing_narrowed():
    rng = np.random.default_rng(1)
    for _ in range(12):
        k = int(rng.integers(3, 5))
        grid = (rng.integers(0, 12, size=(k, k)) * (rng.random((k, k)) < 0.8)).astype(float)
        small, mask = table_suppression(grid, limit=LIMIT, diagonal_total=True)
        assert short_lines(grid, mask, limit=LIMIT, small=small, diagonal_total=True) == [], grid
        assert narrowed_cells(grid, small, mask, limit=LIMIT, **known_totals(grid)) == [], grid
        assert determined_cells(mask, diagonal_total=True) == [], grid


def heart_failure_matrix(datasets_dir) -> np.ndarray:
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    score = frame["serum_creatinine"].rank(pct=True) + (1 - frame["ejection_fraction"].rank(pct=True))
    sample = frame.assign(flag=score > score.quantile(0.6)).sample(n=24, random_state=16)
    observed, flagged = sample["DEATH_EVENT"].to_numpy() == 1, sample["flag"].to_numpy()
    return np.array([[(~observed & ~flagged).sum(), (~observed & flagged).sum()],
                     [(observed & ~flagged).sum(), (observed & flagged).sum()]], dtype=float)


def test_a_binary_row_of_few_events_reads_x_x(datasets_dir):
    table = heart_failure_matrix(datasets_dir)
    assert table.tolist() == [[15, 3], [1, 5]]  # the case on real data: 6 events printed
    small, hidden = confusion_suppression(table, limit=LIMIT)
    assert hidden.all()
    totals = {"column_totals": np.zeros(2, bool)}
    assert narrowed_cells(table, small, hidden, limit=LIMIT, **totals) == []
    assert recoverable_cells(hidden, **totals) == []
    assert not small[1].any() and small[0, 1]  # the events' "<5" reads x; the non-events (18) keep theirs
    assert reader_ranges(table, small, hidden, limit=LIMIT, **totals) == {(0, 1): (1, 4)}


def test_owners_keep_every_number(one_patient, datasets_dir):
    assert multiclass_confusion_cells(one_patient, limit=0) is None  # the full view prints the matrix itself
    small, mask = confusion_suppression(heart_failure_matrix(datasets_dir), limit=0)
    assert not small.any() and not mask.any()
