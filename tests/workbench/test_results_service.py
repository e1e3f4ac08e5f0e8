"""The results service on a real heart failure run: evaluations computed once and stored, metrics
equal to scikit-learn's on the stored predictions, the holdout threshold chosen out-of-fold,
DeLong, the recorded model choice, sharing with a collaborator, and run comparison."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sqlalchemy import func, select

from pipelines.automl import SearchSettings
from pipelines.errors import InputError, PermissionDenied
from pipelines.evaluation import delong_test
from pipelines.recipe import DropColumns, suggest_recipe
from tests.conftest import ADMIN_PASSWORD
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Evaluation, Run

# a real training and its evaluations (tens of seconds): scheduled with the slow files, not at the run's
# end where one long file would keep a process busy after the others are done (tests/conftest.py)
pytestmark = pytest.mark.slow

TINY = SearchSettings(families=("linear", "xgboost"), n_trials=3, time_budget_s=None, seed=3)


@dataclass(frozen=True)
class Trained:
    workbench: object
    owner_id: int
    project_id: int
    recipe_version_id: int
    run_id: int

    def actor(self, user_id: int | None = None):
        from workbench.services._access import load_actor

        with session_scope(self.workbench.engine) as session:
            return load_actor(session, user_id or self.owner_id)

    def user(self, username: str, role: str):
        """A new account with ``role`` in the project, as an actor."""
        from workbench.services import accounts, projects

        password = f"{username[::-1]} rides a quiet tandem 7"
        accounts.create_user(self.workbench, self.actor(), username=username, password=password)
        projects.add_member(self.workbench, self.actor(), project_id=self.project_id, username=username, role=role)
        user_id = accounts.sign_in(self.workbench, username=username, password=password).user_id
        return self.actor(user_id)


class InlineQueue:
    """Runs a submitted job at once through the real runner (the code a Dask worker runs)."""

    def __init__(self, settings) -> None:
        from workbench.jobs._queue import job_settings

        self.values = job_settings(settings)

    def submit(self, job_id: int) -> None:
        from workbench.jobs import execute_job

        execute_job(job_id, self.values)


def train_table(tmp_path_factory, path, *, target: str, name: str, settings, label: str | None = None,
                drop: tuple[str, ...] = (), resamples: int = 200) -> Trained:
    """A workbench with one table, its suggested recipe (without ``drop``: recorded after the
    outcome) approved, and one tiny training per entry of ``settings``; ``run_id`` is the first run.
    Trained once per test run for the same arguments; each caller gets its own copy of the data folder
    (``copy_of_built``), so modules that change it do not meet."""
    import os

    from workbench.context import open_workbench
    from workbench.settings import default_settings

    for variable in [n for n in os.environ if n.startswith("WORKBENCH_") and n != "WORKBENCH_SHARED_DATASETS"]:
        os.environ.pop(variable)
    values = {"demo_project": False, "admin_password": ADMIN_PASSWORD}  # resamples: used by evaluations only
    data = tmp_path_factory.mktemp("results") / "data"
    ids = _built(tmp_path_factory, data, values, path, target=target, name=name, label=label, drop=drop,
                 settings=tuple(settings))
    workbench = open_workbench(default_settings(data_dir=str(data), bootstrap_resamples=resamples, **values))
    workbench.jobs = InlineQueue(workbench.settings)
    return Trained(workbench, **ids)


def _built(tmp_path_factory, into, values: dict, path, *, target: str, name: str, label: str | None,
           drop: tuple[str, ...], settings: tuple) -> dict:
    """Copy into ``into`` the folder of ``train_table`` with ``settings`` trained (``copy_of_built``). A
    list of several settings is the folder of the list without its last entry, copied, and one more
    training: the first run that several lists share (``train_heart_failure`` with 1 or 2 runs) is
    trained once per test run, not once per list."""
    from tests.conftest import copy_of_built

    key = repr(("train_table", str(path), target, name, label, drop, [repr(s) for s in settings]))

    def build(folder) -> dict:
        if len(settings) == 1:
            return _train_into(folder, values, path, target=target, name=name, settings=settings, label=label,
                               drop=drop)
        ids = _built(tmp_path_factory, folder, values, path, target=target, name=name, label=label, drop=drop,
                     settings=settings[:-1])
        _train_more(folder, values, ids, settings[-1])
        return ids

    return copy_of_built(tmp_path_factory, key, build, into=into)


def _train_more(folder, values: dict, ids: dict, chosen: SearchSettings) -> None:
    """One more training of the approved recipe version in ``ids``, in ``folder``; no connection left open."""
    from workbench.context import open_workbench
    from workbench.services import training
    from workbench.services._access import load_actor
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(folder), **values))
    workbench.jobs = InlineQueue(workbench.settings)
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, ids["owner_id"])
    training.start_training(workbench, owner, recipe_version_id=ids["recipe_version_id"], settings=chosen,
                            overrides_text=None)
    _close(workbench)


def _close(workbench) -> None:
    """Dispose of the workbench's engine and of the one its jobs opened (``copy_of_built`` copies the folder)."""
    from workbench.context import _WORKER_CACHE

    workbench.engine.dispose()
    for key in [k for k in _WORKER_CACHE if k[1] == str(workbench.data_path)]:  # the jobs' own engine
        _WORKER_CACHE.pop(key).engine.dispose()


