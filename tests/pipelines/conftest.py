"""Out-of-fold predictions of two quick models on the real heart failure and breast cancer data.

The AutoML engine is written at the same time as evaluation, so these tests make their own
predictions: a scaled logistic regression and a small HistGradientBoosting, 5-fold out-of-fold.
``time`` is dropped from the heart failure table because it is recorded after the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class Predictions:
    X: pd.DataFrame
    y: np.ndarray
    p_lr: np.ndarray
    p_hgb: np.ndarray


def _predict(X: pd.DataFrame, y: np.ndarray) -> Predictions:
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    hgb = HistGradientBoostingClassifier(max_iter=40, learning_rate=0.15, max_leaf_nodes=8, early_stopping=False, random_state=0)
    with threadpool_limits(1):  # the machine is shared: one thread, like n_jobs=1 elsewhere
        p_lr = cross_val_predict(lr, X, y, cv=cv, method="predict_proba")[:, 1]
        p_hgb = cross_val_predict(hgb, X, y, cv=cv, method="predict_proba")[:, 1]
    return Predictions(X, y, p_lr, p_hgb)


@pytest.fixture(scope="session")
def heart_failure(datasets_dir: Path) -> pd.DataFrame:
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").drop(columns="time")


@pytest.fixture(scope="session")
def hf(heart_failure: pd.DataFrame) -> Predictions:
    X = heart_failure.drop(columns="DEATH_EVENT")
    return _predict(X, heart_failure["DEATH_EVENT"].to_numpy())


@pytest.fixture(scope="session")
def bc(datasets_dir: Path) -> Predictions:
    frame = pd.read_csv(datasets_dir / "breast_cancer_wisconsin_diagnostic.csv")
    X = frame.drop(columns="target")
    return _predict(X, frame["target"].to_numpy())
