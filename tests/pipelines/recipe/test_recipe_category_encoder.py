"""The category encoder against a plain reference on readmission's diagnosis codes (~600 labels):
one-hot, ordinal and target encoding give the values their definitions say, for labels seen in fit,
labels never seen, and missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.recipe._transformers import CategoryEncoder

COLUMNS = ["diag_1", "diag_2", "payer_code", "race"]


@pytest.fixture(scope="module")
def parts(datasets_dir):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", nrows=6000, usecols=[*COLUMNS, "readmitted"],
                        dtype=str, na_values=["?"], keep_default_na=False)
    y = (frame.pop("readmitted") == "<30").astype(int).to_numpy()
    return frame.iloc[:4000], y[:4000], frame.iloc[4000:].reset_index(drop=True)


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)


def test_one_hot_marks_exactly_the_learnt_label(parts) -> None:
    train, y, test = parts
    encoder = CategoryEncoder(method="onehot").fit(train, y)
    out = encoder.transform(test)
    assert any(len(encoder.categories_[c]) > 300 for c in COLUMNS)
    unseen = 0
    for c in COLUMNS:
        labels = encoder.categories_[c]
        block = out[[f"{c}={label}" for label in labels]].to_numpy()
        for row, value in enumerate(test[c]):
            expected = np.zeros(len(labels))
            if _text(value) in labels:
                expected[labels.index(_text(value))] = 1.0
            else:
                unseen += 1
            np.testing.assert_array_equal(block[row], expected)
    assert unseen > 0  # missing values and diagnosis codes absent from the training part were met


def test_ordinal_and_target_values(parts) -> None:
    train, y, test = parts
    ordinal = CategoryEncoder(method="ordinal").fit(train, y)
    target = CategoryEncoder(method="target", smoothing=10.0).fit(train, y)
    out_o, out_t = ordinal.transform(test), target.transform(test)
    prior = y.mean()
    for c in COLUMNS:
        labels = ordinal.categories_[c]
        learnt = pd.DataFrame({"x": train[c], "y": y}).dropna().groupby("x")["y"].agg(["sum", "count"])
        for row, value in enumerate(test[c]):
            text = _text(value)
            got_o, got_t = out_o[c].iloc[row], out_t[c].iloc[row]
            if text is None:
                assert np.isnan(got_o) and got_t == pytest.approx(prior)
            elif text not in labels:
                assert got_o == -1.0 and got_t == pytest.approx(prior)
            else:
                assert got_o == labels.index(text)
                s, n = learnt.loc[text]
                assert got_t == pytest.approx((s + 10.0 * prior) / (n + 10.0))