def _train_into(folder, values: dict, path, *, target: str, name: str, settings, label: str | None,
                drop: tuple[str, ...]) -> dict:
    """``train_table``'s training, in ``folder``; the ids of ``Trained``, and no connection left open."""
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench
    from workbench.services import accounts, datasets, projects, recipes, training
    from workbench.services._access import load_actor
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(folder), **values))
    first_start(workbench)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    workbench.jobs = InlineQueue(workbench.settings)
    project_id = projects.create_project(workbench, admin, name=name)
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)
    version = datasets.import_file(workbench, owner, project_id=project_id, path=path, label=label or path.name)
    recipe = suggest_recipe(pd.read_csv(path), target=target)
    missing = [c for c in drop if c not in [c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns]]
    if missing:
        recipe = recipe.add(DropColumns(columns=tuple(missing), note="recorded after the outcome"))
    recipe_version = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=version,
                                          recipe=recipe)
    recipes.approve(workbench, owner, recipe_version_id=recipe_version)
    for chosen in settings:
        training.start_training(workbench, owner, recipe_version_id=recipe_version, settings=chosen,
                                overrides_text=None)
    run_id = training.list_runs(workbench, owner, project_id)[-1].id  # the first run
    _close(workbench)
    return {"owner_id": admin.user_id, "project_id": project_id, "recipe_version_id": recipe_version,
            "run_id": run_id}


def train_heart_failure(tmp_path_factory, datasets_dir, *, runs: int = 1) -> Trained:
    """A workbench with the heart failure table, the suggested recipe minus ``time``, approved,
    and ``runs`` tiny trainings (3 trials of logistic regression and XGBoost)."""
    later = SearchSettings(families=("linear", "xgboost"), n_trials=4, time_budget_s=None, seed=7)
    return train_table(tmp_path_factory, datasets_dir / "heart_failure_clinical_records.csv", target="DEATH_EVENT",
                       name="Heart failure mortality", label="heart.csv", drop=("time",),
                       settings=[TINY] + [later] * (runs - 1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    return train_heart_failure(tmp_path_factory, datasets_dir, runs=2)


def _options(trained, **changes):
    from workbench.services import results

    return results.default_options(trained.workbench, **{"subgroup_columns": ("sex", "age"), **changes})


def _count(workbench, model, *where):
    with session_scope(workbench.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_evaluation_is_computed_once_stored_and_read_back(trained):
    from workbench.services import results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    model_id = view.rows[1].model_id
    first = results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=model_id, options=_options(trained))
    stored = _count(trained.workbench, Evaluation, Evaluation.model_id == model_id)
    again = results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=model_id, options=_options(trained))
    assert stored == 1 and _count(trained.workbench, Evaluation, Evaluation.model_id == model_id) == 1
    from workbench.services import _codec

    assert _codec.dumps(again) == _codec.dumps(first)  # the stored result, not a recomputation
    assert _count(trained.workbench, AuditEvent, AuditEvent.action == "results.evaluate",
                  AuditEvent.resource_id == str(model_id)) == 1
    # other options are another evaluation, stored beside the first
    results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=model_id,
                     options=_options(trained, threshold_rule="sensitivity", threshold_target=0.9))
    assert _count(trained.workbench, Evaluation, Evaluation.model_id == model_id) == 2


def test_metrics_equal_scikit_learn_on_the_stored_predictions(trained):
    from workbench.services import results, training

    owner = trained.actor()
    predictions = training.load_run_predictions(trained.workbench, owner, trained.run_id)
    view = results.run_results(trained.workbench, owner, trained.run_id)
    for row in view.rows:
        evaluation = results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=row.model_id,
                                      options=_options(trained))
        for part in ("test", "train"):
            frame = predictions[(predictions.model_id == row.model_id) & (predictions.part == part)]
            metrics = evaluation.part(part).metrics
            assert metrics.n == len(frame) and metrics.n_positive == int(frame.y_true.sum())
            assert metrics.auroc.value == pytest.approx(roc_auc_score(frame.y_true, frame.probability), abs=1e-12)
            assert metrics.auprc.value == pytest.approx(average_precision_score(frame.y_true, frame.probability), abs=1e-12)
            assert metrics.brier.value == pytest.approx(brier_score_loss(frame.y_true, frame.probability), abs=1e-12)
            assert metrics.auroc.lower < metrics.auroc.value < metrics.auroc.upper
        # the holdout's recorded test score is the AUROC the dashboard shows
        assert evaluation.part("test").metrics.auroc.value == pytest.approx(row.test_score, abs=1e-9)


