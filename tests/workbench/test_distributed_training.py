"""A table above ``dask_train_rows`` trains through the Dask path as a job on a real two-worker
cluster, and the run it stores is an ordinary one: models, predictions, evaluation."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.automl import SearchSettings
from pipelines.recipe import prepare, suggest_recipe
from tests.workbench.conftest import wait_for_job
from workbench.db.engine import session_scope
from workbench.jobs import JobQueue
from workbench.services import datasets, projects, recipes, results, training
from workbench.services._access import load_actor
from workbench.services._frames import read_dataset_frame

pytestmark = pytest.mark.slow

# the patient id (the grouping column), a few admission and treatment columns and the outcome: what
# this test proves needs no more, and each further column costs the permutation importance and SHAP
COLUMNS = ["patient_nbr", "race", "gender", "age", "admission_type_id", "time_in_hospital", "num_lab_procedures",
           "num_medications", "number_inpatient", "number_diagnoses", "A1Cresult", "insulin", "diabetesMed",
           "readmitted"]
SETTINGS = SearchSettings(families=("xgboost", "lightgbm"), n_trials=2, time_budget_s=None, seed=0)


def _actor(workbench, user_id):
    with session_scope(workbench.engine) as session:
        return load_actor(session, user_id)


def test_a_table_above_the_threshold_trains_on_the_cluster_and_gives_a_normal_run(workbench, admin, datasets_dir,
                                                                                 tmp_path):
    from distributed import LocalCluster

    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False, na_values=[""],
                        low_memory=False, nrows=2500, usecols=COLUMNS)
    frame["readmitted_30"] = (frame.pop("readmitted") == "<30").astype("int64")
    path = tmp_path / "readmission_first_2500.csv"
    frame.to_csv(path, index=False)
    project = projects.create_project(workbench, admin, name="Readmission")
    owner = _actor(workbench, admin.user_id)
    version = datasets.import_file(workbench, owner, project_id=project, path=path, label="readmission.csv")
    recipe_id = recipes.save_version(workbench, owner, project_id=project, dataset_version_id=version,
                                     recipe=suggest_recipe(frame, target="readmitted_30"))
    recipes.approve(workbench, owner, recipe_version_id=recipe_id)
    workbench.settings = workbench.settings.replace(dask_train_rows=2000)  # 2,500 rows are "large" here

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        try:
            job_id = training.start_training(workbench, owner, recipe_version_id=recipe_id, settings=SETTINGS,
                                             overrides_text=None)
            job = wait_for_job(workbench, job_id, timeout=600, poll=0.5)
        finally:
            workbench.jobs.close()
    assert job.params["distributed"] is True
    assert job.state == "succeeded", (job.error_key, job.error_params, job.log[-3000:])

    view = training.get_run(workbench, owner, job.result["run_id"])
    assert view.run.settings["distributed"]["path"] == "dask"
    assert view.run.settings["distributed"]["validation"] == "holdout"
    assert {m.family for m in view.models} == {"xgboost", "lightgbm"} and view.models[0].metrics["final"] is True
    assert "distributed.holdout_validation" in {n["key"] for n in view.summary["notices"]}
    assert view.summary["group_column"] == "patient_nbr" and view.summary["n_train"] + view.summary["n_test"] == 2500

    predictions = training.load_run_predictions(workbench, owner, view.run.id)
    final = predictions[predictions["model_id"] == view.models[0].id]
    assert len(final) == 2500 and final.loc[final["part"] == "test", "probability"].notna().all()
    loaded = training.load_model(workbench, owner, view.models[0].id)
    test = final[final["part"] == "test"].sort_values("row")
    approved = recipes.require_approved(workbench, owner, recipe_id)
    prepared = prepare(approved.recipe, read_dataset_frame(workbench, approved.dataset_version)).frame
    X = prepared.iloc[test["row"].to_numpy()][view.summary["features"]]
    assert abs(loaded.model.predict_proba(X)[:, 1] - test["probability"].to_numpy()).max() < 1e-6

    evaluation = results.evaluate(workbench, owner, run_id=view.run.id, model_id=view.models[0].id,
                                  options=results.default_options(workbench, n_resamples=50))
    assert evaluation.part("test").n == view.summary["n_test"]
    # out-of-fold predictions exist for the validation part only, and the evaluation uses exactly those
    assert evaluation.part("train").n == view.run.settings["distributed"]["validation_rows"]
    # the paper pack's methods text says how this run was tuned: one validation part, not k folds
    from workbench.services._paper import PackInput
    from workbench.services._paper_texts import methods_text

    text = methods_text(PackInput(evaluations=(evaluation,), summary=view.summary, settings=view.run.settings,
                                  recipe=approved.recipe.to_dict(), params={}, title="t", source="s"))
    assert "chosen on one validation part of the development set" in text and "cross-validation within" not in text
