from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import OneHotEncoder

from pipelines.automl.device import DeviceChoice

# Names a hospital export really has and LightGBM/XGBoost refuse: ':', '[', ']', '"', '<', Korean.
WEIRD = ['age:years', 'ejection[%]', 'sodium "Na"', 'creatinine<mg/dL>', '혈소판 수', 'sex,male']


def weird_names(frame: pd.DataFrame) -> pd.DataFrame:
    names = {c: f"{WEIRD[i % len(WEIRD)]} {i}" for i, c in enumerate(frame.columns)}
    return frame.rename(columns=names)


def make_preprocessor() -> ColumnTransformer:
    """A stand-in for the recipe's preprocessor: numbers as they are, categories one-hot."""
    return ColumnTransformer([
        ("num", "passthrough", make_column_selector(dtype_include="number")),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), make_column_selector(dtype_exclude="number")),
    ])


def make_plan(y: pd.Series, *, seed: int = 0, n_folds: int = 3) -> SimpleNamespace:
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=0.25, stratify=y, random_state=seed)
    train = np.sort(train)
    folds = tuple(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(train, y.iloc[train]))
    return SimpleNamespace(train_index=train, test_index=np.sort(test), folds=folds)


CPU = DeviceChoice("cpu", "cpu")


