"""The risk calculator on a real heart failure run: the form comes from the model's inputs with
training aggregates and units, the risk equals the stored model's prediction, the calibration bin
and the factors are consistent with it, out-of-range inputs are flagged, bad input is refused with
a translated error, the typed values are never stored or audited, and collaborators are refused."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from pipelines.errors import InputError, PermissionDenied
from tests.workbench.test_results_service import train_heart_failure
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent


# a real training and its evaluations (tens of seconds): scheduled with the slow files, not at the run's
# end where one long file would keep a process busy after the others are done (tests/conftest.py)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    return train_heart_failure(tmp_path_factory, datasets_dir, runs=1)


@pytest.fixture(scope="module")
def table(datasets_dir):
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")


def _patient(table: pd.DataFrame, index: int, names) -> dict:
    row = table.iloc[index]
    return {name: row[name].item() if hasattr(row[name], "item") else row[name] for name in names}


def test_the_form_lists_the_model_inputs_with_types_units_and_training_ranges(trained, table):
    from workbench.services import calculator

    form = calculator.calculator_form(trained.workbench, trained.actor(), trained.run_id)
    names = [f.name for f in form.fields]
    # the outcome and the column recorded after it are not asked for; every predictor is
    assert "DEATH_EVENT" not in names and "time" not in names
    assert set(names) == set(table.columns) - {"DEATH_EVENT", "time"}
    by_name = {f.name: f for f in form.fields}
    assert by_name["sex"].kind == "binary" and by_name["sex"].categories == (0, 1)
    sodium = by_name["serum_sodium"]
    assert sodium.kind == "numeric" and sodium.unit == "mmol/L"
    assert table.serum_sodium.min() <= sodium.train_min < sodium.train_max <= table.serum_sodium.max()
    assert sodium.plausible_low is not None and sodium.plausible_low < sodium.train_min
    assert form.task == "binary" and form.model_id > 0


def test_the_risk_is_the_stored_model_prediction_with_its_calibration_bin(trained, table):
    from workbench.services import calculator, training

    owner = trained.actor()
    form = calculator.calculator_form(trained.workbench, owner, trained.run_id)
    names = [f.name for f in form.fields]
    values = _patient(table, 5, names)
    result = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values=values)
    loaded = training.load_model(trained.workbench, owner, form.model_id)
    features = training.get_run(trained.workbench, owner, trained.run_id).summary["features"]
    expected = float(loaded.model.predict_proba(table.iloc[[5]][list(features)])[0, 1])
    assert result.risk == pytest.approx(expected, abs=1e-9)
    assert 0.0 < result.risk < 1.0
    # the holdout calibration curve: aggregated bins only, and the bin nearest the risk is marked
    assert 2 <= len(result.calibration) <= 10
    assert sum(b.count for b in result.calibration) == _holdout_size(trained)
    nearest = min(range(len(result.calibration)), key=lambda i: abs(result.calibration[i].predicted - result.risk))
    assert result.calibration_bin == nearest
    assert all(0.0 <= b.observed_lower <= b.observed <= b.observed_upper <= 1.0 for b in result.calibration)


def _holdout_size(trained) -> int:
    from workbench.services import training

    frame = training.load_run_predictions(trained.workbench, trained.actor(), trained.run_id)
    return int(((frame.part == "test") & (frame.model_id == frame.model_id.min())).sum())


def test_factors_explain_the_prediction_or_say_they_cannot(trained, table):
    from workbench.services import calculator, results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    form = calculator.calculator_form(trained.workbench, owner, trained.run_id)
    names = [f.name for f in form.fields]
    methods = {}
    try:
        for row in view.rows:
            results.choose_model(trained.workbench, owner, trained.run_id, row.model_id)
            low = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values={
                **_patient(table, 0, names), "ejection_fraction": 60, "serum_creatinine": 0.8})
            high = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values={
                **_patient(table, 0, names), "ejection_fraction": 20, "serum_creatinine": 3.5})
            assert high.model_id == row.model_id
            assert high.risk > low.risk  # a failing heart and kidneys raise the risk
            methods[row.family] = high.explain_method
            if row.family == "ensemble":  # a blend of models: the page says it cannot be explained
                assert not high.explained and high.factors == () and high.explain_method is None
                continue
            assert high.explained and {f.feature for f in high.factors} == set(names)
            ef = {f.feature: f.contribution for f in high.factors}["ejection_fraction"]
            ef_low = {f.feature: f.contribution for f in low.factors}["ejection_fraction"]
            assert ef > 0 and ef > ef_low  # the low ejection fraction pushed the risk up
            sizes = [abs(f.contribution) for f in high.factors]
            assert sizes == sorted(sizes, reverse=True)
    finally:
        results.choose_model(trained.workbench, owner, trained.run_id, view.rows[0].model_id)
    assert methods.get("linear") == "linear_exact" and methods.get("xgboost") == "xgboost_treeshap"


def test_inputs_outside_the_training_range_are_flagged(trained, table):
    from workbench.services import calculator

    owner = trained.actor()
    form = calculator.calculator_form(trained.workbench, owner, trained.run_id)
    names = [f.name for f in form.fields]
    values = {**_patient(table, 3, names), "serum_sodium": 100, "platelets": 10_000_000}
    result = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values=values)
    flags = {f.name: f for f in result.flags}
    assert flags["serum_sodium"].kind == "outside_training"
    assert flags["serum_sodium"].low == pytest.approx(min(f.train_min for f in form.fields if f.name == "serum_sodium"))
    assert "age" not in flags
    typo = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id,
                                   values={**_patient(table, 3, names), "serum_sodium": 1350})
    implausible = {f.name: f for f in typo.flags}["serum_sodium"]
    assert implausible.kind == "implausible" and (implausible.low, implausible.high) == (100.0, 200.0)
    typical = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id,
                                      values=_patient(table, 3, names))
    assert all(f.name not in ("serum_sodium",) for f in typical.flags)
    # a missing value is allowed (the model imputes it), and predicts
    blank = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id,
                                    values={**_patient(table, 3, names), "serum_sodium": None})
    assert 0.0 < blank.risk < 1.0


def test_bad_input_gets_a_specific_error(trained, table):
    from workbench.services import calculator

    owner = trained.actor()
    form = calculator.calculator_form(trained.workbench, owner, trained.run_id)
    names = [f.name for f in form.fields]
    base = _patient(table, 1, names)
    cases = [({**base, "age": "sixty"}, "calculator.not_a_number"),
             ({**base, "sex": 2}, "calculator.not_a_number"),
             ({**base, "age": float("inf")}, "calculator.not_a_number"),
             ({**base, "DEATH_EVENT": 1}, "calculator.unknown_input")]
    for values, key in cases:
        with pytest.raises(InputError) as caught:
            calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values=values)
        assert caught.value.key == key
    from pipelines.errors import NotFound

    with pytest.raises(NotFound) as caught:
        calculator.calculator_form(trained.workbench, owner, 999_999)
    assert caught.value.key == "calculator.run_not_found"


def test_the_typed_values_are_not_stored_and_the_prediction_is_audited_without_them(trained, table):
    from workbench.services import calculator

    owner = trained.actor()
    form = calculator.calculator_form(trained.workbench, owner, trained.run_id)
    values = {**_patient(table, 2, [f.name for f in form.fields]), "creatinine_phosphokinase": 4321.5}
    with session_scope(trained.workbench.engine) as session:
        before = len(list(session.scalars(select(AuditEvent.id))))
    calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values=values)
    with session_scope(trained.workbench.engine) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        new = events[before:]
        assert [e.action for e in new] == ["model.predict"]
        text = json.dumps(new[0].details)
        assert "4321.5" not in text and "creatinine" not in text
    # nothing else in the database holds the value either
    raw = trained.workbench.engine.raw_connection()
    try:
        dump = "\n".join(raw.driver_connection.iterdump())
    finally:
        raw.close()
    assert "4321.5" not in dump


def test_collaborators_are_refused_until_the_calculator_is_shared(trained):
    from workbench.services import calculator, results

    owner = trained.actor()
    collaborator = trained.user("calc_collab", "collaborator")
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id,
                        facets=["metrics", "figures", "tables", "model_card"])
    with pytest.raises(PermissionDenied):
        calculator.calculator_form(trained.workbench, collaborator, trained.run_id)
    clinician = trained.user("calc_clinician", "clinician")
    form = calculator.calculator_form(trained.workbench, clinician, trained.run_id)
    assert form.fields
    with session_scope(trained.workbench.engine) as session:
        denied = session.scalar(select(AuditEvent).where(AuditEvent.action == "model.predict",
                                                         AuditEvent.outcome == "denied",
                                                         AuditEvent.actor_id == collaborator.user_id))
        assert denied is not None
    # once the owner shares the calculator, the collaborator may use it (and still sees no rows)
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "calculator"])
    shared = calculator.calculator_form(trained.workbench, collaborator, trained.run_id)
    assert [f.name for f in shared.fields] == [f.name for f in form.fields]


def test_the_chosen_model_is_the_one_the_calculator_uses(trained, table):
    from workbench.services import calculator, results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    other = view.rows[-1].model_id
    results.choose_model(trained.workbench, owner, trained.run_id, other)
    form = calculator.calculator_form(trained.workbench, owner, trained.run_id)
    assert form.model_id == other
    result = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id,
                                     values=_patient(table, 4, [f.name for f in form.fields]))
    assert result.model_id == other and np.isfinite(result.risk)
    results.choose_model(trained.workbench, owner, trained.run_id, view.rows[0].model_id)


def _train_table(tmp_path_factory, datasets_dir, *, file: str, target: str, drop: tuple[str, ...], families):
    """A fresh workbench with ``file`` imported, the suggested recipe (minus ``drop``) approved and
    one tiny training run; returns (workbench, owner, run_id, table)."""
    import os

    from pipelines.automl import SearchSettings
    from pipelines.recipe import DropColumns, suggest_recipe
    from tests.conftest import ADMIN_PASSWORD
    from tests.workbench.test_results_service import InlineQueue
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench
    from workbench.services import accounts, datasets, projects, recipes, training
    from workbench.services._access import load_actor
    from workbench.settings import default_settings

    for name in [n for n in os.environ if n.startswith("WORKBENCH_") and n != "WORKBENCH_SHARED_DATASETS"]:
        os.environ.pop(name)
    workbench = open_workbench(default_settings(data_dir=str(tmp_path_factory.mktemp("calc") / "data"),
                                                demo_project=False, admin_password=ADMIN_PASSWORD,
                                                bootstrap_resamples=100))
    first_start(workbench)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    workbench.jobs = InlineQueue(workbench.settings)
    project_id = projects.create_project(workbench, admin, name=f"Calculator {file}")
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)
    path = datasets_dir / file
    version = datasets.import_file(workbench, owner, project_id=project_id, path=path, label=file)
    table = pd.read_csv(path)
    recipe = suggest_recipe(table, target=target)
    dropped = {c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns}
    missing = tuple(c for c in drop if c not in dropped)
    if missing:
        recipe = recipe.add(DropColumns(columns=missing, note="known only afterwards"))
    recipe_version = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=version,
                                          recipe=recipe)
    recipes.approve(workbench, owner, recipe_version_id=recipe_version)
    training.start_training(workbench, owner, recipe_version_id=recipe_version, overrides_text=None,
                            settings=SearchSettings(families=families, n_trials=3, time_budget_s=None, seed=1))
    return workbench, owner, training.list_runs(workbench, owner, project_id)[0].id, table


def test_categorical_inputs_are_picked_from_training_categories(tmp_path_factory, datasets_dir):
    """GBSG2 (breast cancer): text categories (hormone therapy, menopause, tumour grade) are offered
    as the values seen in training, predict through the model's encoding, and their one-hot
    contributions are summed back onto the input."""
    from workbench.services import calculator, results, training

    workbench, owner, run_id, table = _train_table(tmp_path_factory, datasets_dir, file="gbsg2.csv", target="cens",
                                                   drop=("time",), families=("linear", "xgboost"))
    form = calculator.calculator_form(workbench, owner, run_id)
    fields = {f.name: f for f in form.fields}
    assert set(fields) == {"horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"}
    assert fields["tgrade"].kind == "categorical" and fields["tgrade"].categories == ("I", "II", "III")
    assert fields["menostat"].categories == ("Post", "Pre")
    # small-cell suppression: a category held by fewer than 5 training patients is not offered
    from workbench.services.calculator import MIN_CATEGORY_COUNT, _field

    rare = _field("tgrade", pd.Series(["I"] * 6 + ["II"] * 4 + ["III"] * MIN_CATEGORY_COUNT))
    assert rare.categories == ("I", "III")
    patient = {"horTh": "no", "age": 70, "menostat": "Post", "tsize": 21, "tgrade": "II", "pnodes": 3,
               "progrec": 48, "estrec": 66}
    result = calculator.predict_risk(workbench, owner, run_id=run_id, values=patient)
    loaded = training.load_model(workbench, owner, form.model_id)
    features = training.get_run(workbench, owner, run_id).summary["features"]
    assert result.risk == pytest.approx(float(loaded.model.predict_proba(table.iloc[[0]][list(features)])[0, 1]))
    # every stored model that can be explained names the form's inputs, one-hot columns summed back
    explained = []
    for row in results.run_results(workbench, owner, run_id).rows:
        results.choose_model(workbench, owner, run_id, row.model_id)
        answer = calculator.predict_risk(workbench, owner, run_id=run_id, values=patient)
        if answer.explained:
            explained.append(answer.explain_method)
            assert {f.feature for f in answer.factors} == set(fields)
    assert explained
    with pytest.raises(InputError) as caught:
        calculator.predict_risk(workbench, owner, run_id=run_id, values={**patient, "tgrade": "IV"})
    assert caught.value.key == "calculator.unknown_category" and "III" in caught.value.params["allowed"]
    workbench.engine.dispose()


def test_a_numeric_outcome_gets_a_predicted_value_and_its_factors(tmp_path_factory, datasets_dir):
    """Regression (serum sodium from the other heart failure measurements): a value, not a risk,
    no calibration curve, and contributions in the outcome's units that add up with the model."""
    from workbench.services import calculator, results, training

    workbench, owner, run_id, table = _train_table(
        tmp_path_factory, datasets_dir, file="heart_failure_clinical_records.csv", target="serum_sodium",
        drop=("time", "DEATH_EVENT"), families=("linear", "xgboost"))
    form = calculator.calculator_form(workbench, owner, run_id)
    assert form.task == "regression" and "serum_sodium" not in {f.name for f in form.fields}
    features = training.get_run(workbench, owner, run_id).summary["features"]
    patient = {f.name: table.iloc[7][f.name].item() for f in form.fields}
    methods = []
    for row in results.run_results(workbench, owner, run_id).rows:
        results.choose_model(workbench, owner, run_id, row.model_id)
        answer = calculator.predict_risk(workbench, owner, run_id=run_id, values=patient)
        loaded = training.load_model(workbench, owner, row.model_id)
        assert answer.risk is None and answer.calibration == () and answer.calibration_bin is None
        assert answer.prediction == pytest.approx(float(loaded.model.predict(table.iloc[[7]][list(features)])[0]))
        if answer.explained:
            methods.append(answer.explain_method)
            assert {f.feature for f in answer.factors} == {f.name for f in form.fields}
    assert "xgboost_treeshap" in methods
    workbench.engine.dispose()


