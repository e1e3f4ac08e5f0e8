"""Random forest and extra trees: robust, nearly tuning-free bagged trees.

One family with the forest ``kind`` as a hyperparameter, because the two share every other knob
and a search should be free to move between them.

When the run has something to watch (a cancel, the trial's deadline, the first trial's time cap:
``BuildContext.should_stop`` and ``on_round``), :func:`fit` grows the forest in batches with
``warm_start`` and checks between batches: scikit-learn draws each tree's seed from the forest's
seed in order, so the trees are those of one plain fit (tested). Batches last about
:data:`_BATCH_SECONDS` each (the first one is a single tree: the time cap extrapolates from it).

The default configuration follows the table's size (:func:`default_params`; the rule was measured
against the old defaults by ``benchmarks/forest_defaults.py``): small tables keep the old one,
larger ones get larger leaves and, when wide, fewer columns tried at each split.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from pipelines.automl.models._base import BuildContext, Space, check_should_stop, class_weight_choice

name = "forest"
tasks = ("binary", "multiclass", "regression")
native_format = "skops"
rounds_param = "n_estimators"  # what the first trial's time cap shortens (``pipelines.automl._schedule.RoundCap``)
probe_rounds = 3  # trees the cap times before it decides (a tree costs what many boosting rounds do)

_BATCH_SECONDS = 0.5

_CLASSES = {
    ("random", False): RandomForestClassifier,
    ("extra", False): ExtraTreesClassifier,
    ("random", True): RandomForestRegressor,
    ("extra", True): ExtraTreesRegressor,
}


def _n_estimators_cap(ctx: BuildContext) -> int:
    # Big tables make every tree slow; fewer trees keep a trial within a budget's reach.
    return 500 if ctx.n_rows <= 20_000 else 200


SMALL_ROWS = 800  # a training part under this keeps the defaults of before 2026-11 exactly


def default_min_samples_leaf(n_rows: int) -> int:
    """One training row in 200, from 3 to 30: 3 under :data:`SMALL_ROWS` (where 30 lost up to 0.11
    AUROC), 30 from 6,000 rows (on 6,800 readmission rows 30 gained 0.03 AUROC over 3)."""
    return int(min(30, max(3, n_rows // 200)))


def default_max_features(n_rows: int, n_features: int) -> float:
    """The square root of the predictors, as a share (scikit-learn's ``"sqrt"``), kept within the
    search space's 0.1 and the old 0.5: a wide one-hot table tries a tenth of its columns at each
    split, not half. Under :data:`SMALL_ROWS`, or when the width is not known, the old 0.5."""
    if n_rows < SMALL_ROWS or n_features <= 0:
        return 0.5
    return round(min(0.5, max(0.1, 1.0 / n_features ** 0.5)), 3)


def default_params(ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {"kind": "extra", "n_estimators": min(300, _n_estimators_cap(ctx)),
                              "min_samples_leaf": default_min_samples_leaf(ctx.n_rows),
                              "max_features": default_max_features(ctx.n_rows, ctx.n_features)}
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


def fit(estimator: Any, X: np.ndarray, y: np.ndarray, *, ctx: BuildContext, trial: Any = None,
        X_val: np.ndarray | None = None, y_val: np.ndarray | None = None, metric: str = "roc_auc") -> Any:
    """Fit, in batches of trees when the run has something to watch (see the module docstring);
    a plain fit otherwise, or when the user pinned ``warm_start``."""
    params = estimator.get_params()
    if (ctx.should_stop is None and ctx.on_round is None) or params["warm_start"]:
        return estimator.fit(X, y)
    total = int(params["n_estimators"])
    grown, batch = 0, 1
    try:
        while grown < total:
            started = time.perf_counter()
            estimator.set_params(warm_start=True, n_estimators=min(total, grown + batch))
            with warnings.catch_warnings():  # "balanced" weights with warm_start: the rows are the same every batch
                warnings.filterwarnings("ignore", message="class_weight presets", category=UserWarning)
                estimator.fit(X, y)
            per_tree = (time.perf_counter() - started) / (estimator.n_estimators - grown)
            grown = estimator.n_estimators
            check_should_stop(ctx)
            if ctx.on_round is not None:
                ctx.on_round(grown - 1)
            batch = max(1, int(_BATCH_SECONDS / max(per_tree, 1e-6)))
    finally:
        estimator.set_params(warm_start=False, n_estimators=total)
    return estimator
