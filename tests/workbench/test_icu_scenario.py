"""Scenario 2, step 4: ICU time series joined to outcomes, 48-hour features, trained end to end."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipelines.automl import SearchSettings
from pipelines.recipe import AggregateTimeSeries, DefineOutcome, DropColumns, Impute, Recipe, Scale, SplitSpec
from workbench.db.engine import session_scope
from workbench.db.models import ModelRow, Run
from workbench.jobs import get_job
from workbench.services import datasets, projects, recipes, review, training
from tests.workbench.test_training_service import InlineQueue, _actor

pytestmark = pytest.mark.slow


def test_icu_48h_features_flag_post_outcome_columns_and_train(workbench, admin, datasets_dir):
    project_id = projects.create_project(workbench, admin, name="ICU mortality")
    owner = _actor(workbench, admin.user_id)
    outcomes = datasets.import_file(workbench, owner, project_id=project_id,
                                    path=datasets_dir / "physionet2012_static_outcomes.csv", label="outcomes.csv")
    series = datasets.import_file(workbench, owner, project_id=project_id,
                                  path=datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz",
                                  label="timeseries.csv.gz")
    series_number = datasets.get_version(workbench, owner, series).version

    # the review of the bare outcome flags what is only known after it
    bare = Recipe(steps=(DefineOutcome(column="In-hospital_death"),))
    warned = review.preview(workbench, owner, dataset_version_id=outcomes, recipe=bare)
    flagged = {c for w in warned.warnings for c in w.columns}
    assert {"Survival", "Length_of_stay"} <= flagged

    recipe = Recipe(steps=(
        DefineOutcome(column="In-hospital_death"),
        DropColumns(columns=("Survival", "Length_of_stay", "set"), note="known only after the outcome; source set"),
        AggregateTimeSeries(table=f"v{series_number}", id_column="RecordID", time_column="Minutes",
                            variable_column="Parameter", value_column="Value", window_start=0.0, window_end=48 * 60.0,
                            variables=("HR", "MAP", "GCS", "Temp", "Creatinine", "Lactate"),
                            statistics=("first", "last", "min", "max", "mean", "slope")),
        DropColumns(columns=("RecordID",), note="identifier"),
        Impute(add_indicator=True), Scale(),
    ), split=SplitSpec(kind="stratified_kfold", n_folds=3))
    shown = review.preview(workbench, owner, dataset_version_id=outcomes, recipe=recipe)
    assert 900 <= len(shown.prepared.frame) <= 1000
    assert "HR_slope" in shown.prepared.features and "Survival" not in shown.prepared.features

    version_id = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=outcomes, recipe=recipe)
    review.approve_version(workbench, owner, recipe_version_id=version_id,
                           acknowledged=[review.warning_id(w) for w in shown.warnings])
    workbench.jobs = InlineQueue(workbench.settings)
    job_id = training.start_training(workbench, owner, recipe_version_id=version_id, overrides_text=None,
                                     settings=SearchSettings(families=("linear", "lightgbm"), n_trials=4,
                                                             time_budget_s=None, seed=7))
    job = get_job(workbench, job_id)
    assert job.state == "succeeded", (job.error_key, job.error_params, job.log[-2000:])
    with session_scope(workbench.engine) as session:
        run = session.scalar(select(Run).where(Run.job_id == job_id))
        best = session.scalar(select(ModelRow).where(ModelRow.run_id == run.id, ModelRow.rank == 1))
        assert "HR_mean" in run.summary["features"]
        assert best.metrics["cv_mean"] > 0.7  # in-hospital death from 48-h vitals and labs
