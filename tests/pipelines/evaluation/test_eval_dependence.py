"""What dependence plots and waterfalls show beside SHAP values, on the real heart failure table:
feature values back in the table's units, features ranked as the summary plot ranks them, and the
interacting feature found where one was planted."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xgboost
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.errors import EvaluationError
from pipelines.evaluation import feature_contributions, in_input_units, ranked_features, strongest_interaction


@pytest.fixture(scope="module")
def scaled(hf):
    model = make_pipeline(StandardScaler(), xgboost.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0))
    return feature_contributions(model.fit(hf.X, hf.y), hf.X)


def test_values_come_back_in_the_units_of_the_table(scaled, hf):
    assert abs(scaled.data[:, scaled.features.index("age")].mean()) < 1e-6  # the learner saw z-scores
    shown = in_input_units(scaled, hf.X)
    for name in hf.X.columns:
        np.testing.assert_allclose(shown.data[:, shown.features.index(name)], hf.X[name].to_numpy(dtype=float))
    np.testing.assert_array_equal(shown.values, scaled.values)
    # missing in the table (imputed for the model) stays missing
    holes = hf.X.astype(float).copy()
    holes.iloc[3, holes.columns.get_loc("age")] = np.nan
    assert np.isnan(in_input_units(scaled, holes).data[3, scaled.features.index("age")])


def test_rows_in_another_order_or_number_change_nothing(scaled, hf):
    shuffled = hf.X.sample(frac=1.0, random_state=1)
    np.testing.assert_array_equal(in_input_units(scaled, shuffled).data, scaled.data)
    assert in_input_units(scaled, hf.X.iloc[:10]) is scaled


def test_ranking_and_a_planted_interaction(scaled, hf):
    ranked = ranked_features(scaled)
    assert ranked[0] == scaled.features[int(np.argmax(scaled.mean_abs()))] and sorted(ranked) == sorted(scaled.features)
    # SHAP values of age that grow with age only as far as ejection fraction allows: the
    # interaction the dependence plot should colour by
    data = hf.X.to_numpy(dtype=float)
    values = np.zeros_like(data)
    age, ef = scaled.features.index("age"), scaled.features.index("ejection_fraction")
    z = (data - data.mean(axis=0)) / data.std(axis=0)
    values[:, age] = z[:, age] * z[:, ef]
    planted = dataclasses.replace(scaled, values=values, data=data)
    assert strongest_interaction(planted, "age") == "ejection_fraction"
    with pytest.raises(EvaluationError) as err:
        strongest_interaction(planted, "height")
    assert err.value.key == "figures.unknown_feature"
