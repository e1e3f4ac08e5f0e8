"""Penalised logistic / linear regression: the interpretable baseline clinicians ask for.

On small clinical tables it often beats boosted trees, so it is always tried first with sensible
defaults. Missing values are imputed (median plus a missingness indicator, :class:`MedianImputer`:
scikit-learn's ``SimpleImputer`` output at a fraction of its time) and features scaled inside the
estimator, because the recipe's preprocessor may leave NaN and unscaled columns for the tree
families that handle them natively.
"""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.automl.models._base import BuildContext, Space, class_weight_choice
from pipelines.automl.models._impute import MedianImputer

name = "linear"
tasks = ("binary", "multiclass", "regression")
native_format = "skops"


def default_params(ctx: BuildContext) -> dict[str, Any]:
    if ctx.task == "regression":
        return {"kind": "ridge", "alpha": 1.0}
    return {"C": 1.0, "l1_ratio": 0.0, "class_weight": None}


def search_space(space: Space, ctx: BuildContext) -> dict[str, Any]:
    if ctx.task == "regression":
        return {"kind": space.categorical("kind", ["ridge", "lasso"]), "alpha": space.float("alpha", 1e-4, 1e3, log=True)}
    return {
        "C": space.float("C", 1e-4, 1e2, log=True),
        "l1_ratio": space.categorical("l1_ratio", [0.0, 1.0]),
        "class_weight": class_weight_choice(space, ctx),
    }


def build(params: dict[str, Any], ctx: BuildContext) -> Pipeline:
    params = dict(params)
    if ctx.task == "regression":
        kind = params.pop("kind", "ridge")
        cls = Lasso if kind == "lasso" else Ridge
        extra = {"max_iter": 5000, "random_state": ctx.seed} if cls is Lasso else {}
        model = cls(**{**extra, **params})
    else:
        l1 = float(params.get("l1_ratio", 0.0)) > 0
        # liblinear handles pure L1 quickly for binary outcomes; saga for multiclass L1.
        solver = ("liblinear" if ctx.task == "binary" else "saga") if l1 else "lbfgs"
        base = {"solver": solver, "max_iter": 2000, "random_state": ctx.seed}
        model = LogisticRegression(**{**base, **params})
    return Pipeline(
        [
            ("impute", MedianImputer()),
            ("scale", StandardScaler()),
            ("model", model),
        ]
    )
