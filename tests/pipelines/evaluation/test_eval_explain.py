"""Contributions add up to the model's own raw prediction, for every supported model family."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.errors import EvaluationError
from pipelines.evaluation import feature_contributions, permutation_importance


def test_xgboost_contributions_sum_to_margin(hf):
    model = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0).fit(hf.X, hf.y)
    c = feature_contributions(model, hf.X)
    assert c.method == "xgboost_treeshap" and c.features == tuple(hf.X.columns)
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, model.predict(hf.X, output_margin=True), atol=1e-4)


def test_lightgbm_contributions_sum_to_raw_score(hf):
    model = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=8, n_jobs=1, verbose=-1, random_state=0).fit(hf.X, hf.y)
    c = feature_contributions(model, hf.X)
    assert c.method == "lightgbm_treeshap"
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, model.predict(hf.X, raw_score=True), atol=1e-8)


def test_linear_contributions_are_exact_inside_a_pipeline(hf):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(hf.X, hf.y)
    c = feature_contributions(model, hf.X)
    assert c.method == "linear_exact"
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, model.decision_function(hf.X), atol=1e-10)
    np.testing.assert_allclose(c.values.mean(axis=0), 0, atol=1e-10)  # centred on the average patient
    top = c.features[int(np.argmax(c.mean_abs()))]
    assert top in {"ejection_fraction", "serum_creatinine", "age"}


def test_unsupported_model_points_to_permutation_importance(hf):
    model = HistGradientBoostingClassifier(max_iter=10).fit(hf.X, hf.y)
    with pytest.raises(EvaluationError) as err:
        feature_contributions(model, hf.X)
    assert err.value.key == "evaluation.contributions_unsupported"
    assert err.value.params == {"model": "HistGradientBoostingClassifier"}


def test_permutation_importance_finds_signal_not_noise(hf):
    X = hf.X.assign(noise=np.random.default_rng(0).normal(size=len(hf.y)))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, hf.y)
    imp = permutation_importance(model, X, hf.y, n_repeats=8, seed=0)
    by_name = dict(zip(imp.features, imp.mean))
    assert by_name["ejection_fraction"] > 0.05
    assert abs(by_name["noise"]) < 0.02
    assert np.all(imp.lower <= imp.mean + 1e-12) and np.all(imp.mean <= imp.upper + 1e-12)
    with pytest.raises(EvaluationError) as err:
        permutation_importance(model, X, hf.y, metric="auc_magic")
    assert err.value.key == "evaluation.unknown_metric"
