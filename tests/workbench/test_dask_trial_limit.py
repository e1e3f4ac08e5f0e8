"""On the Dask path a trial budget is held to the server's ``max_training_seconds`` as on the
single-process path: once the limit has passed and a trial has completed, no trial starts; the
run keeps the trials done and says so. On a real (in-process, one-worker) LocalCluster, with the
heart failure table made "large" by lowering ``dask_train_rows``."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.automl import SearchSettings
from pipelines.automl.distributed import run_distributed_search, storage_for
from pipelines.automl.settings import Overrides
from pipelines.recipe import DropColumns, suggest_recipe
from tests.workbench.conftest import wait_for_job
from workbench.db.engine import session_scope
from workbench.jobs import JobQueue
from workbench.services import datasets, projects, recipes, training
from workbench.services._access import load_actor

pytestmark = pytest.mark.slow

ASKED = 200  # trials asked for: far more than fit in the limit (each distributed fit takes a good part of a second)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        yield cluster


def _recipe(frame: pd.DataFrame):
    recipe = suggest_recipe(frame, target="DEATH_EVENT")
    if "time" in [c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns]:
        return recipe
    return recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))


def test_a_trial_budget_on_the_cluster_stops_at_the_servers_limit(workbench, admin, datasets_dir, cluster):
    path = datasets_dir / "heart_failure_clinical_records.csv"
    project = projects.create_project(workbench, admin, name="Heart failure on the cluster")
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)
    version = datasets.import_file(workbench, owner, project_id=project, path=path, label="heart.csv")
    recipe_id = recipes.save_version(workbench, owner, project_id=project, dataset_version_id=version,
                                     recipe=_recipe(pd.read_csv(path)))
    recipes.approve(workbench, owner, recipe_version_id=recipe_id)
    # 299 rows are "large" here; the web server's limit travels with the job
    workbench.settings = workbench.settings.replace(dask_train_rows=200, max_training_seconds=1)
    settings = SearchSettings(families=("xgboost", "lightgbm"), n_trials=ASKED, time_budget_s=None, seed=0)
    workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
    try:
        job_id = training.start_training(workbench, owner, recipe_version_id=recipe_id, settings=settings,
                                         overrides_text=None)
        job = wait_for_job(workbench, job_id, timeout=300)
    finally:
        workbench.jobs.close()
    assert job.params["distributed"] is True and job.params["max_training_seconds"] == 1
    assert job.state == "succeeded", (job.error_key, job.error_params, job.log[-3000:])
    run = training.get_run(workbench, owner, job.result["run_id"])
    assert run.run.settings["distributed"]["path"] == "dask"
    trials = run.summary["trials"]
    assert 1 <= len(trials) < ASKED and any(t["state"] == "complete" for t in trials)
    stopped = [n["params"] for n in run.summary["notices"] if n["key"] == "training.trials_stopped_at_limit"]
    assert stopped == [{"limit": 1, "done": len(trials), "asked": ASKED}]
    assert run.models and run.models[0].metrics["final"] is True  # the trials done gave an ordinary run


def test_a_failed_first_trial_does_not_end_the_run_at_the_limit(datasets_dir, cluster, tmp_path):
    """A limit already passed stops the launches only once a trial has *completed*: XGBoost's
    trial fails on a pinned value LightGBM does not see, LightGBM's then completes, and nothing
    starts after it (one worker: one trial in flight at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import Client

    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    source = tmp_path / "heart.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source)
    pinned = Overrides(pins={"xgboost": {"max_depth": -3}})  # XGBoost refuses it when it trains
    settings = SearchSettings(families=("xgboost", "lightgbm"), n_trials=ASKED, time_budget_s=None, seed=0,
                              overrides=pinned)
    with Client(cluster) as client:
        run = run_distributed_search(client, recipe=_recipe(frame), source=source, scratch=tmp_path / "parts",
                                     storage=storage_for(tmp_path), study_key="limit", settings=settings,
                                     rows_per_partition=1_000, stop_trials_after_s=0.0)
    trials = run.result.trials
    assert [(t.family, t.state) for t in trials] == [("xgboost", "failed"), ("lightgbm", "complete")], trials
    assert [n.params for n in run.result.notices if n.key == "training.trials_stopped_at_limit"] == [
        {"limit": 0, "done": 2, "asked": ASKED}]
    assert [r.family for r in run.result.leaderboard] == ["lightgbm"]