def test_a_collaborator_gets_calibration_bins_of_five_or_more(trained, table):
    """The owner's bins are the holdout's ten quantile bins; a collaborator's are the same bins with any
    of 1-4 patients merged (``calibration_bins`` with the limit, on the same stored predictions)."""
    from workbench.services import calculator, results, training

    owner, guest = trained.actor(), trained.user("calc_bins_guest", "collaborator")
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "calculator"])
    names = [f.name for f in calculator.calculator_form(trained.workbench, owner, trained.run_id).fields]
    values = _patient(table, 7, names)
    mine = calculator.predict_risk(trained.workbench, owner, run_id=trained.run_id, values=values)
    theirs = calculator.predict_risk(trained.workbench, guest, run_id=trained.run_id, values=values)
    frame = training.load_run_predictions(trained.workbench, owner, trained.run_id)
    holdout = frame[(frame.part == "test") & (frame.model_id == mine.model_id)]
    y, p = holdout.y_true.to_numpy().astype(int), holdout.probability.to_numpy()
    assert mine.calibration == calculator.calibration_bins(y, p, mine.risk)[0]
    assert theirs.calibration == calculator.calibration_bins(y, p, theirs.risk, limit=5)[0]
    assert all(b.count >= 5 for b in theirs.calibration) and theirs.risk == mine.risk
    assert sum(b.count for b in theirs.calibration) == sum(b.count for b in mine.calibration)


