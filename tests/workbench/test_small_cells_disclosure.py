"""No small cell can be worked out from what a restricted viewer gets: the confusion matrix, the
measures at the threshold beside n and events, and the non-events (n - events).

Real data (the heart-failure records), a crude real score as the model, and held-out parts chosen so
that each case happens: a part whose false negatives are 3 (the figure's other cell and its row
percentage, and sensitivity x events, gave them back), and a part or a subgroup in which nearly
everyone died (n - events = 3). Each check reads the numbers the viewer gets and does the
arithmetic a reader would; it found every leak before the change.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from workbench.services._evaluate import EvalOptions, evaluate_model
from workbench.services._paper_figures import make_figure
from workbench.services._paper_tables import make_table

SUMMARY = {"task": "binary", "target": "DEATH_EVENT", "features": ["age", "sex", "smoking", "diabetes"], "classes": [0, 1]}
LIMIT = 5
_NUMBER = re.compile(r"^\d+$")


@pytest.fixture(scope="module")
def records(datasets_dir) -> pd.DataFrame:
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")


def evaluation_for(records: pd.DataFrame, test_index: pd.Index, subgroups: tuple[str, ...] = ("smoking",)):
    frame = records.reset_index(drop=True)
    score = ((frame["serum_creatinine"].rank(pct=True) + (-frame["ejection_fraction"]).rank(pct=True)) / 2) * 0.9 + 0.05
    predictions = pd.DataFrame({"row": frame.index, "part": np.where(frame.index.isin(test_index), "test", "train"),
                                "y_true": frame["DEATH_EVENT"], "probability": score})
    return evaluate_model(model_id=1, label="Score", predictions=predictions, summary=SUMMARY, prepared_frame=frame,
                          options=EvalOptions(n_resamples=20, subgroup_columns=subgroups))


def three_false_negatives(records: pd.DataFrame):
    evaluation = evaluation_for(records, records.sample(n=40, random_state=3).index)
    assert evaluation.part("test").metrics.confusion.table.tolist() == [[19, 9], [3, 9]]  # the case on real data
    return evaluation


def nearly_all_smokers_died(records: pd.DataFrame):
    smokers, others = records[records.smoking == 1], records[records.smoking == 0]
    test = pd.concat([smokers[smokers.DEATH_EVENT == 1].sample(8, random_state=1),
                      smokers[smokers.DEATH_EVENT == 0].sample(3, random_state=1), others.sample(40, random_state=1)])
    return evaluation_for(records, test.index)


def _int(cell) -> int | None:
    text = str(cell)
    return int(text) if _NUMBER.match(text) else None


def _rate(cell) -> str | None:
    """The point value of a printed measure ("0.75 (0.50 to 0.90)" -> "0.75"), None when not printed."""
    match = re.match(r"^(\d\.\d\d)", str(cell))
    return match.group(1) if match else None


def _solve(rate: str | None, total: int | None) -> int | None:
    """The count k with k / total printed as ``rate``, when exactly one fits (what a reader would do)."""
    if rate is None or not total:
        return None
    fits = [k for k in range(total + 1) if f"{k / total:.2f}" == rate]
    return fits[0] if len(fits) == 1 else None


def recovered(n, events, sensitivity=None, specificity=None) -> list[int]:
    """Every count one printed line gives away: non-events, and the confusion cells from the rates."""
    n, events = _int(n), _int(events)
    out = []
    if n is not None and events is not None:
        out.append(n - events)
        tp, tn = _solve(_rate(sensitivity), events), _solve(_rate(specificity), n - events)
        out += [] if tp is None else [tp, events - tp]
        out += [] if tn is None else [tn, n - events - tn]
    return out


def small(counts: list[int]) -> list[int]:
    return [c for c in counts if 0 < c < LIMIT]


def performance_leaks(table) -> list[int]:
    rows = {str(r[0]): r for r in table.rows}
    return small([c for j in range(1, len(table.columns)) for c in recovered(
        rows["Patients, n"][j], rows["Events, n"][j], rows["Sensitivity"][j], rows["Specificity"][j])])


def subgroup_leaks(table) -> list[int]:
    sens, spec = table.columns.index("Sensitivity"), table.columns.index("Specificity")
    lines = [recovered(r[2], r[3], r[sens], r[spec]) for r in table.rows]
    leaks = small([c for line in lines for c in line])
    # the overall line minus the shown levels of a variable gives the last level's cells
    overall = _confusion_of(table.rows[0], sens, spec)
    variables: dict[str, list] = {}
    for r in table.rows[1:]:
        variables.setdefault(r[0], []).append(_confusion_of(r, sens, spec))
    for levels in variables.values():
        unknown = [c for c in levels if c is None]
        if overall is not None and len(unknown) == 1:
            leaks += small(list((overall - sum(c for c in levels if c is not None)).ravel()))
    return leaks


def _confusion_of(row, sens: int, spec: int) -> np.ndarray | None:
    n, events = _int(row[2]), _int(row[3])
    if n is None or events is None:
        return None
    tp, tn = _solve(_rate(row[sens]), events), _solve(_rate(row[spec]), n - events)
    if tp is None or tn is None:
        return None
    return np.array([[tn, n - events - tn], [events - tp, tp]])


def confusion_texts(figure) -> list[list[str]]:
    """The four cell texts of the confusion matrix figure, rows observed no event / event."""
    ax = figure.axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    return [[cells[(r, c)] for c in range(2)] for r in range(2)]


def figure_leaks(texts: list[list[str]], row_totals: tuple) -> list[int]:
    """Cells a reader works out from the figure: the other cell of a row from the row total printed in
    the tables (non-events, events) or from a cell's count and its row percentage."""
    out = []
    for row, total in zip(texts, row_totals):
        counts = [_int(t.split("\n")[0]) for t in row]
        shares = [re.search(r"\(([\d.]+)%\)", t) for t in row]
        for i, (count, share) in enumerate(zip(counts, shares)):
            if count is None:
                continue
            whole = _int(total) if _int(total) is not None else (
                round(count * 100 / float(share.group(1))) if share and float(share.group(1)) > 0 else None)
            if whole is not None and counts[1 - i] is None:
                out.append(whole - count)
    return small(out)


