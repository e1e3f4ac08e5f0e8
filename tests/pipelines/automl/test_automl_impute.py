"""The linear family's median imputer gives scikit-learn's SimpleImputer output, and is stored safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.impute import SimpleImputer

from pipelines.automl.models._impute import MedianImputer
from pipelines.automl.persist import load_model, save_model, trusted_types


def _reference() -> SimpleImputer:
    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)


@pytest.fixture(scope="module")
def icu(datasets_dir: Path) -> np.ndarray:
    """PhysioNet 2012 admission data: real gaps (empty cells) in several columns."""
    frame = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    return frame.select_dtypes("number").to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def pima(datasets_dir: Path) -> np.ndarray:
    frame = pd.read_csv(datasets_dir / "pima_diabetes.csv").drop(columns=["Outcome"])
    for col in ("Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"):  # 0 means not measured
        frame[col] = frame[col].mask(frame[col] == 0)
    return frame.to_numpy(dtype=np.float64)


@pytest.mark.parametrize("table", ["icu", "pima"])
def test_same_output_as_simple_imputer_on_real_gaps(table, request):
    X = request.getfixturevalue(table)
    assert np.isnan(X).any(axis=0).sum() >= 2  # the point of the test: real gaps in several columns
    fit_rows, new_rows = X[: len(X) // 2], X[len(X) // 2:]
    ours, theirs = MedianImputer().fit(fit_rows), _reference().fit(fit_rows)
    np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
    for rows in (fit_rows, new_rows):
        np.testing.assert_array_equal(ours.transform(rows), theirs.transform(rows))
    names = [f"c{i}" for i in range(X.shape[1])]
    assert list(ours.get_feature_names_out(names)) == list(theirs.get_feature_names_out(names))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


def test_empty_column_new_gaps_and_even_counts_match(pima):
    """An all-missing column is kept and filled with 0; a column that first misses values after
    fitting is imputed without an indicator; an even count takes the mean of the middle two."""
    X = pima[:40].copy()
    X[:, 2] = np.nan  # no observed value when fitted
    X[:, 0] = np.arange(40.0)  # complete when fitted (even count: median 19.5)
    later = pima[40:80].copy()
    later[::3, 0] = np.nan
    ours, theirs = MedianImputer().fit(X), _reference().fit(X)
    assert ours.statistics_[0] == 19.5 and ours.statistics_[2] == 0.0
    for rows in (X, later):
        np.testing.assert_array_equal(ours.transform(rows), theirs.transform(rows))
    with pytest.raises(ValueError):
        ours.transform(later[:, :3])
    with pytest.raises(ValueError):
        MedianImputer().fit(np.array([[1.0], [np.inf]]))


def test_stored_through_skops_with_the_allowlist(icu, tmp_path):
    imputer = MedianImputer().fit(icu)
    sio.dump(imputer, tmp_path / "imputer.skops")
    untrusted = set(sio.get_untrusted_types(file=tmp_path / "imputer.skops"))
    assert "pipelines.automl.models._impute.MedianImputer" in untrusted
    assert untrusted <= trusted_types()  # the model loader accepts it and nothing else new
    loaded = sio.load(tmp_path / "imputer.skops", trusted=sorted(untrusted))
    np.testing.assert_array_equal(loaded.transform(icu), imputer.transform(icu))


def test_a_saved_linear_model_loads_back(datasets_dir, tmp_path):
    """The linear family's pipeline, saved and loaded the way a run stores its models."""
    from sklearn.pipeline import Pipeline

    from pipelines.automl.models import BuildContext, linear
    from pipelines.automl.wrappers import ToMatrix

    frame = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    y = frame.pop("In-hospital_death").to_numpy()
    X = frame.drop(columns=["Survival", "Length_of_stay"]).select_dtypes("number")
    head = linear.build(linear.default_params(BuildContext(task="binary", n_classes=2, seed=0)),
                        BuildContext(task="binary", n_classes=2, seed=0))
    head.fit(X.to_numpy(dtype=float), y)
    model = Pipeline([("preprocess", ToMatrix()), ("to_matrix", ToMatrix()), ("model", head)])
    save_model(model, tmp_path / "m", task="binary", classes=(0, 1))
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.model.predict_proba(X), model.predict_proba(X))
