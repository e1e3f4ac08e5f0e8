"""A collaborator's macro F1 and accuracy of a multiclass part give no hidden confusion cell away: they
read "suppressed" where the part's matrix holds a cell of 1 to 4, as binary measures at the threshold do.

Real rows: the Cleveland records with a crude real score (``cleveland`` of the macro curve tests), held-out
part of 80 (seed 5). The collaborator's confusion matrix figure hides 18 of its 25 cells; its row and
column totals (class sizes, predicted counts) and the diagonal's sum (accuracy x patients) narrow no
"<5" (:func:`permissions.disclosure.table_suppression`). Macro F1 adds an equation on the diagonal (class
c's F1 is 2 d_c / (class size + predicted count)). Before the change the collaborator's performance table
printed it (0.19): a reader solving in whole numbers narrowed the hidden cell of grade 1 predicted as
grade 0 (3 patients, read ``x``) from 0-5 to 2-4; the leaderboard's 0.187 pinned it to 3. Owners keep
every number; a part with no small cell keeps its measures for the collaborator too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from tests.workbench.test_curve_disclosure_macro import SUMMARY, cleveland
from tests.workbench.test_disclosure_macro_measures import leaderboard_cells
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._evaluate import EvalOptions, evaluate_model
from workbench.services._measure_disclosure import multiclass_confusion_cells, part_measures_shown
from workbench.services._paper import PackInput
from workbench.services._paper_tables import make_table
from workbench.services._paper_texts import model_card

LIMIT = 5
CELL = (1, 0)  # observed grade 1, predicted grade 0: 3 patients, hidden as x


@pytest.fixture(scope="module")
def one_patient(datasets_dir):
    return cleveland(datasets_dir, 80, 5)


def reader_range(cells: list[list[str]], confusion: np.ndarray, *, accuracy: float, macro_f1: float | None,
                 digits: int) -> tuple[int, int]:
    """The least and most ``CELL`` can hold for a reader of the collaborator's matrix ``cells`` who knows
    the class sizes and predicted counts (not the small ones), the diagonal's sum (``accuracy`` x n) and,
    when printed, ``macro_f1`` to ``digits`` decimals; hidden cells are whole numbers, "<5" 1 to 4, ``x``
    any count (what :func:`permissions.disclosure.table_suppression` assumes where its ``x`` holds a small
    count). Solved exactly (HiGHS)."""
    k, n = len(cells), int(confusion.sum())
    rows, cols = confusion.sum(axis=1), confusion.sum(axis=0)
    hidden = [(i, j) for i in range(k) for j in range(k) if cells[i][j] in ("x", f"<{LIMIT}")]
    index = {c: a for a, c in enumerate(hidden)}
    shown = {(i, j): int(cells[i][j].split("\n")[0]) for i in range(k) for j in range(k) if (i, j) not in index}
    lower = np.array([1 if cells[i][j] != "x" else 0 for i, j in hidden], dtype=float)
    upper = np.array([LIMIT - 1 if cells[i][j] != "x" else n for i, j in hidden], dtype=float)
    lines = [([(i, j) for j in range(k)], rows[i]) for i in range(k)] + [([(i, j) for i in range(k)], cols[j])
                                                                        for j in range(k)]
    lines = [(line, total) for line, total in lines if not 0 < total < LIMIT]  # a small total is printed nowhere
    lines.append(([(i, i) for i in range(k)], round(accuracy * n)))
    equations = [[1.0 if c in line else 0.0 for c in hidden] for line, _ in lines]
    sums = [total - sum(shown.get(c, 0) for c in line if c not in index) for line, total in lines]
    constraints = [LinearConstraint(np.array(equations), sums, sums)]
    if macro_f1 is not None:  # macro F1 = mean over classes of 2 d_c / (class size + predicted count)
        weight = {(c, c): 2.0 / k / (rows[c] + cols[c]) for c in range(k)}
        known = sum(w * shown[c] for c, w in weight.items() if c not in index)
        half = 0.5 * 10.0 ** -digits
        constraints.append(LinearConstraint(np.array([[weight.get(c, 0.0) for c in hidden]]),
                                            macro_f1 - half - known, macro_f1 + half - known))
    ends = []
    for sign in (1.0, -1.0):
        objective = np.zeros(len(hidden))
        objective[index[CELL]] = sign
        result = milp(objective, constraints=constraints, integrality=np.ones(len(hidden)), bounds=Bounds(lower, upper))
        assert result.success
        ends.append(int(round(sign * result.fun)))
    return ends[0], ends[1]


def printed_number(cell: str) -> float | None:
    """What a reader reads off a printed measure: its value, or None for "suppressed"."""
    try:
        return float(str(cell).split(" ")[0])
    except ValueError:
        return None


def test_the_collaborators_macro_f1_narrows_no_hidden_cell(one_patient):
    confusion = np.asarray(one_patient.main.metrics.confusion)
    seen = reader_evaluation(one_patient, limit=LIMIT)
    cells = multiclass_confusion_cells(seen, limit=LIMIT)  # the collaborator's matrix figure
    assert int(confusion[CELL]) == 3 and cells[CELL[0]][CELL[1]] == "x"  # the case on real data
    accuracy = one_patient.main.metrics.accuracy.value
    without = reader_range(cells, confusion, accuracy=accuracy, macro_f1=None, digits=3)
    assert without[0] == 0 and without[1] >= LIMIT  # the matrix alone keeps it a count of any size
    # the check is sound: the owner's macro F1, as the table (2 decimals) and leaderboard (3) print it
    macro = one_patient.main.metrics.macro_f1.value
    assert reader_range(cells, confusion, accuracy=accuracy, macro_f1=round(macro, 2), digits=2) == (2, 4)
    assert reader_range(cells, confusion, accuracy=accuracy, macro_f1=round(macro, 3), digits=3) == (3, 3)

    table = make_table("performance", [seen], params={}, safe=True)  # the Results page's and Export's table
    rows = {r[0]: r[1] for r in table.rows}
    board = leaderboard_cells(seen)
    for printed, digits in ((rows["Macro F1"], 2), (board["macro_f1"], 3)):
        f1 = printed_number(printed)
        if f1 is not None:  # the reader's arithmetic on what the collaborator is shown
            assert reader_range(cells, confusion, accuracy=accuracy, macro_f1=f1, digits=digits) == without, printed
    assert rows["Macro F1"] == rows["Accuracy"] == board["macro_f1"] == board["accuracy"] == "suppressed"
    assert any("macro F1, accuracy" in note for note in table.notes)
    assert rows["Macro AUROC (drawn classes)"] == f"{seen.main.metrics.macro_auroc.value:.2f}"  # a ranking measure
    assert rows["Log loss"].startswith(f"{one_patient.main.metrics.log_loss.value:.2f} (")
    assert all(np.isnan(c.sensitivity.value) and np.isnan(c.ppv.value) and np.isnan(c.f1.value)
               for c in seen.main.metrics.per_class)  # nothing left in the reader's copy either

    owner = {r[0]: r[1] for r in make_table("performance", [one_patient], params={}, safe=False).rows}
    assert owner["Macro F1"] == one_patient.main.metrics.macro_f1.format(2)
    assert owner["Accuracy"] == one_patient.main.metrics.accuracy.format(2)
    assert leaderboard_cells(one_patient)["macro_f1"] == one_patient.main.metrics.macro_f1.format(3)


def test_the_korean_table_and_the_model_card(one_patient):
    seen = reader_evaluation(one_patient, limit=LIMIT)
    table = make_table("performance_oof", [one_patient], params={}, lang="ko", safe=True)  # not the reader's copy
    rows = {r[0]: r[1] for r in table.rows}
    assert rows["매크로 F1"] == rows["정확도"] == "비공개"
    assert any("매크로 F1, 정확도" in note for note in table.notes)

    def card(evaluation, safe):
        return model_card(PackInput(evaluations=(evaluation,), summary={**SUMMARY, "leaderboard": []}, settings={},
                                    recipe={}, params={}, title="Cleveland", source="test", safe=safe))

    for evaluation in (seen, one_patient):  # the reader's copy, and the safe variant of any copy
        assert card(evaluation, True).count("- Macro F1: suppressed\n") == 2  # held-out and out-of-fold parts
        assert card(evaluation, True).count("- Accuracy: suppressed\n") == 2
    assert f"- Macro F1: {one_patient.main.metrics.macro_f1.format(2)}\n" in card(one_patient, False)
    assert part_measures_shown(seen, limit=LIMIT) == {"test": False, "train": False}
    assert part_measures_shown(seen, limit=0) == {"test": True, "train": True}
    assert reader_evaluation(seen, limit=LIMIT).main.metrics.macro_f1 is seen.main.metrics.macro_f1


def test_a_part_without_a_small_cell_keeps_its_measures(datasets_dir):
    """Grades 0, 1 and 2 or more of the same rows and score: the training part's matrix holds no cell of
    1 to 4, so a collaborator gets its macro F1 and accuracy; the held-out part's holds some."""
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").reset_index(drop=True)
    frame["grade"] = frame["num"].clip(upper=2)
    severity = ((frame["oldpeak"].rank(pct=True) + frame["thalach"].rank(pct=True, ascending=False)) / 2).to_numpy()
    weights = np.exp(-((severity[:, None] - np.array([0.3, 0.5, 0.7])[None, :]) ** 2) / 0.02)
    prob = weights / weights.sum(axis=1, keepdims=True)
    test = frame.sample(n=80, random_state=5).index
    predictions = pd.DataFrame({"row": frame.index, "part": np.where(frame.index.isin(test), "test", "train"),
                                "y_true": frame["grade"], **{f"p_{c}": prob[:, c] for c in range(3)}})
    evaluation = evaluate_model(model_id=1, label="Score", predictions=predictions, prepared_frame=frame,
                                summary={"task": "multiclass", "target": "grade", "features": ["oldpeak", "thalach"],
                                         "classes": [0, 1, 2]}, options=EvalOptions(n_resamples=20))
    train = np.asarray(evaluation.part("train").metrics.confusion)
    held_out = np.asarray(evaluation.part("test").metrics.confusion)
    assert train.min() >= LIMIT and ((held_out > 0) & (held_out < LIMIT)).any()  # the case on real data
    seen = reader_evaluation(evaluation, limit=LIMIT)
    kept = {r[0]: r[1] for r in make_table("performance_oof", [seen], params={}, safe=True).rows}
    assert kept["Macro F1"] == evaluation.part("train").metrics.macro_f1.format(2)
    assert kept["Accuracy"] == evaluation.part("train").metrics.accuracy.format(2)
    assert part_measures_shown(seen, limit=LIMIT) == {"test": False, "train": True}
