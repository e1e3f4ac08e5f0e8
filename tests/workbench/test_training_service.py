"""The training service on the real heart failure table: the approval gate, who may override what,
the stored run format, predictions, models, reproducibility, live progress and cancel."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from pipelines.automl import SearchSettings
from pipelines.automl.settings import Overrides
from pipelines.errors import InputError, PermissionDenied, TrainingError
from pipelines.recipe import DropColumns, prepare, suggest_recipe
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Job, ModelRow, RecipeMeta, Run
from workbench.jobs import JobQueue, execute_job, get_job, request_cancel
from workbench.jobs._queue import job_settings
from workbench.services import datasets, projects, recipes, results, training
from workbench.services._access import load_actor
from workbench.services._recipe_meta import training_meta

TINY = SearchSettings(families=("linear", "xgboost"), n_trials=4, time_budget_s=None, seed=3)


class InlineQueue:
    """Runs a submitted job at once through the real runner (the same code a Dask worker runs)."""

    def __init__(self, settings) -> None:
        self.values = job_settings(settings)
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)
        execute_job(job_id, self.values)


class HeldQueue:
    """Keeps submitted job ids without running them."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)


def _actor(workbench, user_id):
    with session_scope(workbench.engine) as session:
        return load_actor(session, user_id)


@pytest.fixture
def project(workbench, admin):
    return projects.create_project(workbench, admin, name="Heart failure mortality")


@pytest.fixture
def owner(workbench, admin, project):
    """The admin as the project's owner (the actor reloaded after the project gave it a role)."""
    return _actor(workbench, admin.user_id)


@pytest.fixture
def heart(datasets_dir):
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")


@pytest.fixture
def dataset_version(workbench, admin, project, datasets_dir):
    return datasets.import_file(workbench, _actor(workbench, admin.user_id), project_id=project,
                                path=datasets_dir / "heart_failure_clinical_records.csv", label="heart.csv")


def _recipe(heart):
    recipe = suggest_recipe(heart, target="DEATH_EVENT")
    if "time" in [c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns]:
        return recipe
    return recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))


@pytest.fixture
def recipe_version(workbench, admin, project, dataset_version, heart):
    owner = _actor(workbench, admin.user_id)
    version_id = recipes.save_version(workbench, owner, project_id=project, dataset_version_id=dataset_version,
                                      recipe=_recipe(heart))
    return version_id


@pytest.fixture
def approved(workbench, admin, recipe_version):
    recipes.approve(workbench, _actor(workbench, admin.user_id), recipe_version_id=recipe_version)
    return recipe_version


@pytest.fixture
def member(workbench, admin, make_user, project):
    def _make(username: str, role: str):
        signed = make_user(username)
        projects.add_member(workbench, _actor(workbench, admin.user_id), project_id=project, username=username, role=role)
        return _actor(workbench, signed.user_id)

    return _make


@pytest.fixture
def inline(workbench):
    workbench.jobs = InlineQueue(workbench.settings)
    return workbench.jobs


def _train(workbench, actor, recipe_version_id, settings=TINY, overrides_text=None, **kwargs):
    job_id = training.start_training(workbench, actor, recipe_version_id=recipe_version_id, settings=settings,
                                     overrides_text=overrides_text, **kwargs)
    job = get_job(workbench, job_id)
    assert job.state == "succeeded", (job.error_key, job.error_params, job.log[-3000:])
    return job


# --------------------------------------------------------------------------- the gate


def test_an_unapproved_recipe_does_not_train(workbench, owner, recipe_version, inline):
    with pytest.raises(TrainingError) as caught:
        training.start_training(workbench, owner, recipe_version_id=recipe_version, settings=None, overrides_text=None)
    assert caught.value.key == "recipes.not_approved"
    assert inline.submitted == []
    with session_scope(workbench.engine) as session:
        assert session.scalar(select(Job).where(Job.kind == "train")) is None


