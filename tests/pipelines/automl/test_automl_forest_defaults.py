"""The forest's default configuration follows the table's size (``benchmarks/forest_defaults.py``
measured the rule): small tables keep the old leaves, large ones get larger leaves, and wide ones
try fewer columns per split; the Optuna search space still holds the old defaults and the new."""

from __future__ import annotations

import optuna
import pytest

from pipelines.automl._trial import make_studies
from pipelines.automl.models import BuildContext, Space, forest
from pipelines.automl.settings import SearchSettings

OLD = {"kind": "extra", "min_samples_leaf": 3, "max_features": 0.5}


def _ctx(n_rows: int, n_features: int) -> BuildContext:
    return BuildContext(task="binary", n_classes=2, seed=0, class_counts=(n_rows - n_rows // 5, n_rows // 5),
                        n_rows=n_rows, n_features=n_features)


@pytest.mark.parametrize("n_rows, leaf", [
    (0, 3), (224, 3), (576, 3), (799, 3),  # the small clinical tables keep the old leaf
    (800, 4), (2_000, 10), (5_999, 29),  # one row in 200 between
    (6_000, 30), (6_800, 30), (76_000, 30), (2_000_000, 30),  # 30 from 6,000 rows on
])
def test_min_samples_leaf_grows_with_the_training_rows(n_rows, leaf):
    assert forest.default_min_samples_leaf(n_rows) == leaf
    assert forest.default_params(_ctx(n_rows, 10))["min_samples_leaf"] == leaf


@pytest.mark.parametrize("n_features, share, per_split", [
    (0, 0.5, None),  # not known: the old default
    (1, 0.5, 1), (4, 0.5, 2),  # a square root above half is held at half
    (7, 0.378, 2), (11, 0.302, 3), (30, 0.183, 5),  # as wide as PhysioNet, heart failure, breast cancer
    (100, 0.1, 10), (250, 0.1, 25), (2_000, 0.1, 200),  # wide tables: the search space's floor, a tenth
])
def test_max_features_is_the_square_root_share_within_the_search_space(n_features, share, per_split):
    assert forest.default_max_features(1_000, n_features) == share
    params = forest.default_params(_ctx(1_000, n_features))
    assert params["max_features"] == share and params["kind"] == "extra"
    if per_split is not None:  # what scikit-learn tries at each split
        assert max(1, int(share * n_features)) == per_split


@pytest.mark.parametrize("n_rows, n_features", [(0, 250), (224, 11), (426, 30), (576, 8), (799, 2_000)])
def test_small_tables_keep_the_old_defaults_exactly(n_rows, n_features):
    """Under 800 training rows (the heart failure, Cleveland, Pima and breast cancer tables) nothing
    changed: there the old defaults were as good as any candidate, and a leaf of 30 much worse."""
    params = forest.default_params(_ctx(n_rows, n_features))
    assert {k: params[k] for k in OLD} == OLD
    assert forest.default_params(_ctx(forest.SMALL_ROWS, n_features))["min_samples_leaf"] == 4


def test_regression_gets_the_same_rule_without_class_weights():
    ctx = BuildContext(task="regression", n_classes=0, seed=0, n_rows=10_000, n_features=250)
    assert forest.default_params(ctx) == {"kind": "extra", "n_estimators": 300, "min_samples_leaf": 30,
                                          "max_features": 0.1}


@pytest.mark.parametrize("n_rows, n_features", [(224, 11), (576, 8), (6_000, 7), (6_800, 250), (76_000, 250),
                                                (500_000, 2_000)])
def test_the_search_space_holds_the_old_and_the_new_defaults(n_rows, n_features):
    ctx = _ctx(n_rows, n_features)
    trial = optuna.create_study().ask()
    forest.search_space(Space(trial, family="forest"), ctx)
    new = forest.default_params(ctx)
    for params in (new, {**new, **OLD}):
        for name, value in params.items():
            dist = trial.distributions[name]
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                assert value in dist.choices, (name, value)
            else:
                assert dist.low <= value <= dist.high, (name, value, dist)


def test_the_first_trial_of_a_search_is_the_rule_of_its_table():
    """The default enqueued in the forest's study is the size-aware one, whole (no value dropped
    for lying outside the space)."""
    ctx = _ctx(76_000, 250)
    study = make_studies(["forest"], SearchSettings(families=("forest",), n_trials=1, seed=0), {"forest": ctx})["forest"]
    trial = study.ask()
    params = forest.search_space(Space(trial, family="forest"), ctx)
    assert trial.user_attrs["source"] == "default"
    assert params == forest.default_params(ctx) == {"kind": "extra", "n_estimators": 200, "min_samples_leaf": 30,
                                                   "max_features": 0.1, "class_weight": None}