def test_a_collaborator_sees_the_middle_ninety_percent_not_single_patients_extremes(trained, table):
    """The lowest and highest training values are single patients' values (the oldest patient's age);
    a collaborator's form gives the 5th and 95th percentiles instead, and flags against them."""
    from workbench.services import calculator, results

    owner, guest = trained.actor(), trained.user("calc_range_guest", "collaborator")
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "calculator"])
    mine = {f.name: f for f in calculator.calculator_form(trained.workbench, owner, trained.run_id).fields}
    theirs = {f.name: f for f in calculator.calculator_form(trained.workbench, guest, trained.run_id).fields}
    numeric = [name for name, f in mine.items() if f.kind == "numeric"]
    assert "age" in numeric and "serum_sodium" in numeric
    assert not any(mine[n].central for n in numeric) and all(theirs[n].central for n in numeric)
    ages = table.age.dropna()
    assert (mine["age"].train_min, mine["age"].train_max) == (ages.min(), ages.max())  # from the training part
    assert (ages == mine["age"].train_max).sum() < 5  # the owner's maximum is a handful of patients' age
    for name in numeric:
        assert mine[name].train_min <= theirs[name].train_min < theirs[name].train_max <= mine[name].train_max
        assert theirs[name].train_median == mine[name].train_median
    assert theirs["age"].train_max < mine["age"].train_max
    values = {**_patient(table, 3, list(mine)), "serum_sodium": mine["serum_sodium"].train_min}  # below their 5th
    flagged = {f.name: f for f in calculator.predict_risk(trained.workbench, guest, run_id=trained.run_id,
                                                          values=values).flags}
    assert flagged["serum_sodium"].kind == "outside_central"
    assert flagged["serum_sodium"].low == pytest.approx(theirs["serum_sodium"].train_min)