def test_recommended_settings_say_why(workbench, owner, approved):
    settings, reasons, enqueue = training.recommended_settings(workbench, owner, recipe_version_id=approved)
    keys = [r.key for r in reasons]
    assert "training.recommend_similar" in keys and "training.recommend_budget" in keys
    similar = [r.params for r in reasons if r.key == "training.recommend_similar"]
    assert all({"name", "n", "prevalence"} <= set(p) for p in similar)
    assert settings.enqueue == enqueue and len(enqueue) >= 1
    assert settings.device == workbench.settings.compute


def test_meta_features_are_computed_once_then_the_table_is_not_prepared_again(workbench, owner, approved, heart,
                                                                             monkeypatch):
    first = training.recommended_settings(workbench, owner, recipe_version_id=approved)  # approved before: computed now
    with session_scope(workbench.engine) as session:
        assert session.scalars(select(RecipeMeta)).all().__len__() == 1
    recipe = recipes.get_version(workbench, owner, approved)[1]
    assert first.meta == training_meta(recipe, prepare(recipe, heart)).meta
    assert first.meta.n_rows == 239 and first.meta.prevalence == pytest.approx(0.3214, abs=0.002)

    def refuse(*args, **kwargs):
        raise AssertionError("the dataset was read again")

    monkeypatch.setattr(training, "read_dataset_frame", refuse)
    again = training.recommended_settings(workbench, owner, recipe_version_id=approved)
    assert again.meta == first.meta and again.settings == first.settings
    workbench.settings = workbench.settings.replace(dask_train_rows=299)  # the stored row count picks the path
    workbench.jobs = HeldQueue()  # the job is created, not run: only its path is looked at
    job_id = training.start_training(workbench, owner, recipe_version_id=approved, settings=None, overrides_text=None)
    assert get_job(workbench, job_id).params["distributed"] is True


def test_the_server_limit_lowers_the_recommended_budget_and_refuses_a_larger_one(workbench, owner, approved, inline):
    settings, reasons, _ = training.recommended_settings(workbench, owner, recipe_version_id=approved)
    assert settings.time_budget_s == 60.0 and "training.recommend_budget_capped" not in [r.key for r in reasons]
    workbench.settings = workbench.settings.replace(max_training_seconds=20)
    settings, reasons, _ = training.recommended_settings(workbench, owner, recipe_version_id=approved)
    assert settings.time_budget_s == 20.0
    assert [r.params for r in reasons if r.key == "training.recommend_budget_capped"] == [{"limit": 20, "seconds": 60}]
    with pytest.raises(InputError) as caught:
        _train(workbench, owner, approved, settings=dataclasses.replace(settings, time_budget_s=45.0))
    assert caught.value.key == "train.budget_over_limit" and caught.value.params == {"seconds": 45, "limit": 20}
    assert inline.submitted == []


def test_a_clinician_trains_only_with_recommended_settings(workbench, member, approved, inline):
    clinician = member("cora", "clinician")
    with pytest.raises(PermissionDenied) as caught:
        training.start_training(workbench, clinician, recipe_version_id=approved, settings=TINY, overrides_text=None)
    assert caught.value.params["action"] in {"training.override_search", "training.advanced_settings"}
    with pytest.raises(PermissionDenied):
        training.start_training(workbench, clinician, recipe_version_id=approved, settings=None,
                                overrides_text="xgboost: {max_depth: [3, 6]}")
    recommended = training.recommended_settings(workbench, clinician, recipe_version_id=approved).settings
    with pytest.raises(PermissionDenied):
        training.start_training(workbench, clinician, recipe_version_id=approved,
                                settings=dataclasses.replace(recommended, seed=7), overrides_text=None)
    assert inline.submitted == []
    with session_scope(workbench.engine) as session:
        denied = list(session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied",
                                                               AuditEvent.actor_name == "cora")))
    assert len(denied) == 3
    # the recommended settings are hers to start (only the job is not run here: it is not the point)
    workbench.jobs = type("Recorder", (), {"submit": lambda self, job_id: None})()
    job_id = training.start_training(workbench, clinician, recipe_version_id=approved, settings=None, overrides_text=None)
    assert get_job(workbench, job_id).params["settings"] == recommended.to_dict()


def test_a_collaborator_cannot_start_training(workbench, member, approved, inline):
    outsider = member("olga", "collaborator")
    with pytest.raises(PermissionDenied):
        training.start_training(workbench, outsider, recipe_version_id=approved, settings=None, overrides_text=None)


