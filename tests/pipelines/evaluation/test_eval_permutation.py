"""Permutation importance asks the model once per feature (the shuffled copies stacked), and its
scores are scikit-learn's ``permutation_importance``, shuffle for shuffle, for binary, multiclass
and regression models, with mixed column types, and when a large holdout is stacked a few copies at
a time."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance as sklearn_permutation
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from pipelines.evaluation import permutation, permutation_importance
from pipelines.evaluation.progress import listening

CATEGORIES = ["race", "gender", "age", "A1Cresult", "insulin"]
NUMBERS = ["time_in_hospital", "num_lab_procedures", "num_medications", "number_inpatient"]


@pytest.fixture(scope="module")
def readmission(datasets_dir) -> pd.DataFrame:
    return pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", nrows=1200,
                       usecols=CATEGORIES + NUMBERS + ["readmitted"], keep_default_na=False, na_values=["", "?"])


def _mixed(model, numbers=NUMBERS):
    """One-hot categories and imputed, scaled numbers in front of ``model``."""
    return make_pipeline(make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORIES),
        (make_pipeline(SimpleImputer(), StandardScaler()), numbers)), model)


def _sklearn(model, X, y, scoring, n_repeats, seed):
    return sklearn_permutation(model, X, y, scoring=scoring, n_repeats=n_repeats, random_state=seed).importances


def _ours(model, X, y, metric, n_repeats, seed):
    return permutation_importance(model, X, y, metric=metric, n_repeats=n_repeats, seed=seed)


def _same(ours, theirs, atol=1e-12):
    np.testing.assert_allclose(ours.mean, theirs.mean(axis=1), rtol=0, atol=atol)
    np.testing.assert_allclose(ours.std, theirs.std(axis=1), rtol=0, atol=atol)
    np.testing.assert_allclose(ours.lower, np.percentile(theirs, 2.5, axis=1), rtol=0, atol=atol)


def test_binary_models_give_scikit_learns_scores(hf):
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(hf.X, hf.y)
    booster = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0).fit(hf.X, hf.y)
    for model, seed in ((linear, 0), (booster, 7)):
        ours = _ours(model, hf.X, hf.y, "roc_auc", 6, seed)
        _same(ours, _sklearn(model, hf.X, hf.y, "roc_auc", 6, seed))
        assert ours.mean.max() > 0.01  # something mattered: the comparison is not of zeros
    ours = _ours(booster, hf.X, hf.y, "neg_brier_score", 4, 3)
    # XGBoost answers in float32: scikit-learn's scorer squares those, ours float64 copies of them
    _same(ours, _sklearn(booster, hf.X, hf.y, "neg_brier_score", 4, 3), atol=1e-7)


def test_mixed_column_types_and_a_multiclass_model(readmission):
    y = readmission["readmitted"].map({"NO": 0, ">30": 1, "<30": 2}).to_numpy()
    X = readmission.drop(columns="readmitted")
    model = _mixed(lightgbm.LGBMClassifier(n_estimators=40, num_leaves=8, n_jobs=1, verbose=-1, random_state=0))
    model.fit(X, y)
    ours = _ours(model, X, y, "accuracy", 5, 1)
    _same(ours, _sklearn(model, X, y, "accuracy", 5, 1))
    assert np.abs(ours.mean).max() > 0


def test_regression_and_a_holdout_stacked_a_few_copies_at_a_time(readmission, monkeypatch):
    X = readmission.drop(columns=["readmitted", "num_medications"])
    y = readmission["num_medications"].to_numpy(dtype=float)
    model = _mixed(Ridge(), [c for c in NUMBERS if c != "num_medications"]).fit(X, y)
    whole = _ours(model, X, y, "r2", 5, 2)
    _same(whole, _sklearn(model, X, y, "r2", 5, 2))
    calls = []
    original = model.predict
    monkeypatch.setattr(model, "predict", lambda frame: calls.append(len(frame)) or original(frame))
    monkeypatch.setattr(permutation, "STACKED_CELLS", 2 * len(X) * X.shape[1])  # two copies per call
    pieces = _ours(model, X, y, "r2", 5, 2)
    assert calls == [len(X)] + [2 * len(X), 2 * len(X), len(X)] * X.shape[1]  # baseline, then 2 + 2 + 1 copies
    np.testing.assert_allclose(pieces.mean, whole.mean, rtol=0, atol=1e-12)


def test_one_model_call_per_feature_and_one_tick_per_shuffled_score(hf, monkeypatch):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(hf.X, hf.y)
    calls, ticks = [], []
    original = model.predict_proba
    monkeypatch.setattr(model, "predict_proba", lambda frame: calls.append(len(frame)) or original(frame))
    with listening(lambda: ticks.append(1)):
        permutation_importance(model, hf.X, hf.y, n_repeats=10, seed=0)
    assert calls == [len(hf.X)] + [10 * len(hf.X)] * hf.X.shape[1]
    assert len(ticks) == hf.X.shape[1] * 10 + 1