def test_the_holdout_threshold_is_chosen_out_of_fold(trained):
    from workbench.services import results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    evaluation = results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=view.rows[0].model_id,
                                  options=_options(trained))
    assert evaluation.threshold_source == "train"
    assert evaluation.part("test").metrics.threshold == evaluation.part("train").metrics.threshold
    assert evaluation.subgroups is not None and {r.variable for r in evaluation.subgroups.rows} == {"sex", "age"}
    assert evaluation.table_one is not None and evaluation.table_one.n == 299
    assert evaluation.importance is not None and len(evaluation.importance.features) == 11


def test_delong_compares_two_models_on_the_same_patients(trained):
    from workbench.services import results, training

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    a, b = view.rows[1].model_id, view.rows[2].model_id
    test = results.compare_models(trained.workbench, owner, run_id=trained.run_id, model_a=a, model_b=b)
    frame = training.load_run_predictions(trained.workbench, owner, trained.run_id)
    fa = frame[(frame.model_id == a) & (frame.part == "test")].sort_values("row")
    fb = frame[(frame.model_id == b) & (frame.part == "test")].sort_values("row")
    expected = delong_test(fa.y_true.to_numpy(), fa.probability.to_numpy(), fb.probability.to_numpy())
    assert test.p_value == pytest.approx(expected.p_value) and 0 <= test.p_value <= 1
    assert test.auroc_a.value == pytest.approx(roc_auc_score(fa.y_true, fa.probability))
    with pytest.raises(InputError) as caught:
        results.compare_models(trained.workbench, owner, run_id=trained.run_id, model_a=a, model_b=999_999)
    assert caught.value.key == "results.model_not_in_run"


def test_choosing_the_model_to_report_is_recorded_and_audited(trained):
    from workbench.services import results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    assert view.reported_model_id == view.rows[0].model_id  # rank 1 until someone chooses
    results.choose_model(trained.workbench, owner, trained.run_id, view.rows[1].model_id)
    assert results.run_results(trained.workbench, owner, trained.run_id).reported_model_id == view.rows[1].model_id
    with session_scope(trained.workbench.engine) as session:
        assert session.get(Run, trained.run_id).chosen_model_id == view.rows[1].model_id
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "results.choose_model")
                               .order_by(AuditEvent.id.desc()))
        assert event.details["model_id"] == view.rows[1].model_id and event.actor_name == "admin"
    with pytest.raises(InputError):
        results.choose_model(trained.workbench, owner, trained.run_id, 999_999)


def test_a_collaborator_sees_only_what_is_shared_and_never_patient_level_data(trained):
    from workbench.services import results

    guest = trained.user("dr_guest", "collaborator")
    owner = trained.actor()
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=[])
    with pytest.raises(PermissionDenied) as caught:
        results.run_results(trained.workbench, guest, trained.run_id)
    assert caught.value.params["reason"] == "not_shared"
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "figures"])
    view = results.run_results(trained.workbench, guest, trained.run_id)
    assert view.trials == () and "predictions_sha256" not in view.summary  # trials and row data stay hidden
    evaluation = results.evaluate(trained.workbench, guest, run_id=trained.run_id, model_id=view.rows[1].model_id,
                                  options=_options(trained))
    assert evaluation.main.metrics.auroc.value > 0.5
    assert results.is_restricted(guest, trained.project_id) and not results.is_restricted(owner, trained.project_id)
    with pytest.raises(PermissionDenied):
        results.patient_contributions(trained.workbench, guest, run_id=trained.run_id, model_id=view.rows[1].model_id,
                                      options=_options(trained))
    with pytest.raises(PermissionDenied):
        results.set_sharing(trained.workbench, guest, project_id=trained.project_id, facets=["metrics"])
    with pytest.raises(PermissionDenied):
        results.choose_model(trained.workbench, guest, trained.run_id, view.rows[0].model_id)
    with pytest.raises(InputError) as caught:
        results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["rows"])
    assert caught.value.key == "results.unknown_facet"
    assert _count(trained.workbench, AuditEvent, AuditEvent.action == "sharing.manage",
                  AuditEvent.outcome == "succeeded") >= 2
    # the owner sees per-patient SHAP values of the linear model
    contributions = results.patient_contributions(trained.workbench, owner, run_id=trained.run_id,
                                                  model_id=next(r.model_id for r in view.rows if r.family == "linear"),
                                                  options=_options(trained))
    assert contributions is not None and contributions.values.shape[0] == 60
    assert np.isfinite(contributions.values).all()


def test_two_runs_side_by_side(trained):
    from workbench.services import results

    owner = trained.actor()
    runs = results.project_runs(trained.workbench, owner, trained.project_id)
    assert len(runs) == 2 and runs[0].run_id > runs[1].run_id
    views = results.compare_runs(trained.workbench, owner, [r.run_id for r in runs])
    assert [v.settings["seed"] for v in views] == [7, 3]
    assert [v.settings["n_trials"] for v in views] == [4, 3]
    assert all(len(v.trials) == v.summary["n_trials"] for v in views)
    with pytest.raises(InputError):
        results.compare_runs(trained.workbench, owner, [])