def test_a_data_scientist_overrides_and_is_told_about_gpu_hist(workbench, member, approved, inline):
    scientist = member("dana", "data_scientist")
    text = "xgboost:\n  tree_method: gpu_hist\n  max_depth: [3, 6]\nlinear:\n  C: 0.5\n"
    overrides, notices = training.check_overrides(workbench, scientist, project_id=get_job_project(workbench, approved),
                                                  text=text)
    from pipelines.automl import probe_cuda

    gpu = {"device": "cuda"} if probe_cuda().cuda else {}
    assert overrides.pins["xgboost"] == {"tree_method": "hist", **gpu}
    assert overrides.bounds["xgboost"] == {"max_depth": (3, 6)}
    assert "training.gpu_hist_translated" in [n.key for n in notices]
    job = _train(workbench, scientist, approved, overrides_text=text)
    run = training.get_run(workbench, scientist, job.result["run_id"])
    assert run.run.settings["overrides"]["bounds"]["xgboost"] == {"max_depth": [3, 6]}
    assert run.run.settings["overrides"]["pins"]["linear"] == {"C": 0.5}
    trials = run.summary["trials"]
    assert all(3 <= t["params"]["max_depth"] <= 6 for t in trials if t["family"] == "xgboost" and t["source"] == "search")
    assert all(t["params"]["C"] == 0.5 for t in trials if t["family"] == "linear")
    keys = [n["key"] for n in run.summary["notices"]]
    assert "training.gpu_hist_translated" in keys
    assert "training.device_cpu_no_gpu" in keys or "training.device_gpu" in keys


def test_a_trial_budget_is_held_to_the_servers_limit(workbench, owner, approved, inline):
    """A trial budget with no time budget cannot hold the workers past max_training_seconds (the
    web server's value travels with the job: the worker was started with the default)."""
    workbench.settings = workbench.settings.replace(max_training_seconds=1)
    settings = SearchSettings(families=("linear",), n_trials=300, time_budget_s=None, seed=3)
    job = _train(workbench, owner, approved, settings=settings)
    run = training.get_run(workbench, owner, job.result["run_id"])
    assert 1 <= len(run.summary["trials"]) < 300 and run.summary["leaderboard"]
    stopped = [n["params"] for n in run.summary["notices"] if n["key"] == "training.trials_stopped_at_limit"]
    assert stopped == [{"limit": 1, "done": len(run.summary["trials"]), "asked": 300}]


@pytest.mark.slow
def test_a_model_shortened_by_the_time_budget_says_so_in_the_stored_run(workbench, owner, approved, inline):
    pinned = Overrides(pins={"lightgbm": {"n_estimators": 50_000}})
    settings = SearchSettings(families=("lightgbm",), n_trials=None, time_budget_s=5, seed=0, overrides=pinned,
                              ensemble=False)
    job = _train(workbench, owner, approved, settings=settings)
    run_id = job.result["run_id"]
    stored = training.get_run(workbench, owner, run_id).summary
    first = stored["trials"][0]
    asked, used = first["time_cut"]["n_estimators"]
    assert asked == 50_000 and used < asked and first["params"]["n_estimators"] == used
    rows = results.run_results(workbench, owner, run_id).rows
    assert [r.time_cut for r in rows if r.name == "lightgbm"] == [first["time_cut"]]


def get_job_project(workbench, recipe_version_id):
    from workbench.db.models import RecipeVersion

    with session_scope(workbench.engine) as session:
        return session.get(RecipeVersion, recipe_version_id).project_id


# --------------------------------------------------------------------------- the run format


