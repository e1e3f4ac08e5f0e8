"""A restricted reader's multiclass curves give no small class back through the macro average or by
subtraction from the printed patients.

Real rows: the Cleveland records (``num`` 0-4; grade 4 is naturally rare, 13 of 303), a crude real
score (ST depression and maximum heart rate ranks spread over the five classes) as the model.
Held-out part of 80 (seed 5): grades 49/10/12/8/1, so grade 4 has one patient; part of 50 (seed 13):
30/9/7/3/1, two small grades. The arithmetic is the reader's: K times the macro curve minus the
drawn curves is the hidden classes' sum, and a class of one patient climbs by a whole 1 at once;
the printed patients minus the drawn classes' shares (PR no-skill lines) is the hidden patients.

Before the change the reader kept the macro over every class: its sum gave grade 4's curve (the
jump of 1) and the sum of the two hidden AUROCs exactly; and the part of 50 hid grades 3 and 4 only,
whose 4 patients the printed 50 minus the drawn classes gave back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from permissions.disclosure import complementary_suppression
from pipelines.evaluation.curves import _step_tpr
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._evaluate import EvalOptions, evaluate_model
from workbench.services._paper_figures import make_figure

LIMIT = 5
CLASSES = [0, 1, 2, 3, 4]
SUMMARY = {"task": "multiclass", "target": "num", "features": ["oldpeak", "thalach"], "classes": CLASSES}


def cleveland(datasets_dir, n: int, seed: int):
    frame, predictions = cleveland_predictions(datasets_dir, n, seed)
    return evaluate_model(model_id=1, label="Score", predictions=predictions, summary=SUMMARY, prepared_frame=frame,
                          options=EvalOptions(n_resamples=20))


def cleveland_predictions(datasets_dir, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the Cleveland rows, the crude score's predictions: a held-out part of ``n`` drawn with ``seed``)."""
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").reset_index(drop=True)
    severity = (frame["oldpeak"].rank(pct=True) + frame["thalach"].rank(pct=True, ascending=False)) / 2
    weights = np.exp(-((severity.to_numpy()[:, None] - np.linspace(0.1, 0.9, len(CLASSES))[None, :]) ** 2) / 0.02)
    prob = weights / weights.sum(axis=1, keepdims=True)
    test = frame.sample(n=n, random_state=seed).index
    predictions = pd.DataFrame({"row": frame.index, "part": np.where(frame.index.isin(test), "test", "train"),
                                "y_true": frame["num"], **{f"p_{c}": prob[:, i] for i, c in enumerate(CLASSES)}})
    return frame, predictions


@pytest.fixture(scope="module")
def one_patient(datasets_dir):
    return cleveland(datasets_dir, 80, 5)


@pytest.fixture(scope="module")
def two_small(datasets_dir):
    return cleveland(datasets_dir, 50, 13)


def sizes(evaluation) -> dict[str, int]:
    return {c.label: c.n for c in evaluation.main.metrics.per_class}


def hidden_sum(curves) -> tuple[np.ndarray, np.ndarray]:
    """(FPRs, the hidden classes' TPRs added up) as a reader works it out: K x macro - drawn curves."""
    k = len(curves.classes) + len(curves.suppressed)
    at = curves.macro_roc.fpr
    return at, k * curves.macro_roc.tpr - sum(_step_tpr(c.fpr, c.tpr, at) for c in curves.roc)


def test_the_parts_hold_small_grades(one_patient, two_small):
    assert sizes(one_patient) == {"0": 49, "1": 10, "2": 12, "3": 8, "4": 1}  # the cases on real data
    assert sizes(two_small) == {"0": 30, "1": 9, "2": 7, "3": 3, "4": 1}
    full = one_patient.main.multiclass_curves
    at, total = hidden_sum(full)  # with nothing hidden the arithmetic gives nothing: the check is sound
    assert np.allclose(total, 0)


