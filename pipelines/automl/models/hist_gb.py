"""scikit-learn's histogram gradient boosting: native missing values, no extra library.

scikit-learn offers no callback between boosting iterations, but it calls the early-stopping
scorer once before the first iteration and after each one. When the run has something to watch
(a cancel, the trial's deadline, the first trial's time cap: ``BuildContext.should_stop`` and
``on_round``), :func:`fit` sets that scorer to one that watches the clock and scores nothing, with
the training rows as its rows (no validation split) and a patience longer than ``max_iter`` (it
never stops the fit). The trees are those of a plain fit (tested), and the hook is taken off the
fitted model, so what is stored is an ordinary estimator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)

from pipelines.automl.models._base import BuildContext, Space, check_should_stop, class_weight_choice

name = "hist_gb"
tasks = ("binary", "multiclass", "regression")
native_format = "skops"
rounds_param = "max_iter"  # what the first trial's time cap shortens (``pipelines.automl._schedule.RoundCap``)

_HOOK = ("early_stopping", "scoring", "validation_fraction", "n_iter_no_change")


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


class _EveryIteration:
    """The early-stopping scorer as a hook between iterations: polls the run every few iterations,
    hands each finished one to ``on_round``, and scores 0 (nothing improves, nothing stops)."""

    def __init__(self, ctx: BuildContext, every: int = 5) -> None:
        self.ctx = ctx
        self.every = every
        self.calls = 0

    def __call__(self, estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
        iteration = self.calls - 1  # the first call comes before the first iteration
        self.calls += 1
        if iteration >= 0:
            if iteration % self.every == 0:
                check_should_stop(self.ctx)
            if self.ctx.on_round is not None:
                self.ctx.on_round(iteration)
        return 0.0


def fit(estimator: Any, X: np.ndarray, y: np.ndarray, *, ctx: BuildContext, trial: Any = None,
        X_val: np.ndarray | None = None, y_val: np.ndarray | None = None, metric: str = "roc_auc") -> Any:
    """Fit, watched between iterations when the run has something to watch (see the module
    docstring); a plain fit otherwise, or when the user pinned early stopping on."""
    params = estimator.get_params()
    if (ctx.should_stop is None and ctx.on_round is None) or params["early_stopping"] is not False:
        return estimator.fit(X, y)
    asked = {k: params[k] for k in _HOOK}
    estimator.set_params(early_stopping=True, scoring=_EveryIteration(ctx), validation_fraction=None,
                         n_iter_no_change=int(params["max_iter"]) + 1)
    try:
        estimator.fit(X, y)
    finally:
        estimator.set_params(**asked)
        # the fitted state a plain fit leaves: no scorer, no (constant) training scores
        estimator._scorer = None
        estimator.do_early_stopping_ = False
        estimator._use_validation_data = asked["validation_fraction"] is not None
        estimator.train_score_ = np.asarray([])
        estimator.validation_score_ = np.asarray([])
    return estimator
