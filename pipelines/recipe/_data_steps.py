"""Data-level steps: run once, in order, and turn the upload into the analysis table.

Each step is a frozen dataclass with JSON-plain fields, a ``validate`` against the table's columns
and an ``apply`` that returns a new DataFrame (the input is never modified: pandas copy-on-write plus
explicit copies). Row exclusions are reported by ``prepare`` as a cohort flow with each step's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pandas as pd

from pipelines.recipe._base import ColumnKind, Step, column_kind
from pipelines.recipe._expr import parse_expression

__all__ = [
    "DataStep",
    "DefineOutcome",
    "FilterRows",
    "DropColumns",
    "DeriveColumn",
    "RenameColumn",
]



@dataclass(frozen=True)
class DataStep(Step):
    """A step that runs once on the whole table (never fitted: it must not learn from outcomes)."""

    level: ClassVar[Literal["data", "model"]] = "data"

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def exclusion_reason(self) -> str:
        """Why rows dropped by this step were excluded (shown in the cohort flow)."""
        return ""

    def exclusion_key(self) -> str:
        """A message key for the reason, so the cohort flow can be shown in either language."""
        return ""

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        return {str(k): column_kind(v) for k, v in columns.items()}


def _expr_or_fail(step: Step, param: str, text: str):
    if not text or not text.strip():
        raise step._fail("recipe.param_required", param=param)
    return parse_expression(text)


def _check_expression_columns(step: Step, schema: dict[str, ColumnKind], param: str, text: str) -> str:
    expr = _expr_or_fail(step, param, text)
    for col in expr.columns:
        step._need_column(schema, col, param=param)
    return expr.result_kind(schema)


@dataclass(frozen=True)
class DefineOutcome(DataStep):
    """Choose the outcome column and define it (``num > 0``, or codes mapped to labels).

    The source column is replaced by the outcome, so the raw code can never stay behind as a
    predictor. Rows without an outcome value are excluded (and counted in the cohort flow).
    """

    kind: ClassVar[str] = "outcome"

    column: str
    expression: str = ""
    mapping: tuple[tuple[Any, Any], ...] = ()
    name: str = ""
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto"
    positive_label: Any = None

    @property
    def target(self) -> str:
        return self.name or self.column

    def _check_params(self) -> None:
        self._need_choice("task", self.task, ("auto", "binary", "multiclass", "regression"))
        if self.expression and self.mapping:
            raise self._fail("recipe.outcome_expression_and_mapping")
        if self.expression:
            parse_expression(self.expression)
            if self.task in {"multiclass", "regression"}:
                raise self._fail("recipe.outcome_expression_task", task=self.task)

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")
        if self.expression:
            kind = _check_expression_columns(self, schema, "expression", self.expression)
            if kind != "true/false":
                raise self._fail("recipe.expr_not_condition", param="expression", expression=self.expression,
                                 actual=kind)
        if self.name and self.name != self.column and self.name in schema:
            raise self._fail("recipe.column_exists", param="name", column=self.name)

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        kind = schema.pop(self.column, "numeric")
        schema[self.target] = "numeric" if self.expression else kind
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        if self.expression:
            values = parse_expression(self.expression).evaluate_condition(frame)
        elif self.mapping:
            values = _map_values(frame[self.column], self.mapping, keep_unmapped=False)
        else:
            values = frame[self.column]
        out = frame.drop(columns=[self.column])
        out[self.target] = values
        keep = out[self.target].notna()
        out = out.loc[keep]
        if self.expression:
            out[self.target] = out[self.target].astype("int64")
        return out

    def exclusion_reason(self) -> str:
        return f"outcome {self.target!r} missing"

    def exclusion_key(self) -> str:
        return "recipe.flow_outcome_missing"


def _map_values(series: pd.Series, mapping: tuple[tuple[Any, Any], ...], *, keep_unmapped: bool) -> pd.Series:
    """Map values by their text form too, so a JSON key ``"1"`` matches the number 1."""
    lookup: dict[Any, Any] = {}
    for old, new in mapping:
        lookup[old] = new
        lookup[_text(old)] = new
    def one(v: Any) -> Any:
        if pd.isna(v):
            return v
        if v in lookup:
            return lookup[v]
        t = _text(v)
        if t in lookup:
            return lookup[t]
        return v if keep_unmapped else None
    mapped = [one(v) for v in series.tolist()]
    result = pd.Series(mapped, index=series.index, dtype=object)
    numeric = pd.to_numeric(result.dropna(), errors="coerce")
    if len(result.dropna()) and numeric.notna().all() and all(
            not isinstance(v, str) for v in result.dropna()):
        return result.astype("float64")
    return result.astype("str").where(result.notna())


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass(frozen=True)
class FilterRows(DataStep):
    """Keep the rows where ``expression`` is true (inclusion criterion); rows where it cannot be
    decided because a value is missing are excluded too, and counted."""

    kind: ClassVar[str] = "filter_rows"

    expression: str
    reason: str = ""

    def _check_params(self) -> None:
        _expr_or_fail(self, "expression", self.expression)

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        kind = _check_expression_columns(self, schema, "expression", self.expression)
        if kind != "true/false":
            raise self._fail("recipe.expr_not_condition", param="expression", expression=self.expression,
                             actual=kind)

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        cond = parse_expression(self.expression).evaluate_condition(frame)
        return frame.loc[(cond == 1).to_numpy()]

    def exclusion_reason(self) -> str:
        return self.reason or f"not ({self.expression})"

    def exclusion_key(self) -> str:
        return "recipe.flow_filter"


@dataclass(frozen=True)
class DropColumns(DataStep):
    """Remove columns (identifiers, free text, variables recorded after the outcome)."""

    kind: ClassVar[str] = "drop_columns"

    columns: tuple[str, ...]
    note: str = ""

    def _check_params(self) -> None:
        if not self.columns:
            raise self._fail("recipe.param_required", param="columns")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        for col in self.columns:
            self._need_column(schema, col, param="columns")

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        return {k: v for k, v in super().output_schema(columns).items() if k not in self.columns}

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        return frame.drop(columns=list(self.columns))


@dataclass(frozen=True)
class DeriveColumn(DataStep):
    """A new column from the safe expression language (BMI, ratios, flags, date differences)."""

    kind: ClassVar[str] = "derive_column"

    name: str
    expression: str
    replace: bool = False

    def _check_params(self) -> None:
        if not self.name.strip():
            raise self._fail("recipe.param_required", param="name")
        _expr_or_fail(self, "expression", self.expression)

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        if self.name in schema and not self.replace:
            raise self._fail("recipe.column_exists", param="name", column=self.name)
        _check_expression_columns(self, schema, "expression", self.expression)

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        kind = parse_expression(self.expression).result_kind(schema)
        schema[self.name] = {"text": "categorical", "date": "datetime"}.get(kind, "numeric")
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.name] = parse_expression(self.expression).evaluate(frame)
        return out


@dataclass(frozen=True)
class RenameColumn(DataStep):
    """Give a column a readable name (shown in figures and the paper tables)."""

    kind: ClassVar[str] = "rename_column"

    column: str
    new_name: str

    def _check_params(self) -> None:
        if not self.new_name.strip():
            raise self._fail("recipe.param_required", param="new_name")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")
        if self.new_name != self.column and self.new_name in schema:
            raise self._fail("recipe.column_exists", param="new_name", column=self.new_name)

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        return {(self.new_name if k == self.column else k): v for k, v in super().output_schema(columns).items()}

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        return frame.rename(columns={self.column: self.new_name})
