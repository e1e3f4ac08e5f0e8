"""Every leaderboard model comes back fitted, with the predictions the search scored it by."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.model_selection import KFold

from pipelines.automl import SearchSettings, run_search
from pipelines.automl.metrics import get_metric
from tests.pipelines.automl.helpers import CPU, make_plan, make_preprocessor

SETTINGS = SearchSettings(families=("linear", "lightgbm", "xgboost"), n_trials=6, time_budget_s=None, seed=0)


@pytest.fixture(scope="module")
def searched(heart_failure):
    X, y = heart_failure
    return run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                      settings=SETTINGS, device_choice=CPU)


def test_one_fitted_model_per_leaderboard_row(searched):
    assert [m.name for m in searched.models] == [r.name for r in searched.leaderboard]
    assert [m.final for m in searched.models] == [r.selected for r in searched.leaderboard]
    final = next(m for m in searched.models if m.final)
    assert final.model is searched.model
    assert np.array_equal(final.oof_predictions, searched.oof_predictions, equal_nan=True)
    assert np.array_equal(final.test_predictions, searched.test_predictions)
    assert final.test_score == searched.final.test_score and final.oof_score == searched.final.oof_score
    assert final.calibration == searched.final.calibration
    fitted = searched.fitted()
    assert fitted[0].final and [m.name for m in fitted[1:]] == [m.name for m in searched.models if not m.final]


def test_models_predict_what_the_leaderboard_says(searched, heart_failure):
    """A stored model must give the predictions the leaderboard scored: holdout predictions from
    the fitted model itself, and out-of-fold predictions that are the search's own."""
    X, _ = heart_failure
    metric = get_metric(searched.metric, searched.task)
    X_test = X.iloc[searched.test_index]
    rows = {r.name: r for r in searched.leaderboard}
    trials = {t.number: t for t in searched.trials}
    covered = ~np.isnan(searched.oof_predictions[:, 0])
    for fitted in searched.models:
        row = rows[fitted.name]
        np.testing.assert_allclose(fitted.model.predict_proba(X_test), fitted.test_predictions, atol=1e-12)
        assert fitted.test_score == pytest.approx(metric.value(searched.y_test, fitted.test_predictions))
        assert fitted.oof_score == pytest.approx(metric.value(searched.y_train[covered],
                                                              fitted.oof_predictions[covered]))
        if fitted.final:
            continue
        assert fitted.test_score == row.test_score and fitted.calibration == "none"
        # the out-of-fold predictions are the ones the search scored this configuration by
        trial = trials[row.trial_number]
        folds = make_plan(heart_failure[1]).folds
        for fold, (_, val) in enumerate(folds):
            assert metric.value(searched.y_train[val], fitted.oof_predictions[val]) == pytest.approx(
                trial.fold_scores[fold])


def test_each_family_keeps_its_own_fitted_model(searched):
    assert {m.name for m in searched.models} >= {"linear", "lightgbm", "xgboost"}
    for fitted in searched.models:
        if not fitted.final:
            assert fitted.model.named_steps["model"] is not searched.model.named_steps["model"]


def test_regression_models_carry_values(pima_regression):
    X, y = pima_regression
    idx = np.arange(len(y))
    train, test = idx[idx % 4 != 0], idx[idx % 4 == 0]
    plan = SimpleNamespace(train_index=train, test_index=test,
                           folds=tuple(KFold(3, shuffle=True, random_state=0).split(train)))
    settings = replace(SETTINGS, families=("linear", "lightgbm"), n_trials=3, metric="rmse")
    result = run_search(X=X, y=y, plan=plan, task="regression", make_preprocessor=make_preprocessor,
                        settings=settings, device_choice=CPU)
    for fitted in result.models:
        assert fitted.test_predictions.shape == (len(result.test_index),)
        np.testing.assert_allclose(fitted.model.predict(X.iloc[result.test_index]), fitted.test_predictions)
        assert fitted.calibration == "not applicable"


def test_a_result_without_models_still_offers_its_final_model(searched):
    bare = replace(searched, models=())
    (only,) = bare.fitted()
    assert only.final and only.model is searched.model
    assert only.name == next(r.name for r in searched.leaderboard if r.selected)
    assert np.array_equal(only.test_predictions, searched.test_predictions)
