"""scikit-learn's histogram gradient boosting: native missing values, no extra library."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)

from pipelines.automl.models._base import BuildContext, Space, class_weight_choice

name = "hist_gb"
tasks = ("binary", "multiclass", "regression")
native_format = "skops"


def default_params(ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {"learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15,
                              "min_samples_leaf": 20, "l2_regularization": 1.0}
    if ctx.task != "regression":
        params["class_weight"] = None
    return params


def search_space(space: Space, ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "learning_rate": space.float("learning_rate", 0.01, 0.3, log=True),
        "max_iter": space.int("max_iter", 50, 500, log=True),
        "max_leaf_nodes": space.int("max_leaf_nodes", 4, 63, log=True),
        "min_samples_leaf": space.int("min_samples_leaf", 5, 100, log=True),
        "l2_regularization": space.float("l2_regularization", 1e-3, 10.0, log=True),
    }
    if ctx.task != "regression":
        params["class_weight"] = class_weight_choice(space, ctx)
    return params


def build(params: dict[str, Any], ctx: BuildContext) -> Any:
    cls = HistGradientBoostingRegressor if ctx.task == "regression" else HistGradientBoostingClassifier
    # early_stopping off: its internal split would make a trial depend on row order and hide
    # the iteration count from the search, which tunes it instead.
    return cls(**{"early_stopping": False, "random_state": ctx.seed, **params})