def test_the_stored_run_keeps_the_agreed_format(workbench, owner, approved, inline):
    job = _train(workbench, owner, approved)
    view = training.get_run(workbench, owner, job.result["run_id"])
    run, models, summary = view.run, view.models, view.summary
    assert run.job_id == job.id and run.recipe_version_id == approved and run.created_by == owner.user_id
    assert run.settings == TINY.to_dict() and run.device in {"cpu", "cuda"}
    assert [m.rank for m in models] == list(range(1, len(models) + 1))
    assert {m.family for m in models} >= {"linear", "xgboost"}
    assert models[0].metrics["final"] is True and not any(m.metrics["final"] for m in models[1:])
    for m in models:
        assert set(m.metrics) >= {"cv_mean", "cv_sd", "test_score", "metric"} and m.metrics["metric"] == "roc_auc"
        assert 0.5 < m.metrics["cv_mean"] <= 1 and len(m.manifest_sha256) == 64
        assert workbench.store.exists(m.manifest_sha256)
    for key in ("task", "target", "positive_label", "classes", "metric", "features", "group_column", "n_train",
                "n_test", "meta_features", "leaderboard", "trials", "notices", "libraries", "seed",
                "predictions_sha256"):
        assert key in summary, key
    assert summary["task"] == "binary" and summary["target"] == "DEATH_EVENT" and summary["positive_label"] == 1
    assert "time" not in summary["features"] and "DEATH_EVENT" not in summary["features"]
    assert (summary["n_train"], summary["n_test"]) == (239, 60)
    assert len(summary["trials"]) == 4 and summary["seed"] == 3
    assert {"number", "family", "value", "state", "params", "seconds", "device"} <= set(summary["trials"][0])
    assert [r["model_id"] for r in summary["leaderboard"]] == [m.id for m in models]

    predictions = training.load_run_predictions(workbench, owner, run.id)
    assert list(predictions.columns) == ["model_id", "row", "part", "fold", "y_true", "probability"]
    assert set(predictions["model_id"]) == {m.id for m in models}
    for m in models:
        mine = predictions[predictions["model_id"] == m.id]
        train, test = mine[mine["part"] == "train"], mine[mine["part"] == "test"]
        assert len(train) == 239 and len(test) == 60 and set(test["fold"]) == {-1}
        assert set(train["fold"]) == set(range(5))
        assert sorted(mine["row"]) == list(range(299))  # every prepared row once per model
        assert mine["probability"].between(0, 1).all()
        from sklearn.metrics import roc_auc_score

        assert roc_auc_score(test["y_true"], test["probability"]) == pytest.approx(m.metrics["test_score"], abs=1e-9)
        if not m.metrics["final"]:  # the refitted out-of-fold predictions are the ones the search scored
            assert roc_auc_score(train["y_true"], train["probability"]) == pytest.approx(m.metrics["oof_score"])


def test_predictions_match_the_stored_models(workbench, owner, approved, inline, heart):
    job = _train(workbench, owner, approved)
    view = training.get_run(workbench, owner, job.result["run_id"])
    predictions = training.load_run_predictions(workbench, owner, view.run.id)
    prepared_y = heart["DEATH_EVENT"].to_numpy()
    test_rows = predictions[(predictions["part"] == "test") & (predictions["model_id"] == view.models[0].id)]
    assert (test_rows["y_true"].to_numpy() == prepared_y[test_rows["row"].to_numpy()]).all()
    for model in view.models:
        loaded = training.load_model(workbench, owner, model.id)
        assert loaded.task == "binary" and list(loaded.classes) == [0, 1]
        rows = predictions[(predictions["part"] == "test") & (predictions["model_id"] == model.id)]
        X = heart.drop(columns=["DEATH_EVENT", "time"]).iloc[rows["row"].to_numpy()]
        np.testing.assert_allclose(loaded.model.predict_proba(X)[:, 1], rows["probability"].to_numpy(), atol=1e-9)


def test_row_level_predictions_need_their_own_permission(workbench, member, owner, approved, inline):
    job = _train(workbench, owner, approved)
    outsider = member("olga", "collaborator")
    with pytest.raises(PermissionDenied):
        training.load_run_predictions(workbench, outsider, job.result["run_id"])


