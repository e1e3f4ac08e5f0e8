"""Under a time budget the Dask path keeps it from the first trial on: a probe through
``lightgbm.dask`` times a few rounds on the cluster, the first trial's rounds are capped to what
fits (learning rate raised in proportion), the cut is recorded as on the single-process path, and
the refit uses the shortened parameters. A first trial that fits is left alone. On a real
in-process LocalCluster and the first 3,000 readmission encounters."""

from __future__ import annotations

import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.automl import SearchSettings
from pipelines.automl._schedule import MIN_ROUNDS
from pipelines.automl.distributed import run_distributed_search, storage_for
from pipelines.automl.models import BuildContext, get_family
from pipelines.automl.settings import Overrides
from pipelines.automl.wrappers import CalibratedModel
from pipelines.recipe import suggest_recipe

pytestmark = pytest.mark.slow

ROWS = 3000
COLUMNS = ["patient_nbr", "race", "gender", "age", "admission_type_id", "time_in_hospital", "num_lab_procedures",
           "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient",
           "number_diagnoses", "A1Cresult", "insulin", "change", "diabetesMed", "readmitted"]
BUDGET = 20.0
SLACK = 1.5  # the budget is a goal, not a deadline (the machine is shared); 200,000 rounds take many minutes


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def table(datasets_dir, tmp_path_factory):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False, na_values=[""],
                        low_memory=False, nrows=ROWS, usecols=COLUMNS)
    frame["readmitted_30"] = (frame.pop("readmitted") == "<30").astype("int64")
    path = tmp_path_factory.mktemp("cap") / "readmission.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path, suggest_recipe(frame, target="readmitted_30")


def _run(cluster, table, tmp_path, settings):
    from distributed import Client

    path, recipe = table
    storage = storage_for(tmp_path)
    with Client(cluster) as client:
        started = time.perf_counter()
        run = run_distributed_search(client, recipe=recipe, source=path, scratch=tmp_path / "parts",
                                     storage=storage, study_key="cap", settings=settings, rows_per_partition=1_000)
    return run, time.perf_counter() - started


def _head(run):
    head = run.result.model.named_steps["model"]
    return head.base if isinstance(head, CalibratedModel) else head


def test_a_first_trial_too_long_for_the_budget_is_shortened_on_the_cluster(cluster, table, tmp_path):
    pinned = Overrides(pins={"lightgbm": {"n_estimators": 200_000}})  # uncapped: many minutes
    settings = SearchSettings(families=("lightgbm",), n_trials=None, time_budget_s=BUDGET, seed=0,
                              overrides=pinned, device="cpu")
    run, took = _run(cluster, table, tmp_path, settings)
    assert took < BUDGET * SLACK, took
    first = run.result.trials[0]
    assert first.state == "complete" and first.time_cut is not None, first
    asked, used = first.time_cut["n_estimators"]
    assert asked == 200_000 and MIN_ROUNDS <= used < asked and first.params["n_estimators"] == used
    low, high = first.time_cut["learning_rate"]
    assert high == first.params["learning_rate"] > low
    row = next(r for r in run.result.leaderboard if r.trial_number == first.number)
    assert row.time_cut == first.time_cut
    assert _head(run).get_params()["n_estimators"] == used  # the refit has the shortened rounds
    assert _head(run).booster_.num_trees() <= used
    assert run.result.final.test_score is not None


def test_a_first_trial_that_fits_is_not_shortened(cluster, table, tmp_path):
    settings = SearchSettings(families=("lightgbm",), n_trials=1, time_budget_s=300, seed=0, device="cpu")
    run, _ = _run(cluster, table, tmp_path, settings)
    first = run.result.trials[0]
    default = get_family("lightgbm").default_params(BuildContext(task="binary", n_classes=2, seed=0))
    assert first.state == "complete" and first.time_cut is None
    assert first.params["n_estimators"] == default["n_estimators"] == _head(run).get_params()["n_estimators"]
