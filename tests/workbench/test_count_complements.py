"""Secondary suppression reaches the forest plot's labels and the performance tables' patient and event counts.

A collaborator's figures and tables hide counts below 5 ("<5"), but a hidden count printed beside
its total and its siblings is a subtraction away. On the heart-failure records (real data, a crude
real score as the model): a held-out part whose smokers had 3 deaths (the forest plot prints the
overall deaths and the non-smokers'), and a held-out part with 3 deaths in all (the out-of-fold
table prints the training part's deaths, Table 1 the total).
"""

from __future__ import annotations

import re

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from permissions.disclosure import recoverable_cells
from pipelines import figures as fg
from pipelines.figures._base import RC_ATTRIBUTE
from workbench.services._evaluate import EvalOptions, evaluate_model
from workbench.services._paper_figures import make_figure
from workbench.services._paper_tables import make_table
from workbench.services._table_disclosure import COMPLEMENT_LABEL

SUMMARY = {"task": "binary", "target": "DEATH_EVENT", "features": ["age", "sex", "smoking", "diabetes"], "classes": [0, 1]}
_COUNT = re.compile(r"^([\d<x]\S*) \(([\d<x]\S*)\)$")


@pytest.fixture(scope="module")
def records(datasets_dir) -> pd.DataFrame:
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")


def _evaluation(records: pd.DataFrame, test_index: pd.Index):
    frame = records.reset_index(drop=True)
    score = ((frame["serum_creatinine"].rank(pct=True) + (-frame["ejection_fraction"]).rank(pct=True)) / 2) * 0.9 + 0.05
    predictions = pd.DataFrame({"row": frame.index, "part": np.where(frame.index.isin(test_index), "test", "train"),
                                "y_true": frame["DEATH_EVENT"], "probability": score})
    return evaluate_model(model_id=1, label="Score", predictions=predictions, summary=SUMMARY, prepared_frame=frame,
                          options=EvalOptions(n_resamples=20, subgroup_columns=("smoking",)))


def _hidden(cell) -> bool:
    return str(cell) in ("<5", COMPLEMENT_LABEL)


def _forest_counts(figure) -> list[tuple[str, str]]:
    """The "n (events)" column of the forest plot, top to bottom (overall line first)."""
    cells = [t for t in figure.axes[0].texts if _COUNT.match(t.get_text()) and t.get_position()[0] == 0.5]
    return [_COUNT.match(t.get_text()).groups() for t in sorted(cells, key=lambda t: -t.get_position()[1])]


def _recoverable(counts: list[tuple[str, str]]) -> list:
    """What subtraction gives away among the smoking levels (rows 1..), with the overall line as the totals."""
    overall, levels = counts[0], counts[1:]
    hidden = np.array([[_hidden(n), _hidden(e)] for n, e in levels])
    return recoverable_cells(hidden, row_totals=np.zeros(len(levels), bool),
                             column_totals=np.array([not _hidden(overall[0]), not _hidden(overall[1])]))


def test_the_forest_plot_hides_the_complement_of_a_subgroup_with_three_events(records):
    test = records.sample(n=60, random_state=4)
    assert test.groupby("smoking")["DEATH_EVENT"].sum().to_dict() == {0: 15, 1: 3}  # the case on real data
    evaluation = _evaluation(records, test.index)

    # Without secondary suppression the smokers' deaths are the overall 18 minus the non-smokers' 15.
    primary_only = _forest_counts(fg.forest_figure(evaluation.subgroups, suppress_below=5))
    assert primary_only == [("60", "18"), ("42", "15"), ("18", "<5")] and _recoverable(primary_only) != []

    figure = make_figure("forest", [evaluation], summary=SUMMARY, safe=True)
    shown = _forest_counts(figure)
    assert shown == [("60", "18"), ("42", COMPLEMENT_LABEL), ("18", "<5")]
    assert _recoverable(shown) == []
    note = figure.get_supxlabel()
    assert "cannot be worked out" in note
    # The subgroup table a collaborator downloads prints the same counts.
    table = make_table("subgroups", [evaluation], params={}, safe=True)
    assert [(str(r[2]), str(r[3])) for r in table.rows] == shown
    # The full view is untouched.
    assert _forest_counts(make_figure("forest", [evaluation], summary=SUMMARY)) == [("60", "18"), ("42", "15"), ("18", "3")]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_forest_footnote_stays_on_the_page(records, lang):
    evaluation = _evaluation(records, records.sample(n=60, random_state=4).index)
    figure = make_figure("forest", [evaluation], summary=SUMMARY, safe=True, lang=lang)
    with mpl.rc_context(getattr(figure, RC_ATTRIBUTE)):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
    note = figure._supxlabel
    box, page = note.get_window_extent(renderer), figure.bbox
    assert note.get_text() and page.x0 - 0.5 <= box.x0 and box.x1 <= page.x1 + 0.5 and page.y0 - 0.5 <= box.y0
    axis_label = figure.axes[1].xaxis.label.get_window_extent(renderer)
    assert box.y1 <= axis_label.y0 + 0.5  # below the axis, not over it


def test_the_training_parts_events_are_hidden_when_the_test_parts_are_small(records):
    test = records.sample(n=15, random_state=5)
    evaluation = _evaluation(records, test.index)
    assert (evaluation.part("test").metrics.n_positive, evaluation.part("train").metrics.n_positive) == (3, 93)
    # Table 1 prints the total (96 deaths): the training part's 93 would give the test part's 3 away.
    table_one = make_table("table_one", [evaluation], params={}, safe=True)
    assert any("(n = 96)" in column for column in table_one.columns)

    performance = make_table("performance", [evaluation], params={}, safe=True)
    oof = make_table("performance_oof", [evaluation], params={}, safe=True)
    assert [r[1] for r in performance.rows[-2:]] == [15, "<5"]
    assert [r[1] for r in oof.rows[-2:]] == [284, COMPLEMENT_LABEL]
    assert any("cannot be worked out" in note for note in oof.notes)
    # The full tables keep every number.
    assert [r[1] for r in make_table("performance_oof", [evaluation], params={}).rows[-2:]] == [284, 93]


def test_a_hidden_overall_line_hides_its_levels_too(records):
    # The other way round: the training part is the small one, so the held-out part's deaths are
    # its complement; the forest's overall line is that count, and its levels would add up to it.
    train = records.sample(n=15, random_state=5)
    evaluation = _evaluation(records, records.index.difference(train.index))
    assert evaluation.part("train").metrics.n_positive == 3
    shown = _forest_counts(make_figure("forest", [evaluation], summary=SUMMARY, safe=True))
    assert shown[0][1] == COMPLEMENT_LABEL and all(_hidden(e) for _, e in shown[1:])
    assert [r[1] for r in make_table("performance", [evaluation], params={}, safe=True).rows[-1:]] == [COMPLEMENT_LABEL]
