"""Explanations of models in the form the workbench stores them: trained through ``pipelines/automl``
with the recipe's real preprocessing on GBSG2 (text categories), saved and loaded back as the artifact
store does, then broken down (or refused, plainly) family by family, ensembles and calibrated
wrappers included. Permutation importance takes every stored head as it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit
from sklearn.pipeline import Pipeline

from pipelines.automl import Overrides, SearchSettings, run_search
from pipelines.automl.device import DeviceChoice
from pipelines.automl.persist import load_model, save_model
from pipelines.automl.wrappers import CalibratedModel, ToMatrix, WeightedEnsemble
from pipelines.errors import EvaluationError
from pipelines.evaluation import by_input, feature_contributions, permutation_importance
from pipelines.recipe import Prepared, build_preprocessor, make_split_plan, prepare, suggest_recipe

FAMILIES = ("linear", "xgboost", "lightgbm", "hist_gb", "forest")
EXPLAINED = {"linear": "linear_exact", "xgboost": "xgboost_treeshap", "lightgbm": "lightgbm_treeshap"}


@pytest.fixture(scope="module")
def gbsg2(datasets_dir: Path) -> Prepared:
    frame = pd.read_csv(datasets_dir / "gbsg2.csv").drop(columns="time")  # time-to-event: not a predictor
    return prepare(suggest_recipe(frame, target="cens"), frame)


@pytest.fixture(scope="module")
def stored(gbsg2: Prepared, tmp_path_factory) -> dict[str, Pipeline]:
    """One tiny search per family (one trial, no ensemble, no calibration), saved and loaded back."""
    recipe = suggest_recipe(gbsg2.frame, target="cens")
    plan = make_split_plan(recipe.split, gbsg2, seed=0)
    out: dict[str, Pipeline] = {}
    for family in FAMILIES:
        settings = SearchSettings(families=(family,), n_trials=1, time_budget_s=None, seed=0, ensemble=False,
                                  calibration=False, overrides=Overrides(pins={"forest": {"n_estimators": 30}}))
        result = run_search(X=gbsg2.X, y=gbsg2.y, plan=plan, task=gbsg2.task, settings=settings,
                            make_preprocessor=lambda: build_preprocessor(recipe, gbsg2),
                            device_choice=DeviceChoice("cpu", "cpu"), positive_label=gbsg2.positive_label)
        folder = tmp_path_factory.mktemp(family) / "model"
        save_model(result.model, folder, task=result.task, classes=result.classes)
        out[family] = load_model(folder).model
    return out


def _log_odds(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    return logit(np.asarray(model.predict_proba(X), dtype=float)[:, 1])


@pytest.mark.parametrize("family", list(EXPLAINED))
def test_stored_models_break_down_exactly_with_real_names(stored, gbsg2, family):
    model = stored[family]
    c = feature_contributions(model, gbsg2.X)
    assert c.method == EXPLAINED[family]
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, _log_odds(model, gbsg2.X), atol=1e-4)
    # one-hot columns read as "column = value" and know the input they came from
    assert {"horTh = yes", "horTh = no", "tgrade = I", "tgrade = III", "age", "pnodes"} <= set(c.features)
    assert not any(name.startswith("x") and name[1:].isdigit() for name in c.features)
    assert dict(zip(c.features, c.inputs))["tgrade = II"] == "tgrade"
    totals = by_input(c, 0)
    assert set(totals) == set(gbsg2.features)
    assert sum(totals.values()) == pytest.approx(float(c.values[0].sum()))


@pytest.mark.parametrize("family", ["hist_gb", "forest"])
def test_families_without_exact_breakdown_say_so(stored, gbsg2, family):
    with pytest.raises(EvaluationError) as err:
        feature_contributions(stored[family], gbsg2.X)
    assert err.value.key == "evaluation.contributions_unsupported"


def _with_head(stored, head) -> Pipeline:
    """A stored model with another head on the same fitted preprocessing, round-tripped through the
    store's format so the head is what loading gives back (NativeLightGBM, not the sklearn class)."""
    return Pipeline([("preprocess", stored["linear"].steps[0][1]), ("to_matrix", ToMatrix()), ("model", head)])


