"""Ensemble selection and calibration choice on real out-of-fold predictions."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.automl.calibration import choose_calibration
from pipelines.automl.ensemble import select_ensemble
from pipelines.automl.metrics import METRICS


def _oof(X, y, C, class_weight=None):
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight=class_weight, max_iter=2000))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_predict(model, X, y, cv=cv, method="predict_proba"), cv


def test_ensemble_selection_never_scores_below_the_best_member(breast_cancer):
    X, y = breast_cancer
    y = (y == "malignant").astype(int).to_numpy()
    Xn = X.to_numpy()
    candidates = {0: _oof(Xn, y, 1.0)[0], 1: _oof(Xn[:, :5], y, 0.01)[0], 2: _oof(Xn[:, 10:], y, 0.1)[0]}
    metric = METRICS["log_loss"]
    choice = select_ensemble(candidates=candidates, y=y, metric=metric)
    best_single = max(metric.score(y, p) for p in candidates.values())
    assert choice.score >= best_single
    assert np.isclose(metric.score(y, choice.oof), choice.score)
    assert set(choice.weights) <= {0, 1, 2} and sum(choice.weights.values()) >= 1


def test_calibration_fixes_class_weighted_probabilities_without_losing_auroc(heart_failure):
    X, y = heart_failure
    y = y.to_numpy()
    Xn = X.fillna(X.median(numeric_only=True)).select_dtypes("number").to_numpy()
    proba, cv = _oof(Xn, y, 1.0, class_weight="balanced")  # balanced weights inflate the risk
    fold = np.empty(len(y), dtype=int)
    for i, (_, va) in enumerate(cv.split(Xn, y)):
        fold[va] = i
    choice = choose_calibration(proba=proba, y=y, fold_of_row=fold, metric=METRICS["roc_auc"])
    assert choice.criterion == "brier"
    assert choice.method in {"sigmoid", "isotonic"}  # raw balanced probabilities are badly calibrated
    assert choice.scores[choice.method] < choice.scores["none"]
    def fold_auroc(pred):  # discrimination within the folds is kept, on average
        return np.mean([METRICS["roc_auc"].value(y[fold == f], pred[fold == f]) for f in range(5)])

    assert fold_auroc(choice.oof) >= fold_auroc(proba) - 1e-3
    assert abs(choice.oof[:, 1].mean() - y.mean()) < abs(proba[:, 1].mean() - y.mean())
