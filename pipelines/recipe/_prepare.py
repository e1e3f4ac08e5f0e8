"""Running a recipe: data-level steps produce the analysis table, model-level steps compile into
an unfitted scikit-learn ``Pipeline`` that the trainer fits inside each fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from pipelines.errors import RecipeError
from pipelines.recipe._base import column_kind, schema_of
from pipelines.recipe._model_steps import Encode
from pipelines.recipe._recipe import Recipe, at_step
from pipelines.recipe._transformers import FloatMatrix, FrameCoercer

__all__ = ["Prepared", "FlowStep", "prepare", "build_preprocessor", "MAX_CLASSES"]

Task = Literal["binary", "multiclass", "regression"]
MAX_CLASSES = 50


@dataclass(frozen=True)
class FlowStep:
    """Rows and columns before and after one enabled data-level step, for the review screen and
    the CONSORT-style flow figure. ``reason``/``reason_key`` explain excluded rows (if any)."""

    step: int
    kind: str
    rows_in: int
    rows_out: int
    columns_in: int
    columns_out: int
    reason: str = ""
    reason_key: str = ""

    @property
    def excluded(self) -> int:
        return self.rows_in - self.rows_out


@dataclass(frozen=True)
class Prepared:
    """The analysis table and what it means: which column is the outcome, which are predictors."""

    frame: pd.DataFrame
    target: str
    task: Task
    positive_label: object | None
    features: tuple[str, ...]
    group_column: str | None
    time_column: str | None
    cohort_flow: tuple[FlowStep, ...]
    rows_in: int = 0
    classes: tuple[Any, ...] = ()

    @property
    def X(self) -> pd.DataFrame:
        return self.frame[list(self.features)]

    @property
    def y(self) -> pd.Series:
        return self.frame[self.target]


def prepare(recipe: Recipe, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> Prepared:
    """Validate the recipe against ``frame`` and run its data-level steps, in order.

    ``tables`` holds the extra tables steps refer to by name (the long time-series file).
    The input frame is not modified.
    """
    recipe.validate(schema_of(frame), tables=tables)
    outcome = recipe.outcome
    current = frame
    flow: list[FlowStep] = []
    for number, step in enumerate(recipe.steps, start=1):
        if not step.enabled or step.level != "data":
            continue
        with at_step(number):
            step.validate(schema_of(current))
            result = step.apply(current, tables=tables)
        flow.append(FlowStep(
            step=number, kind=step.kind, rows_in=len(current), rows_out=len(result),
            columns_in=current.shape[1], columns_out=result.shape[1],
            reason=step.exclusion_reason() if len(result) < len(current) else "",
            reason_key=step.exclusion_key() if len(result) < len(current) else "",
        ))
        current = result
    target = outcome.target
    if target not in current.columns:
        raise RecipeError("recipe.outcome_dropped", column=target)
    if current.empty:
        raise RecipeError("recipe.no_rows_left")
    task, positive, classes = decide_task(outcome, current[target])
    reserved = {target, recipe.split.group_column, recipe.split.time_column} - {None}
    features = tuple(str(c) for c in current.columns if c not in reserved)
    if not features:
        raise RecipeError("recipe.no_features")
    return Prepared(
        frame=current, target=target, task=task, positive_label=positive, features=features,
        group_column=recipe.split.group_column, time_column=recipe.split.time_column,
        cohort_flow=tuple(flow), rows_in=len(frame), classes=classes,
    )


def decide_task(outcome: Any, y: pd.Series) -> tuple[Task, object | None, tuple[Any, ...]]:
    """Decide the learning task and the positive class; explicit settings win over guesses."""
    values = y.dropna()
    uniques = sorted(values.unique().tolist(), key=lambda v: (str(type(v)), v))
    numeric = column_kind(y.dtype) == "numeric"
    if len(uniques) < 2:
        raise RecipeError("recipe.outcome_single_class", column=outcome.target,
                          value=uniques[0] if uniques else None)
    task = outcome.task
    if outcome.expression:
        task = "binary"
    if task == "auto":
        if len(uniques) == 2:
            task = "binary"
        elif numeric and all(float(v).is_integer() for v in uniques) and len(uniques) <= 10:
            task = "multiclass"
        elif numeric:
            task = "regression"
        else:
            task = "multiclass"
    if task == "binary" and len(uniques) != 2:
        raise RecipeError("recipe.outcome_not_binary", column=outcome.target, count=len(uniques),
                          values=[_plain(v) for v in uniques[:10]])
    if task == "regression" and not numeric:
        raise RecipeError("recipe.outcome_not_numeric", column=outcome.target)
    if task == "multiclass" and len(uniques) > MAX_CLASSES:
        raise RecipeError("recipe.outcome_too_many_classes", column=outcome.target, count=len(uniques),
                          limit=MAX_CLASSES)
    if task == "regression":
        return "regression", None, ()
    classes = tuple(_plain(v) for v in uniques)
    if task == "multiclass":
        return "multiclass", None, classes
    if outcome.positive_label is not None:
        match = [c for c in classes if str(c) == str(outcome.positive_label)
                 or (isinstance(c, (int, float)) and _num_eq(c, outcome.positive_label))]
        if not match:
            raise RecipeError("recipe.positive_label_missing", column=outcome.target,
                              label=outcome.positive_label, values=list(classes))
        return "binary", match[0], classes
    if set(map(_plain, classes)) <= {0, 1} or set(classes) <= {True, False}:
        return "binary", classes[-1], classes
    counts = values.value_counts()
    minority = counts[counts == counts.min()].index
    return "binary", _plain(sorted(minority.tolist(), key=str)[-1]), classes


def _num_eq(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def build_preprocessor(recipe: Recipe, prepared: Prepared) -> Pipeline:
    """The model-level steps as an UNFITTED ``Pipeline`` from ``prepared.frame[features]`` to a float
    matrix. Only column names and dtypes are read here, never values, so fitting happens on
    exactly the rows the caller passes (one CV fold's training rows)."""
    features = list(prepared.features)
    dtypes = prepared.frame.dtypes
    kinds = {c: column_kind(dtypes[c]) for c in features}
    numeric = [c for c in features if kinds[c] in {"numeric", "datetime"}]
    kinds = {c: ("numeric" if k == "datetime" else k) for c, k in kinds.items()}
    categorical = [c for c in features if kinds[c] == "categorical"]
    reserved = {prepared.target, prepared.group_column, prepared.time_column} - {None}
    stages: list[tuple[str, Any]] = [("coerce", FrameCoercer(numeric=numeric, categorical=categorical))]
    orders = {c: [str(x) for x in dtypes[c].categories] for c in categorical
              if isinstance(dtypes[c], pd.CategoricalDtype) and dtypes[c].ordered}
    encoded: set[str] = set()
    for number, step in enumerate(recipe.steps, start=1):
        if not step.enabled or step.level != "model":
            continue
        with at_step(number):
            for col in step.columns:
                if col in reserved:
                    raise RecipeError("recipe.column_not_feature", kind=step.kind, column=col)
            step.validate(kinds)
        if isinstance(step, Encode):
            encoded |= set(step.columns) if step.columns else set(categorical)
        stages.append((f"s{number}_{step.kind}", step.compile(orders=orders)))
    left = [c for c in categorical if c not in encoded]
    if left:
        raise RecipeError("recipe.categorical_not_encoded", columns=left)
    stages.append(("to_float", FloatMatrix()))
    return Pipeline(stages)
