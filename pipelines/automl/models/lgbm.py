"""LightGBM: fast leaf-wise boosting on the CPU (the PyPI wheel has no CUDA learner).

It is fed a plain float matrix, never a frame, so hospital column names with characters LightGBM
refuses (``:``, ``[``, ``"``, Korean) cannot reach it.
"""

from __future__ import annotations

from typing import Any

import lightgbm
import numpy as np
from optuna_integration import LightGBMPruningCallback

from pipelines.automl.models._base import (
    BuildContext,
    Space,
    check_should_stop,
    class_weight_choice,
)

name = "lightgbm"
tasks = ("binary", "multiclass", "regression")
native_format = "lightgbm"
rounds_param = "n_estimators"  # what the first trial's time cap shortens (``pipelines.automl._schedule.RoundCap``)


def default_params(ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 8,
                              "min_child_samples": 20, "subsample": 0.8, "colsample_bytree": 0.7,
                              "reg_lambda": 1.0, "reg_alpha": 0.01}
    if ctx.task != "regression":
        params["class_weight"] = None
    return params


def search_space(space: Space, ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_estimators": space.int("n_estimators", 30, 1000, log=True),
        "learning_rate": space.float("learning_rate", 0.005, 0.3, log=True),
        "num_leaves": space.int("num_leaves", 2, 128, log=True),
        "min_child_samples": space.int("min_child_samples", 3, 100, log=True),
        "subsample": space.float("subsample", 0.5, 1.0),
        "colsample_bytree": space.float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": space.float("reg_lambda", 1e-3, 30.0, log=True),
        "reg_alpha": space.float("reg_alpha", 1e-3, 10.0, log=True),
    }
    if ctx.task != "regression":
        params["class_weight"] = class_weight_choice(space, ctx)
    return params


def build(params: dict[str, Any], ctx: BuildContext) -> Any:
    cls = lightgbm.LGBMRegressor if ctx.task == "regression" else lightgbm.LGBMClassifier
    base = {"subsample_freq": 1, "n_jobs": 1, "random_state": ctx.seed, "deterministic": True,
            "force_col_wise": True, "verbose": -1}
    return cls(**{**base, **params})


def _cancel_callback(ctx: BuildContext):
    def callback(env: Any) -> None:
        if env.iteration % 5 == 0:
            check_should_stop(ctx)

    return callback


def fit(estimator: Any, X: np.ndarray, y: np.ndarray, *, ctx: BuildContext, trial: Any = None,
        X_val: np.ndarray | None = None, y_val: np.ndarray | None = None, metric: str = "roc_auc") -> Any:
    """Fit with the cancel poll, and with the optuna-integration pruning callback on a
    validation fold when a trial is given (classification only: the callback must watch a
    metric where higher is better, like the study)."""
    callbacks: list[Any] = []
    if ctx.should_stop is not None:
        callbacks.append(_cancel_callback(ctx))
    if ctx.on_round is not None:
        on_round = ctx.on_round
        callbacks.append(lambda env: on_round(env.iteration))
    if trial is None or X_val is None or ctx.task == "regression":
        return estimator.fit(X, y, callbacks=callbacks or None)
    watched = "average_precision" if metric == "average_precision" else "auc"
    if ctx.task == "multiclass":
        watched = "auc_mu"
    callbacks.append(LightGBMPruningCallback(trial, watched, valid_name="valid_0"))
    return estimator.fit(X, y, eval_set=[(X_val, y_val)], eval_metric=watched, callbacks=callbacks)