def _round_trip(model: Pipeline, tmp_path) -> Pipeline:
    save_model(model, tmp_path / "model", task="binary", classes=(0, 1))
    return load_model(tmp_path / "model").model


def test_sigmoid_calibration_rescales_the_contributions_exactly(stored, gbsg2, tmp_path):
    base = stored["lightgbm"].steps[-1][1]
    model = _round_trip(_with_head(stored, CalibratedModel(base, "sigmoid", [{"slope": 0.7, "intercept": -0.2}])),
                        tmp_path)
    c = feature_contributions(model, gbsg2.X)
    assert c.method == "lightgbm_treeshap+sigmoid"
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, _log_odds(model, gbsg2.X), atol=1e-4)


def test_a_one_member_ensemble_is_its_member(stored, gbsg2, tmp_path):
    member = stored["xgboost"].steps[-1][1]
    model = _round_trip(_with_head(stored, WeightedEnsemble([member], [3.0])), tmp_path)
    c = feature_contributions(model, gbsg2.X)
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, _log_odds(model, gbsg2.X), atol=1e-4)


def test_ensembles_and_isotonic_calibration_are_refused_plainly(stored, gbsg2, tmp_path):
    members = [stored["linear"].steps[-1][1], stored["xgboost"].steps[-1][1]]
    ensemble = _round_trip(_with_head(stored, WeightedEnsemble(members, [2.0, 1.0])), tmp_path / "e")
    with pytest.raises(EvaluationError) as err:
        feature_contributions(ensemble, gbsg2.X)
    assert err.value.key == "evaluation.contributions_ensemble" and err.value.params == {"n_models": 2}
    isotonic = CalibratedModel(members[1], "isotonic", [{"x": [0.0, 0.5, 1.0], "y": [0.1, 0.4, 0.9]}])
    with pytest.raises(EvaluationError) as err:
        feature_contributions(_round_trip(_with_head(stored, isotonic), tmp_path / "i"), gbsg2.X)
    assert err.value.key == "evaluation.contributions_calibrated" and err.value.params == {"method": "isotonic"}
    # permutation importance needs no breakdown: it takes the stored ensemble as it is
    y = (gbsg2.y == gbsg2.positive_label).to_numpy().astype(int)
    imp = permutation_importance(ensemble, gbsg2.X, y, metric="roc_auc", n_repeats=3)
    assert imp.features == tuple(gbsg2.features) and imp.mean[imp.features.index("pnodes")] > 0.01
    with pytest.raises(EvaluationError) as err:
        permutation_importance(ensemble, gbsg2.X, y, metric="auc_magic")
    assert err.value.key == "evaluation.unknown_metric"


@pytest.mark.parametrize("family", ["linear", "lightgbm"])
def test_stored_regression_models_break_down_to_their_prediction(datasets_dir, tmp_path, family):
    frame = pd.read_csv(datasets_dir / "pima_diabetes.csv")
    prepared = prepare(suggest_recipe(frame, target="BMI"), frame)
    assert prepared.task == "regression"
    recipe = suggest_recipe(frame, target="BMI")
    settings = SearchSettings(families=(family,), n_trials=1, time_budget_s=None, seed=0, ensemble=False,
                              calibration=False)
    result = run_search(X=prepared.X, y=prepared.y, plan=make_split_plan(recipe.split, prepared, seed=0),
                        task="regression", settings=settings, make_preprocessor=lambda: build_preprocessor(recipe, prepared),
                        device_choice=DeviceChoice("cpu", "cpu"))
    save_model(result.model, tmp_path / "model", task="regression")
    model = load_model(tmp_path / "model").model
    c = feature_contributions(model, prepared.X)
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, model.predict(prepared.X), atol=1e-6)
    assert set(c.inputs) <= set(prepared.features) and "Glucose" in c.features
