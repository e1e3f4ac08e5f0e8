"""`workbench recipe suggest|apply` on the shared tables: JSON out, hand-written recipes, exit 2 with a message."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from workbench.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_suggest_prints_the_recipe_and_the_warnings_as_json(capsys, datasets_dir):
    code, out, _ = _run(capsys, "recipe", "suggest", str(datasets_dir / "heart_failure_clinical_records.csv"),
                        "--target", "DEATH_EVENT", "--json")
    assert code == 0
    data = json.loads(out)
    kinds = [s["kind"] for s in data["recipe"]["steps"]]
    assert kinds[:2] == ["outcome", "drop_columns"] and data["recipe"]["steps"][1]["columns"] == ["time"]
    assert [w["id"] for w in data["warnings"]] == ["few_events"]
    assert data["warnings"][0]["params"]["events"] == 96 and "96 events" in data["warnings"][0]["message"]
    assert (data["rows_in"], data["rows_out"]) == (299, 299)


def test_suggest_in_plain_words_and_in_korean(capsys, datasets_dir):
    code, out, _ = _run(capsys, "recipe", "suggest", str(datasets_dir / "physionet2012_static_outcomes.csv"),
                        "--target", "In-hospital_death", "--lang", "ko")
    assert code == 0
    assert "열 삭제: RecordID (식별자)" in out
    assert "Survival" in out and "결과 이후에 기록됨" in out
    recipe_json = out[: out.index("\n\n# 1.")]
    assert json.loads(recipe_json)["format"] == "workbench.recipe"


def test_apply_writes_the_prepared_table_for_a_hand_written_recipe(capsys, tmp_path, datasets_dir):
    recipe = {"steps": [{"kind": "outcome", "column": "num", "expression": "num > 0"},
                        {"kind": "filter_rows", "expression": "age >= 40", "reason": "40 and older"},
                        {"kind": "impute"}, {"kind": "scale"}]}
    path = tmp_path / "cleveland.json"
    path.write_text(json.dumps(recipe), encoding="utf-8")
    raw = pd.read_csv(datasets_dir / "heart_cleveland.csv")
    for out in (tmp_path / "prepared.csv", tmp_path / "prepared.parquet"):
        code, text, _ = _run(capsys, "recipe", "apply", str(path), str(datasets_dir / "heart_cleveland.csv"),
                             "--out", str(out))
        assert code == 0, text
        prepared = pd.read_csv(out) if out.suffix == ".csv" else pd.read_parquet(out)
        assert len(prepared) == int((raw.age >= 40).sum()) and set(prepared.num) == {0, 1}
        assert f"{int((raw.age < 40).sum())} rows excluded (40 and older)" in text


def test_apply_joins_a_time_series_given_with_table(capsys, tmp_path, datasets_dir):
    recipe = {"steps": [
        {"kind": "outcome", "column": "In-hospital_death"},
        {"kind": "drop_columns", "columns": ["Survival", "Length_of_stay", "set"]},
        {"kind": "aggregate_timeseries", "table": "vitals", "id_column": "RecordID", "time_column": "Minutes",
         "variable_column": "Parameter", "value_column": "Value", "window_end": 2880, "variables": ["HR"],
         "statistics": ["mean", "max"]},
        {"kind": "drop_columns", "columns": ["RecordID"]}, {"kind": "impute"}]}
    path = tmp_path / "icu.json"
    path.write_text(json.dumps(recipe), encoding="utf-8")
    out = tmp_path / "icu.parquet"
    code, text, err = _run(capsys, "recipe", "apply", str(path), str(datasets_dir / "physionet2012_static_outcomes.csv"),
                           "--out", str(out), "--table",
                           f"vitals={datasets_dir / 'physionet2012_seta_timeseries_long_first1000.csv.gz'}")
    assert code == 0, err
    prepared = pd.read_parquet(out)
    assert {"HR_mean", "HR_max"} <= set(prepared.columns) and "Survival" not in prepared.columns
    assert 900 < len(prepared) <= 1000
    # without the table the step says which table is missing
    code, _, err = _run(capsys, "recipe", "apply", str(path), str(datasets_dir / "physionet2012_static_outcomes.csv"),
                        "--out", str(out))
    assert code == 2 and "the table 'vitals' is not available" in err


@pytest.mark.parametrize(("recipe", "expected"), [
    ("{not json", "could not be read"),
    ('{"steps": [{"kind": "outcome", "column": "DEATH_EVENT"}, {"kind": "drop_column", "columns": ["time"]}]}',
     "'drop_column' is not a known step"),
    ('{"steps": [{"kind": "outcome", "column": "DEATH_EVENT"}, {"kind": "drop_columns", "columns": ["tiem"]}]}',
     "the column 'tiem' given for 'columns' does not exist"),
    ('{"steps": [{"kind": "outcome", "column": "DEATH_EVENT"}, {"kind": "scale", "method": "zscore"}]}',
     "'method' cannot be 'zscore'"),
])
def test_bad_recipes_exit_2_with_the_translated_message(capsys, tmp_path, datasets_dir, recipe, expected):
    path = tmp_path / "bad.json"
    path.write_text(recipe, encoding="utf-8")
    code, out, err = _run(capsys, "recipe", "apply", str(path), str(datasets_dir / "heart_failure_clinical_records.csv"),
                          "--out", str(tmp_path / "x.csv"))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_bad_arguments_exit_2(capsys, tmp_path, datasets_dir):
    hf = str(datasets_dir / "heart_failure_clinical_records.csv")
    code, _, err = _run(capsys, "recipe", "suggest", hf, "--target", "DEATH")
    assert code == 2 and "'DEATH'" in err and "does not exist" in err
    code, _, err = _run(capsys, "recipe", "suggest", str(tmp_path / "missing.csv"), "--target", "y")
    assert code == 2 and "does not exist" in err
    (tmp_path / "r.json").write_text('{"steps": [{"kind": "outcome", "column": "DEATH_EVENT"}]}')
    code, _, err = _run(capsys, "recipe", "apply", str(tmp_path / "r.json"), hf, "--out", str(tmp_path / "x.xlsx"))
    assert code == 2 and ".csv, .parquet" in err
    code, _, err = _run(capsys, "recipe", "apply", str(tmp_path / "r.json"), hf, "--out", str(tmp_path / "x.csv"),
                        "--table", "novalue")
    assert code == 2 and "NAME=FILE" in err
