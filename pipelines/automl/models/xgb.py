"""XGBoost: the one family that trains on a GPU when the run has one.

``device`` comes from the run (probe result) unless the user pinned it; ``tree_method`` is always
``hist`` (``gpu_hist`` was removed in XGBoost 3.1 and is translated when parsing overrides).
Imbalance is a choice: ``balanced`` sets ``scale_pos_weight`` to negatives/positives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xgboost
from optuna_integration import XGBoostPruningCallback

from pipelines.automl.device import to_device_array
from pipelines.automl.models._base import BuildContext, Space, check_should_stop

name = "xgboost"
tasks = ("binary", "multiclass", "regression")
native_format = "xgboost"
rounds_param = "n_estimators"  # what the first trial's time cap shortens (``pipelines.automl._schedule.RoundCap``)


class CancelCallback(xgboost.callback.TrainingCallback):
    """Polls the job runner's ``should_stop`` every few boosting rounds (cooperative cancel)."""

    def __init__(self, ctx: BuildContext, every: int = 5) -> None:
        super().__init__()
        self.ctx = ctx
        self.every = every

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if epoch % self.every == 0:
            check_should_stop(self.ctx)
        return False


class RoundCallback(xgboost.callback.TrainingCallback):
    """Hands every finished boosting round to the run (``BuildContext.on_round``: the time cap)."""

    def __init__(self, on_round: Callable[[int], None]) -> None:
        super().__init__()
        self.on_round = on_round

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self.on_round(epoch)
        return False


def default_params(ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {"n_estimators": 300, "learning_rate": 0.03, "max_depth": 3,
                              "min_child_weight": 2.0, "subsample": 0.8, "colsample_bytree": 0.7,
                              "reg_lambda": 1.0, "reg_alpha": 0.01}
    if ctx.task == "binary":
        params["balanced"] = False
    return params


def search_space(space: Space, ctx: BuildContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_estimators": space.int("n_estimators", 30, 1000, log=True),
        "learning_rate": space.float("learning_rate", 0.005, 0.3, log=True),
        "max_depth": space.int("max_depth", 1, 10),
        "min_child_weight": space.float("min_child_weight", 0.5, 30.0, log=True),
        "subsample": space.float("subsample", 0.5, 1.0),
        "colsample_bytree": space.float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": space.float("reg_lambda", 1e-3, 30.0, log=True),
        "reg_alpha": space.float("reg_alpha", 1e-3, 10.0, log=True),
    }
    if ctx.task == "binary":
        params["balanced"] = space.categorical("balanced", [False, True])
    return params


def build(params: dict[str, Any], ctx: BuildContext) -> Any:
    params = dict(params)
    if params.pop("balanced", False) and "scale_pos_weight" not in params:
        params["scale_pos_weight"] = ctx.imbalance_ratio
    cls = xgboost.XGBRegressor if ctx.task == "regression" else xgboost.XGBClassifier
    base: dict[str, Any] = {"tree_method": "hist", "device": ctx.device, "n_jobs": 1,
                            "random_state": ctx.seed, "verbosity": 0}
    callbacks: list[xgboost.callback.TrainingCallback] = []
    if ctx.should_stop is not None:
        callbacks.append(CancelCallback(ctx))
    if ctx.on_round is not None:
        callbacks.append(RoundCallback(ctx.on_round))
    if callbacks:
        base["callbacks"] = callbacks
    return cls(**{**base, **params})


def pruning_metric(metric: str, task: str) -> str | None:
    """The XGBoost eval metric a pruning callback watches (higher must be better), if any."""
    if task == "regression":
        return None
    return "aucpr" if metric == "average_precision" else "auc"


def fit(estimator: Any, X: np.ndarray, y: np.ndarray, *, ctx: BuildContext, trial: Any = None,
        X_val: np.ndarray | None = None, y_val: np.ndarray | None = None, metric: str = "roc_auc") -> Any:
    """Fit, on the GPU from a CuPy matrix when the estimator's device is CUDA, and with the
    optuna-integration pruning callback when a trial and a validation fold are given."""
    device = str(estimator.get_params().get("device", "cpu"))
    Xf = to_device_array(X, "cuda" if device.startswith("cuda") else "cpu")
    watched = pruning_metric(metric, ctx.task)
    if trial is None or X_val is None or watched is None:
        return estimator.fit(Xf, y, verbose=False)
    callbacks = list(estimator.get_params().get("callbacks") or [])
    callbacks.append(XGBoostPruningCallback(trial, f"validation_0-{watched}"))
    estimator.set_params(callbacks=callbacks, eval_metric=watched)
    Xv = to_device_array(X_val, "cuda" if device.startswith("cuda") else "cpu")
    try:
        estimator.fit(Xf, y, eval_set=[(Xv, y_val)], verbose=False)
    finally:
        # A fitted model keeps no reference to the trial (it is persisted and reused later).
        estimator.set_params(callbacks=callbacks[:-1] or None, eval_metric=None)
    return estimator
