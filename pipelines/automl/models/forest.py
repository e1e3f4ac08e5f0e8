"""Random forest and extra trees: robust, nearly tuning-free bagged trees.

One family with the forest ``kind`` as a hyperparameter, because the two share every other knob
and a search should be free to move between them.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from pipelines.automl.models._base import BuildContext, Space, class_weight_choice

name = "forest"
tasks = ("binary", "multiclass", "regression")
native_format = "skops"

_CLASSES = {
    ("random", False): RandomForestClassifier,
    ("extra", False): ExtraTreesClassifier,
    ("random", True): RandomForestRegressor,
    ("extra", True): ExtraTreesRegressor,
}


def _n_estimators_cap(ctx: BuildContext) -> int:
    # Big tables make every tree slow; fewer trees keep a trial within a budget's reach.
    return 500 if ctx.n_rows <= 20_000 else 200


def default_params(ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {"kind": "extra", "n_estimators": min(300, _n_estimators_cap(ctx)),
                              "min_samples_leaf": 3, "max_features": 0.5}
    if ctx.task != "regression":
        params["class_weight"] = None
    return params


def search_space(space: Space, ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "kind": space.categorical("kind", ["random", "extra"]),
        "n_estimators": space.int("n_estimators", 100, _n_estimators_cap(ctx), log=True),
        "min_samples_leaf": space.int("min_samples_leaf", 1, 30, log=True),
        "max_features": space.float("max_features", 0.1, 1.0),
    }
    if ctx.task != "regression":
        params["class_weight"] = class_weight_choice(space, ctx)
    return params


def build(params: dict[str, Any], ctx: BuildContext) -> Any:
    params = dict(params)
    kind = params.pop("kind", "random")
    cls = _CLASSES[(kind, ctx.task == "regression")]
    return cls(**{"n_jobs": 1, "random_state": ctx.seed, **params})
