"""Contract tests run over EVERY model family in the registry."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from pipelines.automl.models import (
    FAMILY_NAMES,
    REGISTRY,
    BuildContext,
    Space,
    fit_estimator,
)
from pipelines.automl.persist import load_model, save_model
from pipelines.automl.settings import ALL_FAMILIES
from pipelines.automl.wrappers import ToMatrix
from tests.pipelines.automl.helpers import make_plan, make_preprocessor


def test_registry_lists_every_family_once_in_explicit_order():
    assert set(FAMILY_NAMES) == set(ALL_FAMILIES)
    assert FAMILY_NAMES[0] == "linear"  # the interpretable baseline is tried first
    for name, module in REGISTRY.items():
        assert module.name == name
        assert module.native_format in {"skops", "xgboost", "lightgbm"}
        assert {"binary", "multiclass", "regression"} <= set(module.tasks)


def _fit_family(name, X, y, task, n_classes, params=None):
    family = REGISTRY[name]
    plan = make_plan(y) if task != "regression" else None
    if plan is None:
        idx = np.arange(len(y))
        train, test = idx[idx % 4 != 0], idx[idx % 4 == 0]
    else:
        train, test = plan.train_index, plan.test_index
    prep = make_preprocessor()
    X_train = ToMatrix().transform(prep.fit_transform(X.iloc[train]))
    counts = tuple(int(np.sum(y.iloc[train] == k)) for k in range(n_classes)) if task != "regression" else ()
    ctx = BuildContext(task=task, n_classes=n_classes, seed=0, class_counts=counts, n_rows=len(train),
                       n_features=X_train.shape[1])
    est = family.build(params if params is not None else family.default_params(ctx), ctx)
    fit_estimator(family, est, X_train, y.iloc[train].to_numpy(), ctx=ctx)
    model = Pipeline([("preprocess", prep), ("to_matrix", ToMatrix()), ("model", est)])
    return model, X.iloc[test], y.iloc[test].to_numpy(), ctx


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_fits_and_predicts_binary_with_weird_column_names(name, heart_failure):
    X, y = heart_failure
    assert any(":" in c or "[" in c for c in X.columns) and any("혈소판" in c for c in X.columns)
    model, X_test, y_test, _ = _fit_family(name, X, y, "binary", 2)
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y_test, proba[:, 1]) > 0.6  # learns something real on heart failure


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_multiclass_and_regression(name, cleveland_multiclass, pima_regression):
    X, y = cleveland_multiclass
    model, X_test, _, _ = _fit_family(name, X, y, "multiclass", 3)
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3) and np.allclose(proba.sum(axis=1), 1.0)
    X, y = pima_regression
    model, X_test, y_test, _ = _fit_family(name, X, y, "regression", 0)
    pred = model.predict(X_test)
    assert pred.shape == (len(X_test),)
    assert np.mean(np.abs(pred - y_test)) < np.mean(np.abs(y_test - y_test.mean()))  # beats the mean


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_search_space_samples_buildable_params(name):
    family = REGISTRY[name]
    ctx = BuildContext(task="binary", n_classes=2, seed=0, class_counts=(150, 74), n_rows=224, n_features=13)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    seen = []
    for _ in range(3):
        trial = study.ask()
        params = family.search_space(Space(trial, family=name), ctx)
        assert params and all(k in trial.params for k in params)  # every value came from the trial
        est = family.build(params, ctx)
        assert est.get_params()  # a real estimator with valid parameters
        seen.append(params)
        study.tell(trial, 0.5)
    assert seen[0] != seen[1]


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_search_space_applies_pins_and_bounds(name):
    family = REGISTRY[name]
    ctx = BuildContext(task="binary", n_classes=2, seed=0, class_counts=(100, 50))
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    first = study.ask()
    probe = family.search_space(Space(first, family=name), ctx)
    ranged = [k for k, d in first.distributions.items() if isinstance(d, optuna.distributions.FloatDistribution)]
    pinned, bounded = ranged[0], ranged[-1]  # the same name when a family has one float (linear)
    low, high = probe[bounded], probe[bounded] * 1.01
    for _ in range(4):
        space = Space(study.ask(), family=name, pins={pinned: 0.5}, bounds={bounded: (low, high)})
        params = family.search_space(space, ctx)
        assert params[pinned] == 0.5  # a pin wins over a bound
        if bounded != pinned:
            assert low <= params[bounded] <= high


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_save_load_round_trip_identical(name, heart_failure, tmp_path):
    X, y = heart_failure
    model, X_test, _, _ = _fit_family(name, X, y, "binary", 2)
    manifest = save_model(model, tmp_path / "m", task="binary", classes=[0, 1])
    suffixes = {f.split(".", 1)[1] for f in manifest["files"]}
    expected = {"skops": {"skops"}, "xgboost": {"skops", "ubj"}, "lightgbm": {"skops", "lgbm.txt"}}
    assert suffixes == expected[REGISTRY[name].native_format]
    loaded = load_model(tmp_path / "m")
    assert np.array_equal(model.predict_proba(X_test), loaded.model.predict_proba(X_test))
    assert loaded.classes == (0, 1)
