"""`workbench train` / `workbench predict` on the real tables, with tiny budgets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipelines.automl.persist import load_model
from workbench.cli import main

# real trainings through the command line (tens of seconds in all)
# scheduled with the slow files, not at the run's end (tests/conftest.py)
pytestmark = pytest.mark.slow

FAST = ["--trials", "3", "--time-budget", "120", "--families", "linear,xgboost"]


def _train(tmp_path, data, *args):
    out = tmp_path / "model"
    code = main(["train", str(data), *args, *FAST, "--seed", "2", "--out", str(out)])
    assert code == 0
    return out


def test_train_then_predict_gives_one_probability_per_input_row_in_input_order(tmp_path, datasets_dir, capsys):
    data = datasets_dir / "heart_failure_clinical_records.csv"
    out = _train(tmp_path, data, "--target", "DEATH_EVENT", "--drop", "time")
    printed = capsys.readouterr().out
    assert "299 rows, 11 predictors, task binary, outcome DEATH_EVENT (event: 1)" in printed
    assert "<- final" in printed and "saved to" in printed
    run = json.loads((out / "run.json").read_text())
    assert run["trials"] == 3 and run["seed"] == 2 and run["metric"] == "roc_auc"
    assert {r["family"] for r in run["leaderboard"]} >= {"linear", "xgboost"}
    manifest = load_model(out).manifest
    assert "time" not in manifest["extra"]["features"] and manifest["extra"]["target"] == "DEATH_EVENT"

    heart = pd.read_csv(data)
    shuffled = heart.sample(frac=1.0, random_state=5).drop(columns=["DEATH_EVENT"])  # no outcome needed
    new = tmp_path / "new.csv"
    shuffled.to_csv(new, index=False)
    pred_path = tmp_path / "pred.csv"
    assert main(["predict", str(out), str(new), "--out", str(pred_path)]) == 0
    pred = pd.read_csv(pred_path)
    assert list(pred.columns) == ["probability"] and len(pred) == 299 and pred["probability"].between(0, 1).all()
    model = load_model(out).model
    expected = model.predict_proba(heart.drop(columns=["DEATH_EVENT", "time"]).loc[shuffled.index])[:, 1]
    np.testing.assert_allclose(pred["probability"].to_numpy(), expected, rtol=0, atol=1e-6)
    # the model ranks the deaths above the survivors on its own data
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(heart.loc[shuffled.index, "DEATH_EVENT"], pred["probability"]) > 0.75


def test_same_seed_and_trials_give_the_same_leaderboard(tmp_path, datasets_dir):
    data = datasets_dir / "pima_diabetes.csv"
    boards = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["train", str(data), "--target", "Outcome", *FAST, "--seed", "4", "--out", str(out)]) == 0
        run = json.loads((out / "run.json").read_text())
        boards.append([(r["name"], r["params"], r["cv_mean"], r["test_score"]) for r in run["leaderboard"]])
    assert boards[0] == boards[1]


def test_multiclass_predictions_have_one_column_per_class(tmp_path, datasets_dir):
    data = datasets_dir / "heart_cleveland.csv"
    frame = pd.read_csv(data)
    frame["num"] = frame["num"].clip(upper=2).map({0: "none", 1: "mild", 2: "severe"})
    table = tmp_path / "cleveland.csv"
    frame.to_csv(table, index=False)
    out = _train(tmp_path, table, "--target", "num")
    pred_path = tmp_path / "pred.csv"
    assert main(["predict", str(out), str(table), "--out", str(pred_path)]) == 0
    pred = pd.read_csv(pred_path)
    assert sorted(pred.columns) == ["p_mild", "p_none", "p_severe"] and len(pred) == len(frame)
    np.testing.assert_allclose(pred.sum(axis=1), 1.0, atol=1e-6)


def test_column_names_lightgbm_refuses_do_not_break_a_run(tmp_path, datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").drop(columns=["time"])
    frame.columns = [f'{c}: "lab" [mg/dL]' if c != "DEATH_EVENT" else c for c in frame.columns]
    table = tmp_path / "export.csv"
    frame.to_csv(table, index=False)
    out = tmp_path / "model"
    assert main(["train", str(table), "--target", "DEATH_EVENT", "--trials", "3", "--families", "lightgbm,xgboost",
                 "--out", str(out)]) == 0
    pred_path = tmp_path / "pred.csv"
    assert main(["predict", str(out), str(table), "--out", str(pred_path)]) == 0
    assert len(pd.read_csv(pred_path)) == len(frame)


def test_a_patient_id_keeps_each_patient_in_one_part(tmp_path, datasets_dir, capsys):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", nrows=1500)
    frame["readmitted_30"] = (frame["readmitted"] == "<30").astype(int)
    table = tmp_path / "readmission.csv"
    frame.drop(columns=["readmitted"]).to_csv(table, index=False)
    out = tmp_path / "model"
    code = main(["train", str(table), "--target", "readmitted_30", "--group", "patient_nbr", "--drop", "encounter_id",
                 "--trials", "2", "--families", "linear", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    recipe = load_model(out).manifest["extra"]["recipe"]
    assert recipe["split"]["kind"] == "grouped_kfold" and recipe["split"]["group_column"] == "patient_nbr"
    assert "patient_nbr" not in load_model(out).manifest["extra"]["features"]


def test_bad_input_ends_in_a_sentence_and_status_2(tmp_path, datasets_dir, capsys):
    data = datasets_dir / "heart_failure_clinical_records.csv"
    assert main(["train", str(data), "--target", "death", *FAST, "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "death" in err and "DEATH_EVENT" in err and "Traceback" not in err

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    assert main(["train", str(data), "--target", "DEATH_EVENT", *FAST, "--out", str(busy)]) == 2
    assert "already contains files" in capsys.readouterr().err

    out = _train(tmp_path, data, "--target", "DEATH_EVENT", "--drop", "time")
    partial = tmp_path / "partial.csv"
    pd.read_csv(data).drop(columns=["ejection_fraction"]).to_csv(partial, index=False)
    assert main(["predict", str(out), str(partial), "--out", str(tmp_path / "p.csv")]) == 2
    assert "ejection_fraction" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nowhere"), str(data), "--out", str(tmp_path / "p.csv")]) == 2
    assert "manifest.json" in capsys.readouterr().err
