"""The step base class, the column-kind vocabulary and the JSON (de)serialisation of steps.

Steps are frozen dataclasses so a recipe version can never change after it was approved; their
parameters are plain JSON values so the recipe stored in the database is readable by a person and
by a script. Each step says exactly which parameter is wrong through :class:`RecipeError` keys.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from pipelines.errors import RecipeError

__all__ = [
    "Step",
    "ColumnKind",
    "column_kind",
    "schema_of",
    "step_to_dict",
    "step_from_dict",
]

ColumnKind = Literal["numeric", "categorical", "datetime"]


def column_kind(dtype: Any) -> ColumnKind:
    """Reduce a pandas/numpy dtype (or a dtype name such as ``"float64"``, ``"numeric"``) to a kind.

    Validation only needs to know whether arithmetic, ordering or category handling makes sense,
    so booleans count as numeric (0/1) and everything textual counts as categorical.
    """
    if isinstance(dtype, str):
        low = dtype.lower()
        if low in {"numeric", "number", "int", "integer", "float", "bool", "boolean"}:
            return "numeric"
        if low in {"categorical", "category", "string", "str", "object", "text"}:
            return "categorical"
        if low in {"datetime", "date"} or low.startswith("datetime"):
            return "datetime"
        try:
            dtype = pd.api.types.pandas_dtype(dtype)
        except TypeError:
            return "categorical"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "categorical"


def schema_of(frame: pd.DataFrame) -> dict[str, ColumnKind]:
    """Column name -> kind, the thing steps validate against."""
    return {str(name): column_kind(dtype) for name, dtype in frame.dtypes.items()}


def _normalise_schema(columns: Mapping[str, Any]) -> dict[str, ColumnKind]:
    return {str(k): column_kind(v) for k, v in columns.items()}


@dataclasses.dataclass(frozen=True)
class Step:
    """One typed, immutable step of a recipe.

    ``kind`` names the step in JSON; ``level`` says whether it runs once on the table (``"data"``)
    or is fitted inside every cross-validation fold (``"model"``). A switched-off step stays in the
    recipe (the physician may switch it back on) but does nothing.
    """

    kind: ClassVar[str] = ""
    level: ClassVar[Literal["data", "model"]] = "data"

    enabled: bool = dataclasses.field(default=True, kw_only=True)

    # -- validation -------------------------------------------------------------------------
    def validate(self, columns: Mapping[str, Any]) -> None:
        """Raise :class:`RecipeError` when the step does not fit a table with these columns."""
        self._check_params()
        self._check_columns(_normalise_schema(columns))

    def _check_params(self) -> None:
        """Parameter checks that need no data (ranges, allowed values)."""

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        """Checks against the table's columns."""

    def output_schema(self, columns: Mapping[str, Any]) -> dict[str, ColumnKind]:
        """The columns after this step, so a whole recipe validates without running it."""
        return _normalise_schema(columns)

    # -- helpers for subclasses ---------------------------------------------------------------
    def _fail(self, key: str, **params: Any) -> RecipeError:
        return RecipeError(key, kind=self.kind, **params)

    def _need_column(self, schema: dict[str, ColumnKind], column: str, *, param: str,
                     kinds: tuple[ColumnKind, ...] = ()) -> None:
        if not column:
            raise self._fail("recipe.param_required", param=param)
        if column not in schema:
            raise self._fail("recipe.unknown_column", param=param, column=column,
                             available=_preview(schema))
        if kinds and schema[column] not in kinds:
            raise self._fail("recipe.wrong_column_type", param=param, column=column,
                             actual=schema[column], expected=" / ".join(kinds))

    def _need_choice(self, param: str, value: Any, choices: tuple[Any, ...]) -> None:
        if value not in choices:
            raise self._fail("recipe.bad_choice", param=param, value=value, choices=choices)


def _preview(schema: Mapping[str, Any], limit: int = 12) -> str:
    names = list(schema)
    head = ", ".join(names[:limit])
    return head + (f", ... (+{len(names) - limit})" if len(names) > limit else "")


# -- JSON -------------------------------------------------------------------------------------

_JSON_SCALARS = (str, int, float, bool, type(None))


def step_to_dict(step: Step) -> dict[str, Any]:
    """A JSON-ready dict: ``{"kind": ..., <fields>}``; tuples become lists."""
    out: dict[str, Any] = {"kind": step.kind}
    for f in dataclasses.fields(step):
        out[f.name] = _to_json_value(getattr(step, f.name))
    return out


def _to_json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_json_value(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise RecipeError("recipe.bad_param", kind="", param="", value=str(value),
                          expected="a finite number")
    return value


def step_from_dict(cls: type[Step], data: Mapping[str, Any]) -> Step:
    """Build a step from its JSON dict, checking every field's type and naming the bad one."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names - {"kind"})
    if unknown:
        raise RecipeError("recipe.unknown_param", kind=cls.kind, param=unknown[0],
                          allowed=sorted(names))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RecipeError("recipe.param_required", kind=cls.kind, param=f.name)
            continue
        kwargs[f.name] = _coerce(data[f.name], hints[f.name], kind=cls.kind, param=f.name)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, *, kind: str, param: str) -> Any:
    """Check a JSON value against a field annotation (the small subset steps use)."""
    bad = RecipeError("recipe.bad_param", kind=kind, param=param, value=_short(value),
                      expected=_describe(hint))
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is object:
        if not isinstance(value, _JSON_SCALARS):
            raise bad
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, kind=kind, param=param)
            except RecipeError:
                continue
        raise bad
    if origin is Literal:
        if value not in args:
            raise RecipeError("recipe.bad_choice", kind=kind, param=param, value=_short(value),
                              choices=args)
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], kind=kind, param=param) for v in value)
        if len(value) != len(args):
            raise bad
        return tuple(_coerce(v, a, kind=kind, param=param) for v, a in zip(value, args))
    if hint is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if not math.isfinite(float(value)):
            raise bad
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise bad
        return value
    raise bad  # pragma: no cover - a step declared a field type this module does not know


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list [{', '.join(_describe(a) for a in args)}]"
    if hint is type(None):
        return "null"
    if hint is Any or hint is object:
        return "a text, number, true/false or null"
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a text"}.get(
        hint, str(hint))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
