"""The model families, in an explicit registry (not discovered by glob, so adding a file is a
deliberate, reviewed change). The order is the order a search tries them first: cheap and
interpretable before slow."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from pipelines.automl.models import forest, hist_gb, lgbm, linear, xgb
from pipelines.automl.models._base import BuildContext, Space
from pipelines.errors import TrainingError

__all__ = ["FAMILY_NAMES", "REGISTRY", "BuildContext", "Space", "fit_estimator", "get_family"]

REGISTRY: dict[str, ModuleType] = {m.name: m for m in (linear, hist_gb, lgbm, xgb, forest)}
FAMILY_NAMES: tuple[str, ...] = tuple(REGISTRY)


def get_family(name: str) -> ModuleType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise TrainingError("training.unknown_family", family=name, allowed=list(FAMILY_NAMES)) from None


def fit_estimator(family: ModuleType, estimator: Any, X: np.ndarray, y: np.ndarray, *, ctx: BuildContext,
                  trial: Any = None, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                  metric: str = "roc_auc") -> Any:
    """Fit through the family's own ``fit`` when it has one (callbacks, GPU input), else plainly;
    always on one native thread (OpenMP sums in a fixed order: the same model every time, and no
    oversubscription of a machine shared with other jobs)."""
    own = getattr(family, "fit", None)
    with threadpool_limits(limits=1):
        if own is not None:
            return own(estimator, X, y, ctx=ctx, trial=trial, X_val=X_val, y_val=y_val, metric=metric)
        return estimator.fit(X, y)
