"""A multiclass confusion matrix gives a collaborator no cell of 1 to 4 patients, by itself or through
its row totals (the classes, which Table 1 prints), column totals (the predicted counts) or its
diagonal (accuracy x patients), by any chain of sums and differences (a rank test).

Real rows: the Cleveland heart-disease records (``num`` 0-4), a crude real score (ST depression and
maximum heart rate ranks spread over the five classes) as the model, its held-out part of 80
patients. Before the change nothing could print this matrix safely: the export had no multiclass
confusion matrix and the small-cell rule covered two classes only.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from permissions.disclosure import determined_cells, table_suppression
from workbench.services._evaluate import EvalOptions, evaluate_model
from workbench.services._measure_disclosure import multiclass_confusion_cells
from workbench.services._paper_figures import available_figures, make_figure
from workbench.services._table_disclosure import COMPLEMENT_LABEL

LIMIT = 5
CLASSES = [0, 1, 2, 3, 4]
SUMMARY = {"task": "multiclass", "target": "num", "features": ["oldpeak", "thalach"], "classes": CLASSES}


@pytest.fixture(scope="module")
def evaluation(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").reset_index(drop=True)
    severity = (frame["oldpeak"].rank(pct=True) + frame["thalach"].rank(pct=True, ascending=False)) / 2
    centres = np.linspace(0.1, 0.9, len(CLASSES))
    weights = np.exp(-((severity.to_numpy()[:, None] - centres[None, :]) ** 2) / 0.02)
    prob = weights / weights.sum(axis=1, keepdims=True)
    test = frame.sample(n=80, random_state=5).index
    predictions = pd.DataFrame({"row": frame.index, "part": np.where(frame.index.isin(test), "test", "train"),
                                "y_true": frame["num"], **{f"p_{c}": prob[:, i] for i, c in enumerate(CLASSES)}})
    return evaluate_model(model_id=1, label="Score", predictions=predictions, summary=SUMMARY, prepared_frame=frame,
                          options=EvalOptions(n_resamples=20))


def _hidden(cells) -> np.ndarray:
    return np.array([[c == f"<{LIMIT}" or c == COMPLEMENT_LABEL for c in row] for row in cells])


def test_the_held_out_matrix_has_small_cells(evaluation):
    table = evaluation.main.metrics.confusion
    assert ((table > 0) & (table < LIMIT)).sum() >= 3  # the case on real data
    primary = (table > 0) & (table < LIMIT)
    assert determined_cells(primary, diagonal_total=True) != []  # hiding the small cells alone is not enough


def test_a_collaborator_works_out_no_small_cell(evaluation):
    table = evaluation.main.metrics.confusion
    cells = multiclass_confusion_cells(evaluation, limit=LIMIT)
    hidden = _hidden(cells)
    assert (hidden | ~((table > 0) & (table < LIMIT))).all()  # every small cell is hidden
    assert determined_cells(hidden, diagonal_total=True) == []
    for r, row in enumerate(cells):  # a row with a hidden cell prints no share (its total would give it away)
        assert not hidden[r].any() or not any("%" in c for c in row)
        for c, text in enumerate(row):
            if not hidden[r, c]:
                assert int(text.split("\n")[0]) == int(table[r, c])


def test_the_export_draws_what_the_collaborator_may_see(evaluation):
    assert "confusion_matrix" in available_figures([evaluation], safe=True, has_contributions=False)
    figure = make_figure("confusion_matrix", [evaluation], summary=SUMMARY, safe=True)
    texts = [t.get_text() for t in figure.axes[0].texts]
    cells = multiclass_confusion_cells(evaluation, limit=LIMIT)
    assert texts == [c for row in cells for c in row]
    svg = figure.savefig(buffer := io.BytesIO(), format="svg") or buffer.getvalue().decode()
    assert "num = 4" in svg
    owner = make_figure("confusion_matrix", [evaluation], summary=SUMMARY, safe=False)
    table = evaluation.main.metrics.confusion
    assert [int(t.get_text().split("\n")[0]) for t in owner.axes[0].texts] == table.ravel().tolist()


def test_random_grids_leave_no_cell_determined():
    rng = np.random.default_rng(0)
    for _ in range(200):
        k = int(rng.integers(3, 7))
        grid = rng.integers(0, 30, size=(k, k)) * (rng.random((k, k)) < 0.7)
        primary, mask = table_suppression(grid, limit=LIMIT, diagonal_total=True)
        assert (mask | ~primary).all()
        assert determined_cells(mask, diagonal_total=True) == [], grid