def test_same_data_recipe_seed_and_trials_give_the_same_leaderboard(workbench, owner, approved, inline):
    first = training.get_run(workbench, owner, _train(workbench, owner, approved).result["run_id"])
    second = training.get_run(workbench, owner, _train(workbench, owner, approved).result["run_id"])
    board = lambda view: [(r["name"], r["params"], r["cv_mean"], r["cv_sd"], r["test_score"])  # noqa: E731
                          for r in view.summary["leaderboard"]]
    assert board(first) == board(second)
    assert [(t["family"], t["params"], t["value"]) for t in first.summary["trials"]] == \
           [(t["family"], t["params"], t["value"]) for t in second.summary["trials"]]
    def predictions(view):
        frame = training.load_run_predictions(workbench, owner, view.run.id)
        rank = {m.id: m.rank for m in view.models}
        return frame.assign(model_id=frame["model_id"].map(rank)).sort_values(["model_id", "part", "row"],
                                                                             ignore_index=True)

    pd.testing.assert_frame_equal(predictions(first), predictions(second))
    other = training.get_run(workbench, owner, _train(workbench, owner, approved,
                                                      settings=dataclasses.replace(TINY, seed=4)).result["run_id"])
    assert board(other) != board(first)


def test_a_finished_run_informs_the_next_recommendation(workbench, owner, approved, inline):
    _train(workbench, owner, approved)
    rec = training.recommended_settings(workbench, owner, recipe_version_id=approved)
    names = [r.params["name"] for r in rec.reasons if r.key == "training.recommend_similar"]
    assert any(name.startswith("Heart failure mortality (run ") for name in names)
    first = training.list_runs(workbench, owner, get_job_project(workbench, approved))[0]
    best = first.summary["leaderboard"]
    enqueued = [(e["family"], e["params"]) for e in rec.enqueue]
    assert any((r["family"], r["params"]) in enqueued for r in best if r["family"] != "ensemble")


def test_progress_is_readable_after_the_run(workbench, owner, approved, inline):
    job = _train(workbench, owner, approved)
    progress = training.run_progress(workbench, owner, job.id)
    assert progress.state == "succeeded" and progress.run_id == job.result["run_id"]
    assert progress.trials_done == 4 and progress.stage == "done" and progress.device in {"cpu", "cuda"}
    assert len(progress.trials) == 4 and {r["family"] for r in progress.leaderboard} >= {"linear", "xgboost"}
    assert progress.best_score is not None and progress.elapsed_s > 0
    assert [j.id for j in training.training_jobs(workbench, owner, get_job_project(workbench, approved))] == [job.id]


def test_gpu_requested_on_a_machine_without_one_is_refused_before_the_job(workbench, owner, approved, inline):
    from pipelines.automl import probe_cuda

    if probe_cuda().cuda:
        pytest.skip("this machine has a GPU")
    with pytest.raises(TrainingError) as caught:
        training.start_training(workbench, owner, recipe_version_id=approved,
                                settings=dataclasses.replace(TINY, device="gpu"), overrides_text=None)
    assert caught.value.key == "training.gpu_unavailable" and inline.submitted == []


# --------------------------------------------------------------------------- on Dask: live progress, cancel


@pytest.mark.slow
def test_live_progress_and_cancel_on_a_dask_cluster(workbench, owner, approved):
    from distributed import LocalCluster

    settings = dataclasses.replace(TINY, n_trials=None, time_budget_s=600.0)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        try:
            job_id = training.start_training(workbench, owner, recipe_version_id=approved, settings=settings,
                                             overrides_text=None)
            deadline = time.monotonic() + 120
            progress = training.run_progress(workbench, owner, job_id)
            while progress.trials_done < 3 and time.monotonic() < deadline:
                time.sleep(0.3)
                progress = training.run_progress(workbench, owner, job_id)
            assert progress.state == "running" and progress.trials_done >= 3, progress
            assert progress.leaderboard and progress.best_score is not None and progress.device == "cpu"
            job = get_job(workbench, job_id)
            assert job.status_text == "jobs.status.search" and job.status_params["best"]["metric"] == "roc_auc"
            asked = time.monotonic()
            request_cancel(workbench, job_id)
            while get_job(workbench, job_id).state == "running" and time.monotonic() - asked < 30:
                time.sleep(0.2)
            took = time.monotonic() - asked
        finally:
            workbench.jobs.close()
    assert get_job(workbench, job_id).state == "cancelled" and took < 10
    with session_scope(workbench.engine) as session:
        assert session.scalar(select(Run).where(Run.job_id == job_id)) is None
        assert session.scalar(select(ModelRow)) is None
