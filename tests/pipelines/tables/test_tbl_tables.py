"""Tables: content from the evaluation results, round trips through CSV, XLSX and DOCX, formula
injection neutralised, small counts suppressed when asked."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

from pipelines.errors import EvaluationError
from pipelines.evaluation import age_bands, binary_metrics, subgroup_performance, table_one
from pipelines.tables import (
    Table,
    format_p,
    hyperparameter_table,
    performance_table,
    safe_text,
    subgroup_table,
    table_one_table,
    to_csv,
    to_docx,
    to_xlsx,
    write_table,
)


@pytest.fixture(scope="module")
def tables(hf, heart_failure) -> list[Table]:
    lr = binary_metrics(hf.y, hf.p_lr, n_resamples=100, seed=0)
    hgb = binary_metrics(hf.y, hf.p_hgb, n_resamples=100, seed=0)
    perf = performance_table({"Logistic regression": lr, "Gradient boosting": hgb})
    t1 = table_one_table(table_one(heart_failure, outcome="DEATH_EVENT"))
    params = hyperparameter_table({"Gradient boosting": {"learning_rate": 0.15, "max_leaf_nodes": 8, "loss": "log_loss"},
                                   "Logistic regression": {"C": 1.0, "penalty": "l2"}})
    groups = pd.DataFrame({"Age": age_bands(heart_failure["age"])})
    sub = subgroup_table(subgroup_performance(hf.y, hf.p_lr, groups, threshold=lr.threshold.value, n_resamples=50),
                         suppress_below=5)
    return [perf, t1, params, sub]


def test_performance_table_content(tables, hf):
    perf = tables[0]
    assert perf.columns == ("Metric", "Logistic regression", "Gradient boosting")
    rows = {r[0]: r[1:] for r in perf.rows}
    lr = binary_metrics(hf.y, hf.p_lr, n_resamples=100, seed=0)
    assert rows["AUROC"][0] == lr.auroc.format(2)
    assert rows["AUROC"][0].startswith(f"{lr.auroc.value:.2f} (")
    assert " to " in rows["Calibration intercept"][0]
    assert rows["Patients, n"] == (299, 299) and rows["Events, n"] == (96, 96)
    assert "100 stratified bootstrap resamples (seed 0)" in perf.notes[0]


def test_table_one_table_layout(tables):
    t1 = tables[1]
    assert t1.columns[1:4] == ("Overall (n = 299)", "DEATH_EVENT = 0 (n = 203)", "DEATH_EVENT = 1 (n = 96)")
    rows = {r[0]: r for r in t1.rows}
    assert rows["anaemia = 1"][1] == "129 (43.1)" and rows["age"][5] == "<0.001"
    assert rows["serum_creatinine"][6] == "Mann-Whitney U"
    korean = table_one_table(table_one(pd.DataFrame({"y": [0, 1] * 20, "x": np.arange(40.0)}), outcome="y"), lang="ko")
    assert korean.columns[0] == "특성" and korean.title.startswith("표 1")


def test_small_counts_are_suppressed_only_when_asked(heart_failure):
    frame = heart_failure.assign(rare=(np.arange(299) < 3).astype(int))
    shown = {r[0]: r for r in table_one_table(table_one(frame, outcome="DEATH_EVENT", columns=["rare"])).rows}
    hidden_table = table_one_table(table_one(frame, outcome="DEATH_EVENT", columns=["rare"]), suppress_below=5)
    hidden = {r[0]: r for r in hidden_table.rows}
    assert shown["rare = 1"][1] == "3 (1.0)"
    assert hidden["rare = 1"][1] == "<5"
    assert any("<5" in note for note in hidden_table.notes)


def test_subgroup_table_suppresses_small_event_counts(tables):
    sub = tables[3]
    assert sub.columns[:4] == ("Subgroup", "Level", "n", "Events")
    assert sub.rows[0][:4] == ("Overall", "", 299, 96)
    levels = [r[1] for r in sub.rows[1:]]
    assert levels == ["<50", "50\u201364", "65\u201379", "\u226580"]


def test_format_p():
    assert format_p(0.0004) == "<0.001" and format_p(0.04321) == "0.043" and format_p(float("nan")) == ""


def test_formula_injection_is_neutralised_everywhere():
    evil = Table("=HYPERLINK(\"http://x\")", ("=1+1", "value"),
                 (("@SUM(A1)", -0.5), ("+cmd|' /C calc'!A0", 3), ("-2+3", "\u22120.12 (\u22120.3 to 0.1)"), ("\tx", None)),
                 ("=note",), "evil")
    assert safe_text("=1+1") == "'=1+1" and safe_text(-0.5) == -0.5 and safe_text(float("nan")) is None
    text = to_csv(evil).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        assert not row[0].startswith(("=", "+", "-", "@", "\t"))
    sheet = load_workbook(io.BytesIO(to_xlsx([evil])))["evil"]
    assert sheet["A1"].value == "'=HYPERLINK(\"http://x\")"
    assert sheet["A3"].value == "'=1+1" and sheet["A3"].data_type == "s"
    assert sheet["A4"].value == "'@SUM(A1)" and sheet["B4"].value == -0.5  # numbers stay numbers
    assert sheet["A6"].value == "'-2+3" and sheet["B6"].value == "\u22120.12 (\u22120.3 to 0.1)"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    doc = Document(io.BytesIO(to_docx([evil])))
    assert doc.tables[0].cell(1, 0).text == "'@SUM(A1)"


def test_round_trip_csv_xlsx_docx(tables, tmp_path):
    perf, t1, params, sub = tables
    for table in tables:
        path = write_table(table, tmp_path / f"{table.name}.csv")
        read = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        assert tuple(read[0]) == table.columns
        assert [tuple(r) for r in read[1:]] == [tuple("" if c is None else str(c) for c in row) for row in table.rows]
    book = load_workbook(write_table(tables, tmp_path / "tables.xlsx"))
    assert book.sheetnames == ["performance", "table_one", "hyperparameters", "subgroups"]
    sheet = book["hyperparameters"]
    assert [c.value for c in sheet[3]] == list(params.columns)
    assert [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=4, max_row=3 + len(params.rows))] == list(params.rows)
    assert sheet["C4"].value == 0.15  # a float stays a number
    doc = Document(str(write_table(tables, tmp_path / "tables.docx")))
    assert len(doc.tables) == 4
    grid = doc.tables[1]
    assert tuple(c.text for c in grid.rows[0].cells) == t1.columns
    assert tuple(c.text for c in grid.rows[1].cells) == tuple(str(c) for c in t1.rows[0])
    with pytest.raises(EvaluationError) as err:
        write_table(tables, tmp_path / "all.csv")
    assert err.value.key == "evaluation.csv_one_table"
    with pytest.raises(EvaluationError) as err:
        write_table(tables, tmp_path / "all.ods")
    assert err.value.key == "evaluation.bad_table_format"
