"""Which input each column a learner saw comes from, and the name a reader understands for it.

A stored model is ``preprocess -> to_matrix -> head`` and the linear family nests its own
``impute -> scale -> learner``; by the time the data reaches the learner, one-hot columns, missing
indicators and unnamed matrix columns have replaced the table's columns. Figures and the risk
calculator must still say "sex = male" and "ejection_fraction", so this module walks the fitted
steps, takes each step's own output names where it offers them (the recipe's last stage keeps
them as ``column=value``), and finds the owning input of every learner column by moving one input
at a time through the fitted transforms (one-hot columns often have no usable names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LearnerInput", "learner_input", "pipeline_steps", "readable_name"]

_OWNER_SAMPLE_ROWS = 200


@dataclass(frozen=True)
class LearnerInput:
    """The last estimator of a model, X as it reaches it, and what each of those columns is."""

    learner: Any
    data: np.ndarray
    names: tuple[str, ...]  # readable: "sex = male", "ejection_fraction", "sodium (missing)"
    inputs: tuple[str, ...]  # the model input (a column of X) each learner column comes from


def pipeline_steps(model: Any) -> list[Any]:
    """The fitted steps of ``model`` with nested pipelines flattened; the last is the learner."""
    out: list[Any] = []
    for _, step in getattr(model, "steps", [("model", model)]):
        if getattr(step, "steps", None):
            out.extend(pipeline_steps(step))
        else:
            out.append(step)
    return out


def _matrix(data: Any) -> np.ndarray:
    if hasattr(data, "toarray"):
        data = data.toarray()
    return np.asarray(data, dtype=float)


def _names_out(step: Any, names: list[str], width: int) -> list[str]:
    """The step's own output names when it offers them for this width; else the input names when
    the width is unchanged (a scaler, the matrix step); else numbered columns."""
    candidates = [lambda: step.get_feature_names_out(names), lambda: step.get_feature_names_out()]
    if getattr(step, "steps", None):  # the recipe's preprocessing: its last stage keeps the names
        candidates.append(lambda: step.steps[-1][1].get_feature_names_out())
    for candidate in candidates:
        try:
            out = [str(n) for n in candidate()]
        except (AttributeError, ValueError, TypeError, IndexError):
            continue
        if len(out) == width:
            return out
    return names if len(names) == width else [f"x{i}" for i in range(width)]


def _transform(steps: list[Any], X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    data: Any = X
    names = [str(c) for c in X.columns]
    for step in steps:
        data = step.transform(data)
        names = _names_out(step, names, np.shape(data)[1])
    return _matrix(data), names


def _moved(column: pd.Series) -> pd.Series:
    """The same values in another order, so that most rows change (a shift of the sorted order)."""
    order = np.argsort(column.astype(str).fillna("").to_numpy(), kind="stable")  # missing sorts first
    return pd.Series(column.to_numpy()[np.roll(order, len(order) // 2)], index=column.index, dtype=column.dtype)


def _owners(steps: list[Any], X: pd.DataFrame, width: int) -> list[str | None]:
    """For each learner column, the first input whose moving changes it (None when none does)."""
    owners: list[str | None] = [None] * width
    sample = X.head(_OWNER_SAMPLE_ROWS)
    if not steps or len(sample) < 2:
        return owners
    try:
        base, _ = _transform(steps, sample)
    except (ValueError, TypeError, AttributeError, KeyError):
        return owners
    if base.shape[1] != width:
        return owners
    for feature in sample.columns:
        moved = sample.copy()
        moved[feature] = _moved(sample[feature])
        try:
            changed = ~np.all(np.isclose(_transform(steps, moved)[0], base, equal_nan=True), axis=0)
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
        for j in np.flatnonzero(changed):
            owners[j] = owners[j] or str(feature)
    return owners


def readable_name(name: str, owner: str | None) -> str:
    """``sex=male`` -> ``sex = male``; a missing-value indicator -> ``sodium (missing)``."""
    if name.startswith("missingindicator_"):  # scikit-learn's imputer inside the linear family
        return f"{readable_name(name[len('missingindicator_'):], owner)} (missing)"
    if owner is None or name == owner:
        return name
    for separator in ("=", "_"):
        if name.startswith(owner + separator):
            rest = name[len(owner) + 1:]
            return f"{owner} (missing)" if rest in ("_missing", "missing") else f"{owner} = {rest}"
    return name


def learner_input(model: Any, X: pd.DataFrame, *, learner: Any | None = None) -> LearnerInput:
    """Apply every fitted step but the last to ``X`` and say what each resulting column is.

    ``learner`` stands in for the model's last step when the caller has looked inside it (the one
    member of an ensemble, the base of a calibrated model); its own nested steps are applied too.
    """
    steps = pipeline_steps(model)
    if learner is not None:
        steps = steps[:-1] + pipeline_steps(learner)
    transforms, learner = steps[:-1], steps[-1]
    data, names = _transform(transforms, X)
    owners = _owners(transforms, X, data.shape[1])
    inputs = [str(c) for c in X.columns]
    by_length = sorted(inputs, key=len, reverse=True)
    out_names, out_inputs = [], []
    for name, owner in zip(names, owners):
        if owner is None:  # nothing moved it (a constant column): fall back on the name
            owner = next((f for f in by_length if name == f or name.startswith((f"{f}=", f"{f}_"))), None)
        out_names.append(readable_name(name, owner))
        out_inputs.append(owner if owner is not None else name)
    return LearnerInput(learner=learner, data=data, names=tuple(out_names), inputs=tuple(out_inputs))
