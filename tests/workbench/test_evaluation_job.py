"""The ``evaluate`` job on a real heart failure run: the page's reads never compute, one job per
(model, options) however many ask, progress per model and step, cooperative cancel that keeps the
models already stored, real factor names in the stored SHAP importance, and the job that training
starts by itself on a real Dask cluster."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from pipelines.automl import SearchSettings
from tests.workbench.conftest import wait_for_job
from tests.workbench.test_results_service import train_heart_failure
from tests.workbench.test_training_service import InlineQueue
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Evaluation, Job
from workbench.jobs import execute_job, get_job, request_cancel


class HeldQueue(InlineQueue):
    """Records submissions; the test runs each job itself through the real runner, when it wants."""

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    def run(self, job_id: int) -> str:
        return execute_job(job_id, self.values)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    trained = train_heart_failure(tmp_path_factory, datasets_dir, runs=1)
    trained.workbench.jobs = HeldQueue(trained.workbench.settings)
    return trained


def _count(workbench, model, *where) -> int:
    with session_scope(workbench.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _options(trained, **changes):
    from workbench.services import results

    return results.default_options(trained.workbench, **{"subgroup_columns": ("sex", "age"), **changes})


def test_one_job_for_everyone_asking_and_the_page_reads_only(trained):
    from workbench.services import evaluation_job, results

    owner, workbench = trained.actor(), trained.workbench
    results.set_sharing(workbench, owner, project_id=trained.project_id, facets=["metrics"])
    guest = trained.user("dr_guest", "collaborator")
    options = _options(trained, seed=11, n_resamples=50)
    before = _count(workbench, Evaluation)
    status = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options)
    assert status.evaluations == {} and len(status.pending) == 3 and status.job_id is None
    assert _count(workbench, Evaluation) == before  # reading the status computed nothing

    job_id = evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options)
    assert evaluation_job.request_evaluation(workbench, guest, run_id=trained.run_id, options=options) == job_id
    assert evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options) == job_id
    assert workbench.jobs.submitted.count(job_id) == 1 and _count(workbench, Job, Job.kind == "evaluate") == 1
    status = evaluation_job.evaluation_status(workbench, guest, run_id=trained.run_id, options=options)
    assert status.job_id == job_id and status.state == "queued" and status.running

    # an export needing the numbers now waits for the job instead of computing the same bootstrap beside it
    exported: list = []
    export = threading.Thread(target=lambda: exported.append(results.evaluate(
        workbench, owner, run_id=trained.run_id, model_id=status.pending[-1], options=options)))
    export.start()
    time.sleep(1.5)
    assert export.is_alive() and _count(workbench, Evaluation) == before
    assert workbench.jobs.run(job_id) == "succeeded"
    export.join(timeout=30)
    assert len(exported) == 1
    job = get_job(workbench, job_id)
    assert job.progress == 1.0 and job.result["model_ids"] == list(status.pending)
    assert _count(workbench, AuditEvent, AuditEvent.action == "results.evaluate", AuditEvent.outcome == "succeeded",
                  AuditEvent.resource_id == str(status.pending[-1])) == 1  # computed once, by the job
    status = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options)
    assert status.pending == () and set(status.evaluations) == set(job.result["model_ids"])
    assert _count(workbench, Evaluation) == before + 3
    # the stored numbers are what every other reader gets, with no second computation
    model_id = job.result["model_ids"][0]
    read = results.evaluate(workbench, owner, run_id=trained.run_id, model_id=model_id, options=options)
    assert read.main.metrics.auroc == status.evaluations[model_id].main.metrics.auroc
    assert _count(workbench, Evaluation) == before + 3
    assert evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options) is None
    assert _count(workbench, AuditEvent, AuditEvent.action == "results.evaluate", AuditEvent.outcome == "queued",
                  AuditEvent.resource_id == str(job_id)) == 1


def test_shap_importance_names_the_real_inputs(trained):
    from workbench.services import evaluation_job, results

    owner, workbench = trained.actor(), trained.workbench
    options = _options(trained, seed=11, n_resamples=50)  # stored by the test above when run with it
    job_id = evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options)
    if job_id is not None:
        assert workbench.jobs.run(job_id) == "succeeded"
    view = results.run_results(workbench, owner, trained.run_id)
    stored = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options).evaluations
    features = set(view.summary["features"])
    explained = [e for e in stored.values() if e.shap_importance]
    assert explained, "the linear and XGBoost models break down exactly"
    for e in explained:
        names = {name for name, _ in e.shap_importance}
        assert not any(n.startswith("x") and n[1:].isdigit() for n in names), names
        assert {n.removesuffix(" (missing)").split(" = ")[0] for n in names} <= features
    for e in stored.values():  # an ensemble says why it has no SHAP values instead of showing nothing
        assert e.shap_importance or e.shap_missing is not None
        assert e.importance is not None and set(e.importance.features) == features


def test_cancel_stops_within_seconds_and_keeps_finished_models(trained):
    from workbench.services import evaluation_job

    owner, workbench = trained.actor(), trained.workbench
    options = _options(trained, n_resamples=1000, seed=12)
    job_id = evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options)
    worker = threading.Thread(target=workbench.jobs.run, args=(job_id,))
    worker.start()
    deadline = time.monotonic() + 120
    status = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options)
    while status.live.get("step") in (None, "start") and time.monotonic() < deadline:
        time.sleep(0.2)
        status = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options)
    assert status.state == "running" and status.live["models_total"] == 3 and status.live.get("model_id")
    asked = time.monotonic()
    request_cancel(workbench, job_id)
    worker.join(timeout=60)
    took = time.monotonic() - asked
    status = evaluation_job.evaluation_status(workbench, owner, run_id=trained.run_id, options=options)
    assert status.state == "cancelled" and took < 15 and status.pending
    assert len(status.evaluations) + len(status.pending) == 3
    # a cancelled evaluation is not restarted behind the user's back; asking again starts a new job
    again = evaluation_job.request_evaluation(workbench, owner, run_id=trained.run_id, options=options)
    assert again not in (None, job_id) and get_job(workbench, again).params["model_ids"] == list(status.pending)


@pytest.mark.slow
def test_training_starts_the_evaluation_of_its_run_on_the_cluster(trained):
    from distributed import LocalCluster

    from workbench.jobs import JobQueue
    from workbench.services import evaluation_job, results, training

    owner, workbench = trained.actor(), trained.workbench
    held = workbench.jobs
    settings = SearchSettings(families=("linear",), n_trials=2, time_budget_s=None, seed=5)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        workbench.jobs = JobQueue(cluster.scheduler_address, workbench.settings)
        try:
            train_job = training.start_training(workbench, owner, recipe_version_id=trained.recipe_version_id,
                                                settings=settings, overrides_text=None)
            deadline = time.monotonic() + 240
            run_id = wait_for_job(workbench, train_job, timeout=240, poll=0.5).result["run_id"]
            view = results.run_results(workbench, owner, run_id)
            options = results.run_default_options(workbench, view.summary)  # what the page opens with
            status = evaluation_job.evaluation_status(workbench, owner, run_id=run_id, options=options)
            started = status.job_id
            assert started is not None, "training started no evaluation"
            while status.running and time.monotonic() < deadline:
                time.sleep(0.5)
                status = evaluation_job.evaluation_status(workbench, owner, run_id=run_id, options=options)
        finally:
            workbench.jobs.close()
            workbench.jobs = held
    assert status.pending == () and set(status.evaluations) == {r.model_id for r in view.rows}
    assert get_job(workbench, started).created_by == owner.user_id and get_job(workbench, started).state == "succeeded"
