"""A collaborator's macro AUROC and AUPRC (leaderboard, performance table, model card) give no hidden
class back: they are the drawn classes' means, as the macro curves are, named "(drawn classes)".

Real rows: the Cleveland records with a crude real score (``cleveland`` of the macro curve tests),
held-out part of 80 (seed 5), grades 49/10/12/8/1: grades 4 (1 patient) and 3 (8, its complement) are
not drawn. Before the change the leaderboard kept the macro over all five grades; five times it, minus
the three drawn grades' AUROCs (their curves' legends), was the two hidden grades' AUROCs added up, to
the leaderboard's three decimals. The owner keeps the macro over every class with its interval.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipelines import tables as tb
from tests.workbench.test_curve_disclosure_macro import SUMMARY, cleveland
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._paper import PackInput
from workbench.services._paper_texts import model_card

LIMIT = 5


@pytest.fixture(scope="module")
def one_patient(datasets_dir):
    return cleveland(datasets_dir, 80, 5)


def leaderboard_cells(evaluation) -> dict[str, str]:
    """The leaderboard's metric cells of a model (``pages._results_parts.leaderboard``): every estimate of
    the main part, three decimals."""
    return {name: est.format(3) for name, est in evaluation.main.metrics.estimates().items()}


def test_the_leaderboard_macro_gives_no_hidden_class_back(one_patient):
    full = one_patient.main.multiclass_curves
    seen = reader_evaluation(one_patient, limit=LIMIT)
    curves = seen.main.multiclass_curves
    assert set(curves.suppressed) == {"3", "4"}  # the case on real data
    cells = leaderboard_cells(seen)
    macro = float(cells.get("macro_auroc", cells.get("macro_auroc_drawn")).split(" ")[0])  # "0.657 (0.613 to 0.703)"
    drawn = [c.auroc.value for c in curves.roc]  # what the drawn curves' legends give
    hidden = sum(c.auroc.value for c in full.roc if c.label in curves.suppressed)
    worked_out = len(full.classes) * macro - sum(drawn)  # the reader's subtraction
    assert abs(worked_out - hidden) > 0.01, (worked_out, hidden)
    assert "macro_auroc" not in cells and "macro_auprc" not in cells
    assert cells["macro_auroc_drawn"] == f"{np.mean(drawn):.3f}"  # the macro curve's own value, no interval
    assert float(cells["macro_auprc_drawn"]) == pytest.approx(curves.macro_pr.auprc.value, abs=5e-4)
    assert seen.main.metrics.macro_auroc.value == curves.macro_roc.auroc.value  # one number: page, figure, table
    owner = leaderboard_cells(reader_evaluation(one_patient, limit=0))
    assert owner["macro_auroc"] == one_patient.main.metrics.macro_auroc.format(3) and "(" in owner["macro_auroc"]
    assert abs(len(full.classes) * one_patient.main.metrics.macro_auroc.value - sum(drawn) - hidden) < 1e-9


@pytest.mark.parametrize("lang, label", [("en", "Macro AUROC (drawn classes)"), ("ko", "매크로 AUROC (그린 범주)")])
def test_the_performance_table_names_the_drawn_classes(one_patient, lang, label):
    seen = reader_evaluation(one_patient, limit=LIMIT)
    table = tb.performance_table({"Score": seen.main.metrics}, digits=2, lang=lang)
    rows = {r[0]: r[1] for r in table.rows}
    assert rows[label] == f"{seen.main.metrics.macro_auroc.value:.2f}"
    owner = tb.performance_table({"Score": one_patient.main.metrics}, digits=2, lang=lang)
    assert label not in {r[0] for r in owner.rows}
    assert any("(" in r[1] and r[1].startswith(f"{one_patient.main.metrics.macro_auroc.value:.2f}") for r in owner.rows)


def test_the_model_card_gives_the_drawn_classes_macro(one_patient):
    seen = reader_evaluation(one_patient, limit=LIMIT)
    def card(evaluation, safe):
        return model_card(PackInput(evaluations=(evaluation,), summary={**SUMMARY, "leaderboard": []}, settings={},
                                    recipe={}, params={}, title="Cleveland", source="test", safe=safe))

    every = one_patient.main.metrics.macro_auroc
    assert f"Macro AUROC (drawn classes): {seen.main.metrics.macro_auroc.value:.2f}\n" in card(seen, True)
    assert f"Macro AUROC: {every.format(2)}\n" in card(one_patient, False)  # the owner's, with its interval
