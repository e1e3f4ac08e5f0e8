from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.automl.helpers import weird_names


@pytest.fixture(scope="session")
def heart_failure(datasets_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").drop(columns=["time"])
    y = df.pop("DEATH_EVENT")
    X = weird_names(df)
    X["smoking status"] = np.where(X.iloc[:, 10] == 1, "smoker", "never").astype(object)  # one categorical
    X.iloc[::17, 0] = np.nan  # some missing values, as in real exports
    return X, y


@pytest.fixture(scope="session")
def breast_cancer(datasets_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(datasets_dir / "breast_cancer_wisconsin_diagnostic.csv")
    y = df.pop("target").map({0: "malignant", 1: "benign"})
    return weird_names(df), y


@pytest.fixture(scope="session")
def cleveland_multiclass(datasets_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(datasets_dir / "heart_cleveland.csv")
    y = df.pop("num").clip(upper=2)
    return weird_names(df), y


@pytest.fixture(scope="session")
def pima_regression(datasets_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(datasets_dir / "pima_diabetes.csv")
    y = df.pop("BMI").astype(float)
    return weird_names(df), y
