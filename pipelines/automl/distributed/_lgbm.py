"""LightGBM through ``lightgbm.dask``: one LightGBM "machine" per worker holding data, joined over
sockets for the duration of one fit.

LightGBM's network layer is global to a process, so two distributed fits must never share a
worker at the same time: every fit holds one cluster-wide :class:`distributed.Lock`, whichever job
or trial thread started it. The learner is fed dask arrays, never frames, so no column name
(``:``, ``[``, Korean) reaches it, exactly as on the single-process path.
"""

from __future__ import annotations

from typing import Any

import lightgbm.dask as dlgb

from pipelines.automl.models import BuildContext, get_family

__all__ = ["LOCK_NAME", "fit", "predict", "to_local"]

LOCK_NAME = "workbench-lightgbm-dask"
_NOT_FOR_DASK = ("n_jobs",)


def fit(client: Any, *, params: dict[str, Any], ctx: BuildContext, X: Any, y: Any) -> Any:
    from distributed import Lock

    local = get_family("lightgbm").build(dict(params), ctx)
    kwargs = {k: v for k, v in local.get_params().items() if k not in _NOT_FOR_DASK}
    cls = dlgb.DaskLGBMRegressor if ctx.task == "regression" else dlgb.DaskLGBMClassifier
    model = cls(client=client, **kwargs)
    with Lock(LOCK_NAME, scheduler_rpc=client.scheduler, loop=client.loop):
        return model.fit(X, y)


def predict(model: Any, X: Any, task: str) -> Any:
    return model.predict(X) if task == "regression" else model.predict_proba(X)


def to_local(model: Any, ctx: BuildContext) -> Any:
    """A plain ``LGBMClassifier``/``LGBMRegressor`` (stored as LightGBM's own text format)."""
    return model.to_local()
