"""What a collaborator downloads gives no small cell away: the table files (CSV, XLSX), the confusion
matrix figure file and the paper pack (tables, methods, model card, TRIPOD checklist), on the two
real-data cases of ``test_small_cells_disclosure`` (3 false negatives; 3 surviving smokers).

The pack checks read the files as a reader would: a table row by its label, the texts by their
sentences; each check does the subtraction or the multiplication that gave the cell away before.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from pipelines import tables as tb
from tests.workbench.test_small_cells_disclosure import (
    SUMMARY,
    confusion_texts,
    figure_leaks,
    nearly_all_smokers_died,
    performance_leaks,
    records,  # noqa: F401  (the module fixture)
    recovered,
    small,
    subgroup_leaks,
    three_false_negatives,
)
from workbench.services._paper import PackInput, build_pack
from workbench.services._paper_figures import make_figure
from workbench.services._paper_tables import make_table, table_bytes


def _csv_table(data: bytes, like: tb.Table) -> tb.Table:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return tb.Table(like.title, tuple(rows[0]), tuple(tuple(r) for r in rows[1:]), like.notes, like.name)


def _xlsx_rows(data: bytes, sheet: str) -> list[tuple]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple("" if v is None else v for v in row) for row in book[sheet].iter_rows(values_only=True)]


def _xlsx_table(data: bytes, like: tb.Table) -> tb.Table:
    rows = _xlsx_rows(data, like.name)
    header = next(i for i, r in enumerate(rows) if tuple(r[:len(like.columns)]) == like.columns)
    body = tuple(r[:len(like.columns)] for r in rows[header + 1:header + 1 + len(like.rows)])
    return tb.Table(like.title, like.columns, body, like.notes, like.name)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_table_files_give_no_small_cell_away(records, fmt):  # noqa: F811
    for evaluation, names in ((three_false_negatives(records), ("performance",)),
                              (nearly_all_smokers_died(records), ("performance", "performance_oof", "subgroups"))):
        for name in names:
            table = make_table(name, [evaluation], params={}, safe=True)
            data = table_bytes(table, fmt)
            read = _csv_table(data, table) if fmt == "csv" else _xlsx_table(data, table)
            leaks = subgroup_leaks(read) if name == "subgroups" else performance_leaks(read)
            assert leaks == [], (name, fmt)


def test_the_confusion_matrix_file_gives_no_small_cell_away(records):  # noqa: F811
    evaluation = three_false_negatives(records)
    figure = make_figure("confusion_matrix", [evaluation], summary=SUMMARY, safe=True)
    svg = figure.savefig(buffer := io.BytesIO(), format="svg") or buffer.getvalue().decode()
    assert "75.0%" not in svg and "25.0%" not in svg  # the row percentages of the row with 3
    assert figure_leaks(confusion_texts(figure), (28, 12)) == []


def _pack(evaluation, lang: str = "en") -> dict[str, bytes]:
    pack = PackInput(evaluations=(evaluation,), summary={**SUMMARY, "n_train": 1, "n_test": 1}, settings={},
                     recipe={}, params={}, title="t", source="s", safe=True, lang=lang, formats=("svg",), dpi=300,
                     table_formats=("csv",))
    with zipfile.ZipFile(io.BytesIO(build_pack(pack))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_paper_pack_gives_no_small_cell_away(records):  # noqa: F811
    files = _pack(three_false_negatives(records))
    performance = make_table("performance", [three_false_negatives(records)], params={}, safe=True)
    assert performance_leaks(_csv_table(files["tables/performance.csv"], performance)) == []
    assert performance_leaks(_xlsx_table(files["tables/all_tables.xlsx"], performance)) == []
    card = files["model_card.md"].decode()
    test_part = card.split("### held-out test set")[1].split("###")[0]
    assert "(n = 40)" in card and re.search(r"- Sensitivity: suppressed", test_part)
    methods = files["methods.md"].decode()
    assert "sensitivity was suppressed and specificity suppressed" in methods
    assert "12 of 40 patients" in methods  # n and events with no small non-event count stay


def test_the_paper_pack_hides_the_non_events_of_a_part(records):  # noqa: F811
    evaluation = nearly_all_smokers_died(records)
    files = _pack(evaluation)
    subgroups = make_table("subgroups", [evaluation], params={}, safe=True)
    assert subgroup_leaks(_csv_table(files["tables/subgroups.csv"], subgroups)) == []
    # a part of 12 in which 9 died: its events are hidden in the methods text and the TRIPOD checklist too
    from tests.workbench.test_small_cells_disclosure import evaluation_for
    died = records[records.DEATH_EVENT == 1].sample(9, random_state=2)
    lived = records[records.DEATH_EVENT == 0].sample(3, random_state=2)
    files = _pack(evaluation_for(records, died.index.append(lived.index)))
    methods = files["methods.md"].decode()
    sentence = re.search(r"(\S+) of (\S+) patients(?: \((\S+)%\))? had the outcome", methods)
    assert sentence and small(recovered(sentence.group(2), sentence.group(1))) == [] and sentence.group(1) == "x"
    assert sentence.group(3) is None and "%)" not in sentence.group(0)  # no share of a hidden count, not even "(–%)"
    tripod = files["tripod_ai_checklist.csv"].decode("utf-8-sig")
    counts = re.findall(r"(\S+) patients, (\S+) with the outcome", tripod)
    assert counts and all(small(recovered(n, e)) == [] for n, e in counts)
