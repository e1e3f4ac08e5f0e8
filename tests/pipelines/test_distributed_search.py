"""The Dask path on a real two-worker LocalCluster and real readmission rows: it trains, returns an
ordinary SearchResult, keeps patients together, fits preprocessing on training rows only, and
takes column names LightGBM refuses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.automl import SearchResult, SearchSettings
from pipelines.automl.distributed import VALIDATION_FOLD, is_row_local, run_distributed_search, storage_for
from pipelines.automl.distributed._partitions import fit_preprocessor, read_prepared
from pipelines.automl.persist import load_model, save_model
from pipelines.automl.search import _encode_target
from pipelines.errors import TrainingError
from pipelines.recipe import AggregateTimeSeries, DefineOutcome, EditCell, Recipe, build_preprocessor, make_split_plan, \
    prepare, suggest_recipe

pytestmark = pytest.mark.slow

ROWS = 2400
# Names LightGBM refuses in a frame (":", "[", '"') and Korean, as hospital exports have them.
RENAMES = {"A1Cresult": "A1C:result[%]", "num_medications": '투약 수 "n"', "age": "나이"}
SETTINGS = SearchSettings(families=("xgboost", "lightgbm", "linear"), n_trials=2, time_budget_s=None, seed=0)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def table(datasets_dir, tmp_path_factory):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False, na_values=[""],
                        low_memory=False, nrows=ROWS)
    frame["readmitted_30"] = (frame.pop("readmitted") == "<30").astype("int64")
    frame = frame.rename(columns=RENAMES)
    path = tmp_path_factory.mktemp("dask") / "readmission.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)  # one row group, as the store writes
    recipe = suggest_recipe(frame, target="readmitted_30")
    assert recipe.split.kind == "grouped_kfold" and recipe.split.group_column == "patient_nbr"
    return frame, path, recipe


@pytest.fixture(scope="module")
def run(client, table, tmp_path_factory):
    frame, path, recipe = table
    scratch = tmp_path_factory.mktemp("scratch")
    return run_distributed_search(client, recipe=recipe, source=path, scratch=scratch / "parts",
                                  storage=storage_for(scratch), study_key="test", settings=SETTINGS,
                                  rows_per_partition=800)


def test_it_trains_and_returns_an_ordinary_search_result(run, table, tmp_path):
    frame, _, recipe = table
    result = run.result
    assert isinstance(result, SearchResult) and result.task == "binary" and result.metric == "roc_auc"
    assert run.info["partitions"] == 3 and run.info["validation"] == "holdout"  # 2400 rows re-chunked by 800
    assert [t.family for t in result.trials[:2]] == ["xgboost", "lightgbm"]  # the defaults first
    assert all(t.state == "complete" for t in result.trials) and len(result.trials) == 2
    assert {r.family for r in result.leaderboard} == {"xgboost", "lightgbm"}
    assert sum(r.selected for r in result.leaderboard) == 1 and len(run.others) == 1
    assert "distributed.families_dropped" in {n.key for n in result.notices}  # linear has no Dask learner
    assert 0.5 < result.final.oof_score <= 1 and result.final.test_score is not None

    # out-of-fold predictions exactly on the validation part, NaN elsewhere
    val_pos = run.plan.folds[VALIDATION_FOLD][1]
    covered = ~np.isnan(result.oof_predictions[:, 0])
    assert np.array_equal(np.flatnonzero(covered), np.sort(val_pos))

    # the stored model (native formats, no pickle) predicts what the cluster predicted
    save_model(result.model, tmp_path / "m", task=result.task, classes=result.classes)
    loaded = load_model(tmp_path / "m").model
    prepared = prepare(recipe, frame)
    X_test = prepared.X.iloc[result.test_index]
    np.testing.assert_allclose(loaded.predict_proba(X_test), result.test_predictions, atol=1e-6)
    other = run.others[0]
    np.testing.assert_allclose(other.model.predict_proba(X_test), other.test, atol=1e-6)


def test_the_split_is_the_single_process_one_and_keeps_patients_together(run, table):
    frame, _, recipe = table
    reference = make_split_plan(recipe.split, prepare(recipe, frame), seed=SETTINGS.seed)
    assert np.array_equal(run.plan.train_index, reference.train_index)
    assert np.array_equal(run.plan.test_index, reference.test_index)
    for (a, b), (c, d) in zip(run.plan.folds, reference.folds):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    patients = run.prepared.frame["patient_nbr"].to_numpy()
    assert not set(patients[run.plan.train_index]) & set(patients[run.plan.test_index])
    fit_pos, val_pos = run.plan.folds[VALIDATION_FOLD]
    train_patients = patients[run.plan.train_index]
    assert not set(train_patients[fit_pos]) & set(train_patients[val_pos])


def test_preprocessing_is_fitted_on_the_training_rows_only(client, table, tmp_path):
    frame, path, recipe = table
    data = read_prepared(client, recipe=recipe, source=path, scratch=tmp_path, rows_per_partition=800, seed=0,
                         encode=_encode_target)
    prepared = prepare(recipe, frame)
    plan = data.plan
    X, y = prepared.X.iloc[plan.train_index], prepared.y.iloc[plan.train_index]
    fit_pos = plan.folds[VALIDATION_FOLD][0]
    probe = prepared.X.iloc[plan.test_index]

    tuning, _ = fit_preprocessor(client, data, recipe=recipe, folds=[f for f in range(len(plan.folds))
                                                                    if f != VALIDATION_FOLD])
    reference = build_preprocessor(recipe, prepared).fit(X.iloc[fit_pos], y.iloc[fit_pos])
    np.testing.assert_allclose(tuning.transform(probe), reference.transform(probe))

    final, meta = fit_preprocessor(client, data, recipe=recipe, folds=range(len(plan.folds)))
    reference = build_preprocessor(recipe, prepared).fit(X, y)
    np.testing.assert_allclose(final.transform(probe), reference.transform(probe))
    assert meta.n_rows == len(plan.train_index)
    # the check can fail: a preprocessor that also saw the test rows transforms differently
    leaky = build_preprocessor(recipe, prepared).fit(prepared.X, prepared.y).transform(probe)
    assert leaky.shape != final.transform(probe).shape or not np.allclose(final.transform(probe), leaky)


def test_column_names_lightgbm_refuses_reach_no_learner(run, table):
    frame, _, _ = table
    assert set(RENAMES.values()) <= set(run.prepared.features)
    lgbm = next(t for t in run.result.trials if t.family == "lightgbm")
    assert lgbm.state == "complete" and lgbm.error == ""
    booster = (run.others[0].model if run.others[0].row.family == "lightgbm" else run.result.model)
    names = booster.named_steps["model"]
    names = getattr(names, "base", names)
    learner_names = names.booster_.feature_name() if hasattr(names, "booster_") else names.get_booster().feature_names
    assert not set(learner_names) & set(frame.columns)


def test_recipes_that_need_the_whole_table_are_not_row_local(table):
    _, _, recipe = table
    assert is_row_local(recipe)
    edited = recipe.add(EditCell(column="race", row_key=0, old_value="Caucasian", new_value="Other"))
    assert not is_row_local(edited)
    series = Recipe(steps=(DefineOutcome(column="x"),
                           AggregateTimeSeries(table="long", id_column="RecordID",
                                               time_column="Minutes", variable_column="Parameter",
                                               value_column="Value")))
    assert not is_row_local(series)


def test_no_family_with_a_distributed_learner_is_a_clear_error(client, table, tmp_path):
    _, path, recipe = table
    with pytest.raises(TrainingError) as caught:
        run_distributed_search(client, recipe=recipe, source=path, scratch=tmp_path, storage=storage_for(tmp_path),
                               study_key="none", settings=dataclasses.replace(SETTINGS, families=("linear", "forest")),
                               rows_per_partition=800)
    assert caught.value.key == "distributed.no_family"
