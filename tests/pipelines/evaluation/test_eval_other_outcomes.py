"""Regression and multiclass metrics against scikit-learn, on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.errors import EvaluationError
from pipelines.evaluation import multiclass_metrics, regression_metrics


def test_regression_metrics_equal_scikit_learn(datasets_dir):
    frame = pd.read_csv(datasets_dir / "breast_cancer_wisconsin_diagnostic.csv")
    y = frame["mean area"].to_numpy()
    X = frame[["mean radius", "mean texture", "mean smoothness"]]
    pred = cross_val_predict(LinearRegression(), X, y, cv=KFold(5, shuffle=True, random_state=0))
    result = regression_metrics(y, pred, n_resamples=200, seed=0)
    assert result.rmse.value == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert result.mae.value == pytest.approx(skm.mean_absolute_error(y, pred))
    assert result.r2.value == pytest.approx(skm.r2_score(y, pred))
    for est in result.estimates().values():
        assert est.lower < est.value < est.upper
    with pytest.raises(EvaluationError) as err:
        regression_metrics(y, pred[:-1])
    assert err.value.key == "evaluation.shape_mismatch"


def test_multiclass_one_vs_rest_and_macro_equal_scikit_learn(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    y = frame["num"].to_numpy()
    X = frame.drop(columns="num")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    prob = cross_val_predict(model, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0), method="predict_proba")
    classes = [0, 1, 2, 3, 4]
    result = multiclass_metrics(y, prob, classes=classes, n_resamples=100, seed=0)
    assert result.macro_auroc.value == pytest.approx(skm.roc_auc_score(y, prob, multi_class="ovr", average="macro"))
    pred = np.array(classes)[prob.argmax(axis=1)]
    assert result.accuracy.value == pytest.approx(skm.accuracy_score(y, pred))
    assert result.macro_f1.value == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert result.log_loss.value == pytest.approx(skm.log_loss(y, prob, labels=classes))
    np.testing.assert_array_equal(result.confusion, skm.confusion_matrix(y, pred, labels=classes))
    for c, per in zip(classes, result.per_class):
        assert per.auroc.value == pytest.approx(skm.roc_auc_score(y == c, prob[:, c]))
        assert per.n == int(np.sum(y == c))
    assert result.macro_auroc.lower < result.macro_auroc.value < result.macro_auroc.upper
    with pytest.raises(EvaluationError) as err:
        multiclass_metrics(y, prob, classes=[0, 1, 2, 3, 5])
    assert err.value.key == "evaluation.unknown_class"