def test_the_confusion_matrix_hides_the_row_of_a_small_cell(records):
    evaluation = three_false_negatives(records)
    table = make_table("performance", [evaluation], params={}, safe=True)
    totals = ({r[0]: r[1] for r in table.rows}["Patients, n"], {r[0]: r[1] for r in table.rows}["Events, n"])
    non_events = _int(totals[0]) - _int(totals[1]) if None not in map(_int, totals) else None
    texts = confusion_texts(make_figure("confusion_matrix", [evaluation], summary=SUMMARY, safe=True))
    assert figure_leaks(texts, (non_events, totals[1])) == []
    assert texts[1] == ["<5", "x"]  # no "9 (75.0%)" beside the three
    assert texts[0] == ["19\n(67.9%)", "9\n(32.1%)"]  # a row without a small cell keeps its numbers
    full = confusion_texts(make_figure("confusion_matrix", [evaluation], summary=SUMMARY))
    assert full[1] == ["3\n(25.0%)", "9\n(75.0%)"]


def test_the_confusion_figure_says_why(records):
    figure = make_figure("confusion_matrix", [three_false_negatives(records)], summary=SUMMARY, safe=True, lang="ko")
    assert "역산" in figure.get_supxlabel()


def test_sensitivity_beside_n_and_events_is_suppressed_when_a_confusion_cell_is_small(records):
    evaluation = three_false_negatives(records)
    assert small(recovered(40, 12, "0.75", "0.68")) == [3]  # the arithmetic the check does: 0.75 x 12 = 9, 12 - 9 = 3
    table = make_table("performance", [evaluation], params={}, safe=True)
    assert performance_leaks(table) == []
    rows = {r[0]: r[1] for r in table.rows}
    assert {rows[m] for m in ("Sensitivity", "Specificity", "PPV", "NPV", "F1 score", "Accuracy")} == {"suppressed"}
    assert _rate(rows["AUROC"]) is not None and rows["Patients, n"] == 40 and rows["Events, n"] == 12
    assert any(note.startswith("suppressed:") for note in table.notes)
    full = {r[0]: r[1] for r in make_table("performance", [evaluation], params={}).rows}
    assert _rate(full["Sensitivity"]) == "0.75"  # owners and editors keep every number


def test_non_events_of_a_part_are_a_cell(records):
    # a held-out part in which 9 of 12 died: n and events printed together give its 3 survivors
    died, lived = records[records.DEATH_EVENT == 1], records[records.DEATH_EVENT == 0]
    evaluation = evaluation_for(records, pd.concat([died.sample(9, random_state=2), lived.sample(3, random_state=2)]).index)
    for name in ("performance", "performance_oof"):
        assert performance_leaks(make_table(name, [evaluation], params={}, safe=True)) == [], name
    rows = {r[0]: r[1] for r in make_table("performance", [evaluation], params={}, safe=True).rows}
    assert rows["Patients, n"] == 12 and rows["Events, n"] == "x"
    oof = {r[0]: r[1] for r in make_table("performance_oof", [evaluation], params={}, safe=True).rows}
    assert oof["Events, n"] == "x"  # else the test part's events are Table 1's total minus these


def test_non_events_and_measures_of_a_subgroup(records):
    evaluation = nearly_all_smokers_died(records)
    table = make_table("subgroups", [evaluation], params={}, safe=True)
    assert subgroup_leaks(table) == []
    smokers = next(r for r in table.rows if r[0] == "smoking" and r[1] == "1")
    assert (smokers[2], smokers[3]) == (11, "x")  # 11 smokers, 8 died: 3 survivors not given away
    sens = table.columns.index("Sensitivity")
    assert {r[sens] for r in table.rows[1:]} == {"suppressed"}  # both levels: one would be the overall minus the other
    assert _rate(table.rows[0][sens]) is not None  # the overall line keeps its measures
    forest = make_figure("forest", [evaluation], summary=SUMMARY, safe=True)
    assert "11 (x)" in [t.get_text() for t in forest.axes[0].texts]  # the forest plot prints the same counts


def test_one_level_with_a_small_confusion_cell_takes_another_with_it(records):
    # 35 women, 10 died: 2 false positives and 2 false negatives; the 65 men's matrix has no small cell
    evaluation = evaluation_for(records, records.sample(n=100, random_state=13).index, subgroups=("sex",))
    full = make_table("subgroups", [evaluation], params={})
    sens, spec = full.columns.index("Sensitivity"), full.columns.index("Specificity")
    assert [_confusion_of(r, sens, spec).tolist() for r in full.rows[1:]] == [[[23, 2], [2, 8]], [[35, 10], [8, 12]]]
    # hiding the women's measures alone is not enough: the overall line minus the men's gives them back
    women_only = type(full)(full.title, full.columns, (full.rows[0], tuple(
        "suppressed" if c >= 4 else v for c, v in enumerate(full.rows[1])), full.rows[2]), full.notes, full.name)
    assert subgroup_leaks(women_only) == [2, 2]
    safe = make_table("subgroups", [evaluation], params={}, safe=True)
    assert subgroup_leaks(safe) == []
    assert [r[sens] for r in safe.rows[1:]] == ["suppressed", "suppressed"] and _rate(safe.rows[0][sens]) == "0.67"
