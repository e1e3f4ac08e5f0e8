"""XGBoost through ``xgboost.dask``: each worker builds its share of the histogram from the
partitions it holds, and the trees come back as one booster.

The estimator is built by the family module (the same defaults, search space and imbalance
handling as a single-process run), then re-created as its Dask twin. The stored model is a plain
``XGBClassifier``/``XGBRegressor`` loaded from the booster's bytes, so persistence, evaluation and
the calculator see the same kind of object as after any other run. On GPU workers the partitions
become cuDF frames (``dask_cudf``) and the booster trains with ``device="cuda"``.
"""

from __future__ import annotations

from typing import Any

import xgboost
from xgboost import dask as dxgb

from pipelines.automl.models import BuildContext, get_family

__all__ = ["fit", "predict", "to_local"]

_NOT_FOR_DASK = ("callbacks", "n_jobs")  # cancel polls a driver-side job; the worker decides threads


def fit(client: Any, *, params: dict[str, Any], ctx: BuildContext, X: Any, y: Any) -> Any:
    """Train on dask collections (``X`` a frame of ``f0..`` columns, ``y`` the encoded outcome)."""
    local = get_family("xgboost").build(dict(params), ctx)
    kwargs = {k: v for k, v in local.get_params().items() if k not in _NOT_FOR_DASK}
    cls = dxgb.DaskXGBRegressor if ctx.task == "regression" else dxgb.DaskXGBClassifier
    model = cls(**kwargs)
    model.client = client
    if str(kwargs.get("device", "cpu")).startswith("cuda"):
        X, y = X.to_backend("cudf"), y.to_backend("cudf")  # dask_cudf, only after the GPU probe said yes
    return model.fit(X, y, verbose=False)


def predict(model: Any, X: Any, task: str) -> Any:
    """Lazy predictions (a dask array): class probabilities, or values for regression."""
    return model.predict(X) if task == "regression" else model.predict_proba(X)


def to_local(model: Any, ctx: BuildContext) -> Any:
    """The booster as the estimator a single-process run stores."""
    cls = xgboost.XGBRegressor if ctx.task == "regression" else xgboost.XGBClassifier
    params = {k: v for k, v in model.get_params().items() if k not in _NOT_FOR_DASK}
    local = cls(**params, n_jobs=1)
    local.load_model(bytearray(model.get_booster().save_raw("ubj")))
    return local
