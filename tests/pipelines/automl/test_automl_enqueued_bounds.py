"""A data scientist's bounds hold for the configurations tried first, too.

Optuna runs an enqueued value outside a parameter's range (it only warns), so a family's default or a
recommended configuration from a similar table (``max_depth: 7``, ``num_leaves: 101`` for the demo
table) would leave the ranges the user pinned. Found by the data scientist's browser journey.
"""

from __future__ import annotations

from pipelines.automl import SearchSettings, run_search
from pipelines.automl.settings import Overrides
from tests.pipelines.automl.helpers import CPU, make_plan, make_preprocessor

BOUNDS = Overrides(bounds={"xgboost": {"max_depth": (5, 6), "balanced": (True,)},
                           "lightgbm": {"num_leaves": (8, 64)}})


def test_a_configuration_is_moved_inside_the_bounds():
    recommended = {"max_depth": 7, "balanced": False, "learning_rate": 0.03}
    assert BOUNDS.applied("xgboost", recommended) == {"max_depth": 6, "learning_rate": 0.03}
    assert BOUNDS.applied("xgboost", {"max_depth": 2}) == {"max_depth": 5}
    assert BOUNDS.applied("lightgbm", {"num_leaves": 31, "subsample": 0.8}) == {"num_leaves": 31, "subsample": 0.8}
    assert BOUNDS.applied("linear", {"C": 1.0}) == {"C": 1.0}  # no bounds for the family: as it was


def test_defaults_and_recommendations_are_tried_inside_the_bounds(heart_failure):
    X, y = heart_failure
    recommended = (  # what the shipped table recommends for the heart failure table
        {"family": "xgboost", "params": {"balanced": True, "colsample_bytree": 0.71, "learning_rate": 0.032,
                                         "max_depth": 7, "min_child_weight": 1.56, "n_estimators": 33,
                                         "reg_alpha": 0.17, "reg_lambda": 0.0013, "subsample": 0.84}},
        {"family": "lightgbm", "params": {"class_weight": "balanced", "colsample_bytree": 0.34, "learning_rate": 0.094,
                                          "min_child_samples": 34, "n_estimators": 88, "num_leaves": 101,
                                          "reg_alpha": 2.07, "reg_lambda": 0.22, "subsample": 0.77}},
    )
    settings = SearchSettings(families=("xgboost", "lightgbm"), n_trials=6, time_budget_s=None, seed=7,
                              enqueue=recommended, overrides=BOUNDS)
    result = run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                        settings=settings, device_choice=CPU)
    first = [t for t in result.trials if t.source in ("default", "recommended")]
    assert {(t.family, t.source) for t in first} == {(f, s) for f in ("xgboost", "lightgbm")
                                                     for s in ("default", "recommended")}
    xgb = [t.params for t in result.trials if t.family == "xgboost"]
    assert xgb and all(5 <= p["max_depth"] <= 6 and p["balanced"] is True for p in xgb), xgb
    leaves = [t.params["num_leaves"] for t in result.trials if t.family == "lightgbm"]
    assert leaves and all(8 <= n <= 64 for n in leaves), leaves
    recommended_xgb = next(t for t in first if t.family == "xgboost" and t.source == "recommended")
    assert recommended_xgb.params["max_depth"] == 6 and recommended_xgb.params["n_estimators"] == 33


def test_the_dask_search_enqueues_inside_the_bounds_too():
    import optuna

    from pipelines.automl.distributed._study import create_studies
    from pipelines.automl.models import BuildContext

    storage = optuna.storages.InMemoryStorage()
    settings = SearchSettings(families=("xgboost",), n_trials=2, time_budget_s=None, overrides=BOUNDS,
                              enqueue=({"family": "xgboost", "params": {"max_depth": 9, "balanced": False}},))
    ctx = BuildContext(task="binary", n_classes=2, seed=0, class_counts=(100, 50))
    names = create_studies(storage, key="run", families=["xgboost"], settings=settings, contexts={"xgboost": ctx})
    waiting = optuna.load_study(study_name=names["xgboost"], storage=storage).get_trials(
        states=(optuna.trial.TrialState.WAITING,))
    fixed = [t.system_attrs["fixed_params"] for t in waiting]
    assert [p["max_depth"] for p in fixed] == [5, 6] and not any("balanced" in p for p in fixed)