def test_the_macro_curve_gives_a_collaborator_no_hidden_curve(one_patient):
    full = one_patient.main.multiclass_curves
    curves = reader_evaluation(one_patient, limit=LIMIT).main.multiclass_curves
    assert {"4", "3"} <= set(curves.suppressed) and "4" not in curves.classes
    at, total = hidden_sum(curves)
    grade_four = _step_tpr(full.roc[4].fpr, full.roc[4].tpr, at)
    whole_steps = np.flatnonzero(np.isclose(np.diff(total), 1.0))  # one patient of a class: TPR 0 -> 1 at once
    decoded = (np.arange(len(at)) > whole_steps[0]).astype(float) if len(whole_steps) else None
    assert decoded is None or not np.array_equal(decoded, grade_four), "grade 4's curve read off the macro"
    # what the reader gets is the drawn classes' average, nothing more: no band, no interval
    drawn = np.mean([_step_tpr(c.fpr, c.tpr, at) for c in curves.roc], axis=0)
    np.testing.assert_allclose(curves.macro_roc.tpr, drawn)
    assert not len(curves.macro_roc.grid) and not len(curves.macro_pr.grid)
    hidden_aurocs = sum(c.auroc.value for c in full.roc if c.label in curves.suppressed)
    k = len(curves.classes) + len(curves.suppressed)
    assert k * curves.macro_roc.auroc.value - sum(c.auroc.value for c in curves.roc) != pytest.approx(hidden_aurocs)
    assert curves.macro_roc.auroc.value == pytest.approx(np.mean([c.auroc.value for c in curves.roc]))
    assert np.isnan(curves.macro_roc.auroc.lower) and np.isnan(curves.macro_pr.auprc.upper)
    envelopes = [np.maximum.accumulate(c.precision[::-1])[::-1] for c in curves.pr]
    at_grid = [e[np.clip(np.searchsorted(c.recall, curves.macro_pr.recall, side="left"), 0, len(e) - 1)]
               for c, e in zip(curves.pr, envelopes)]
    np.testing.assert_allclose(curves.macro_pr.precision, np.mean(at_grid, axis=0))
    assert reader_evaluation(reader_evaluation(one_patient, limit=LIMIT), limit=LIMIT).main.multiclass_curves is not None
    owner = reader_evaluation(one_patient, limit=0).main.multiclass_curves
    assert owner is full and owner.macro_roc.auroc.value == pytest.approx(one_patient.main.metrics.macro_auroc.value)


def test_two_small_grades_take_a_third_so_the_hidden_patients_are_not_few(two_small):
    seen = reader_evaluation(two_small, limit=LIMIT)
    curves, n = seen.main.multiclass_curves, seen.main.n
    drawn = {c: round(pr.prevalence * n) for c, pr in zip(curves.classes, curves.pr)}  # the no-skill lines
    left_out = n - sum(drawn.values())  # the printed patients minus the drawn classes
    assert {"3", "4"} <= set(curves.suppressed) and len(curves.suppressed) >= 2
    assert left_out >= LIMIT, (drawn, left_out)
    assert all(v >= LIMIT for v in drawn.values())
    assert reader_evaluation(seen, limit=LIMIT) == seen  # applying the rule twice changes nothing


def test_the_rule_on_one_line_of_classes():
    def rule(line):
        grid = np.array([line], dtype=float)
        mask = complementary_suppression(grid, (grid > 0) & (grid < LIMIT), column_totals=np.zeros(len(line), bool),
                                         min_hidden_total=LIMIT)
        again = complementary_suppression(grid, mask, column_totals=np.zeros(len(line), bool), min_hidden_total=LIMIT)
        assert (again == mask).all()  # a fixed point
        return [v for v, h in zip(line, mask[0]) if h]

    assert rule([30, 9, 7, 3, 1]) == [7, 3, 1]  # 3 + 1 would be a count of 4: the smallest other goes too
    assert rule([49, 10, 12, 8, 1]) == [8, 1]  # two classes, 9 patients: enough
    assert rule([40, 9, 0, 2]) == [9, 2]  # a zero class is not a complement while another is left
    assert rule([40, 3]) == [40, 3]  # two classes, one small: nothing can be drawn
    assert rule([40, 9, 7]) == []
    grid = np.array([[30, 9, 7, 3, 1]], dtype=float)  # without the option: the old rule (two small cells suffice)
    assert complementary_suppression(grid, (grid > 0) & (grid < LIMIT), column_totals=np.zeros(5, bool)).sum() == 2


@pytest.mark.parametrize("name", ["roc", "pr"])
def test_the_exported_figure_draws_the_drawn_classes_macro_and_says_so(one_patient, name):
    seen = reader_evaluation(one_patient, limit=LIMIT).main.multiclass_curves
    figure = make_figure(name, [one_patient], summary=SUMMARY, safe=True)
    ax = figure.axes[0]
    macro = next(line for line in ax.lines if line.get_label().startswith("Macro average"))
    value = seen.macro_roc.auroc if name == "roc" else seen.macro_pr.auprc
    assert macro.get_label().endswith(f"{value.value:.2f}") and "(" not in macro.get_label()
    curve = seen.macro_roc if name == "roc" else seen.macro_pr
    np.testing.assert_allclose(macro.get_ydata(), curve.tpr if name == "roc" else curve.precision)
    assert not ax.collections  # no band
    assert "Macro average of the drawn classes" in " ".join(t.get_text() for t in ax.texts)
