"""Data-level steps: run once, in order, and turn the upload into the analysis table.

Each step is a frozen dataclass with JSON-plain fields, a ``validate`` against the table's columns
and an ``apply`` that returns a new DataFrame (the input is never modified: pandas copy-on-write plus
explicit copies). Row exclusions are reported by ``prepare`` as a cohort flow with each step's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from pipelines.recipe._base import ColumnKind, Step, column_kind
from pipelines.recipe._expr import parse_expression

__all__ = [
    "DataStep",
    "DefineOutcome",
    "FilterRows",
    "DropColumns",
    "DeriveColumn",
    "RecodeCategories",
    "MergeCategories",
    "OrderCategories",
    "ConvertUnits",
    "PlausibleRange",
    "EditCell",
    "RenameColumn",
    "AggregateTimeSeries",
    "TIME_SERIES_STATISTICS",
]

TIME_SERIES_STATISTICS: tuple[str, ...] = ("first", "last", "min", "max", "mean", "count", "slope")


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
class RecodeCategories(DataStep):
    """Replace values by others (``1 -> "male"``); values not listed stay as they are."""

    kind: ClassVar[str] = "recode"

    column: str
    mapping: tuple[tuple[Any, Any], ...]

    def _check_params(self) -> None:
        if not self.mapping:
            raise self._fail("recipe.param_required", param="mapping")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        if any(isinstance(new, str) for _, new in self.mapping):
            schema[self.column] = "categorical"
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.column] = _map_values(frame[self.column], self.mapping, keep_unmapped=True)
        return out


@dataclass(frozen=True)
class MergeCategories(DataStep):
    """Merge several category labels into one (a grid action: select labels, "merge into")."""

    kind: ClassVar[str] = "merge_categories"

    column: str
    labels: tuple[Any, ...]
    into: Any

    def _check_params(self) -> None:
        if len(self.labels) < 1:
            raise self._fail("recipe.param_required", param="labels")
        if self.into is None:
            raise self._fail("recipe.param_required", param="into")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        if isinstance(self.into, str):
            schema[self.column] = "categorical"
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.column] = _map_values(frame[self.column], tuple((lab, self.into) for lab in self.labels),
                                       keep_unmapped=True)
        return out


@dataclass(frozen=True)
class OrderCategories(DataStep):
    """Put category labels in a meaningful order (mild < moderate < severe) for ordinal encoding."""

    kind: ClassVar[str] = "order_categories"

    column: str
    order: tuple[Any, ...]

    def _check_params(self) -> None:
        if len(self.order) < 2:
            raise self._fail("recipe.param_required", param="order")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column", kinds=("categorical",))

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        present = set(frame[self.column].dropna().astype(str))
        order = [str(v) for v in self.order]
        missing = sorted(present - set(order))
        if missing:
            raise self._fail("recipe.category_not_in_order", column=self.column, label=missing[0])
        out = frame.copy()
        out[self.column] = pd.Categorical(frame[self.column].astype("str").where(frame[self.column].notna()),
                                          categories=order, ordered=True)
        return out


@dataclass(frozen=True)
class ConvertUnits(DataStep):
    """``new = value * factor + offset`` (mg/dL to mmol/L, Fahrenheit to Celsius, lb to kg)."""

    kind: ClassVar[str] = "convert_units"

    column: str
    factor: float
    offset: float = 0.0
    unit: str = ""

    def _check_params(self) -> None:
        if self.factor == 0:
            raise self._fail("recipe.bad_param", param="factor", value="0", expected="a non-zero number")

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column", kinds=("numeric",))

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        out = frame.copy()
        out[self.column] = frame[self.column].astype("float64") * self.factor + self.offset
        return out


@dataclass(frozen=True)
class PlausibleRange(DataStep):
    """Values outside ``[low, high]`` or equal to a missing code (BMI 0, blood pressure 0, -1)
    become missing: they are recording artefacts, not patients."""

    kind: ClassVar[str] = "plausible_range"

    column: str
    low: float | None = None
    high: float | None = None
    missing_codes: tuple[float, ...] = ()

    def _check_params(self) -> None:
        if self.low is None and self.high is None and not self.missing_codes:
            raise self._fail("recipe.range_empty")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise self._fail("recipe.range_inverted", low=self.low, high=self.high)

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column", kinds=("numeric",))

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        values = frame[self.column].astype("float64")
        bad = values.isin(list(self.missing_codes))
        if self.low is not None:
            bad |= values < self.low
        if self.high is not None:
            bad |= values > self.high
        out = frame.copy()
        out[self.column] = values.mask(bad)
        return out


@dataclass(frozen=True)
class EditCell(DataStep):
    """One spreadsheet cell fixed by hand, recorded with its old value so the change is visible.

    The row is found by ``key_column == row_key`` (a patient or record ID), or by the uploaded row
    number when ``key_column`` is empty. If the cell no longer holds ``old_value`` (the data
    changed), the edit refuses instead of overwriting something the physician never saw.
    """

    kind: ClassVar[str] = "edit_cell"

    column: str
    row_key: Any
    old_value: Any
    new_value: Any
    key_column: str = ""

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.column, param="column")
        if self.key_column:
            self._need_column(schema, self.key_column, param="key_column")

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        if self.key_column:
            keys = frame[self.key_column]
            hits = np.flatnonzero((keys.astype(str) == _text(self.row_key)).to_numpy())
        else:
            hits = np.flatnonzero(np.asarray(frame.index) == self.row_key)
        if len(hits) == 0:
            raise self._fail("recipe.cell_row_missing", column=self.column, row_key=self.row_key,
                             key_column=self.key_column or "row")
        if len(hits) > 1:
            raise self._fail("recipe.cell_row_ambiguous", row_key=self.row_key, key_column=self.key_column,
                             count=len(hits))
        pos = int(hits[0])
        current = frame[self.column].iloc[pos]
        if not _same(current, self.old_value):
            raise self._fail("recipe.cell_stale", column=self.column, row_key=self.row_key,
                             expected=self.old_value, found=None if pd.isna(current) else _plain(current))
        out = frame.copy()
        col = out[self.column]
        new = self.new_value
        if new is not None and column_kind(col.dtype) == "numeric" and not isinstance(new, (int, float)):
            try:
                new = float(new)
            except (TypeError, ValueError):
                raise self._fail("recipe.cell_not_number", column=self.column, value=self.new_value) from None
        if column_kind(col.dtype) == "numeric":
            col = col.astype("float64")
            col.iloc[pos] = np.nan if new is None else float(new)
        else:
            col = col.astype(object)
            col.iloc[pos] = np.nan if new is None else new
            col = col.astype("str").where(col.notna())
        out[self.column] = col
        return out


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _same(current: Any, old: Any) -> bool:
    if old is None:
        return bool(pd.isna(current))
    if pd.isna(current):
        return False
    if isinstance(old, (int, float)) and not isinstance(old, bool):
        try:
            return float(current) == float(old)
        except (TypeError, ValueError):
            return False
    return _text(_plain(current)) == _text(old)


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


@dataclass(frozen=True)
class AggregateTimeSeries(DataStep):
    """Long-format measurements (one row per patient, time, variable, value) summarised to one row
    per patient and joined to the table: per variable first, last, min, max, mean, count and slope
    (change per time unit, least squares) over a window relative to a reference time.

    The window is ``reference + window_start <= time <= reference + window_end``, in the time
    column's units; the reference is 0 (admission) or a per-patient column of the main table (e.g.
    the time of the prediction). Only data inside the window is used, so nothing after the
    prediction time reaches the model.
    """

    kind: ClassVar[str] = "aggregate_timeseries"

    table: str
    id_column: str
    time_column: str
    variable_column: str
    value_column: str
    join_on: str = ""
    window_start: float = 0.0
    window_end: float | None = None
    reference_column: str = ""
    statistics: tuple[str, ...] = TIME_SERIES_STATISTICS
    variables: tuple[str, ...] = ()
    keep: Literal["inner", "left"] = "inner"

    @property
    def key(self) -> str:
        return self.join_on or self.id_column

    def _check_params(self) -> None:
        for name in ("table", "id_column", "time_column", "variable_column", "value_column"):
            if not getattr(self, name):
                raise self._fail("recipe.param_required", param=name)
        for stat in self.statistics:
            self._need_choice("statistics", stat, TIME_SERIES_STATISTICS)
        if not self.statistics:
            raise self._fail("recipe.param_required", param="statistics")
        if self.window_end is not None and self.window_end < self.window_start:
            raise self._fail("recipe.range_inverted", low=self.window_start, high=self.window_end)
        self._need_choice("keep", self.keep, ("inner", "left"))

    def _check_columns(self, schema: dict[str, ColumnKind]) -> None:
        self._need_column(schema, self.key, param="join_on")
        if self.reference_column:
            self._need_column(schema, self.reference_column, param="reference_column", kinds=("numeric",))

    def validate_table(self, tables: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
        if not tables or self.table not in tables:
            raise self._fail("recipe.missing_table", table=self.table,
                             available=", ".join(sorted(tables or {})) or "-")
        long = tables[self.table]
        schema = {str(k): column_kind(v) for k, v in long.dtypes.items()}
        for param in ("id_column", "time_column", "variable_column", "value_column"):
            self._need_column(schema, getattr(self, param), param=param)
        return long

    def _variables(self, long: pd.DataFrame) -> list[str]:
        if self.variables:
            return [str(v) for v in self.variables]
        return sorted(long[self.variable_column].dropna().astype(str).unique())

    def output_schema(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None
                      ) -> dict[str, ColumnKind]:
        schema = super().output_schema(columns)
        if self.variables:
            names = [str(v) for v in self.variables]
        else:
            names = self._variables(self.validate_table(tables))
        for var in names:
            for stat in self.statistics:
                schema[f"{var}_{stat}"] = "numeric"
        return schema

    def apply(self, frame: pd.DataFrame, *, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        long = self.validate_table(tables)
        data = pd.DataFrame({
            "id": long[self.id_column].to_numpy(),
            "var": long[self.variable_column].astype("str").to_numpy(),
            "t": _as_time(long[self.time_column], self),
            "v": pd.to_numeric(long[self.value_column], errors="coerce").to_numpy(dtype="float64"),
        })
        data = data[data["v"].notna() & ~np.isnan(data["t"]) & data["var"].notna()]
        wanted = self._variables(long)
        data = data[data["var"].isin(wanted)]
        if self.reference_column:
            ref = frame[[self.key, self.reference_column]].dropna()
            ref = pd.DataFrame({"id": ref[self.key].to_numpy(),
                                "ref": ref[self.reference_column].astype("float64").to_numpy()})
            data = data.merge(ref.drop_duplicates("id"), on="id", how="inner")
            rel = data["t"] - data["ref"]
        else:
            rel = data["t"]
        inside = rel >= self.window_start
        if self.window_end is not None:
            inside &= rel <= self.window_end
        data = data.loc[inside.to_numpy(), ["id", "var", "t", "v"]]
        wide = _summarise(data, self.statistics)
        columns = [f"{var}_{stat}" for var in wanted for stat in self.statistics]
        wide = wide.reindex(columns=columns)
        for col in columns:
            if col.endswith("_count"):
                wide[col] = wide[col].fillna(0.0)
        has_data = set(data["id"].unique())
        out = frame.copy()
        key = out[self.key]
        joined = wide.reindex(key.to_numpy())
        joined.index = out.index
        for col in columns:
            if col in out.columns:
                raise self._fail("recipe.column_exists", param="variables", column=col)
        out = pd.concat([out, joined[columns].astype("float64")], axis=1)
        if self.keep == "inner":
            out = out.loc[key.isin(has_data).to_numpy()]
        return out

    def exclusion_reason(self) -> str:
        return f"no measurements in {self.table!r} inside the window"

    def exclusion_key(self) -> str:
        return "recipe.flow_no_timeseries"


def _as_time(series: pd.Series, step: Step) -> np.ndarray:
    """Numeric times as they are; dates as minutes since 1970 so windows are in minutes."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64").to_numpy()
    parsed = pd.to_datetime(series, errors="coerce", format="mixed") \
        if not pd.api.types.is_datetime64_any_dtype(series.dtype) else series
    if parsed.notna().sum() < series.notna().sum():
        raise step._fail("recipe.timeseries_time_not_time", column=step.time_column)
    minutes = (parsed - pd.Timestamp("1970-01-01")).dt.total_seconds() / 60.0
    return minutes.to_numpy(dtype="float64", na_value=np.nan)


def _summarise(data: pd.DataFrame, statistics: tuple[str, ...]) -> pd.DataFrame:
    """One row per id, one column per ``{variable}_{statistic}``; vectorised with groupby."""
    data = data.sort_values(["id", "var", "t"], kind="stable")
    grouped = data.groupby(["id", "var"], sort=True)
    parts: dict[str, pd.Series] = {}
    if "first" in statistics:
        parts["first"] = grouped["v"].first()
    if "last" in statistics:
        parts["last"] = grouped["v"].last()
    if "min" in statistics:
        parts["min"] = grouped["v"].min()
    if "max" in statistics:
        parts["max"] = grouped["v"].max()
    if "mean" in statistics:
        parts["mean"] = grouped["v"].mean()
    if "count" in statistics:
        parts["count"] = grouped["v"].count().astype("float64")
    if "slope" in statistics:
        t_mean = grouped["t"].transform("mean")
        v_mean = grouped["v"].transform("mean")
        dt = data["t"] - t_mean
        helper = pd.DataFrame({"id": data["id"], "var": data["var"],
                               "sxy": dt * (data["v"] - v_mean), "sxx": dt * dt})
        sums = helper.groupby(["id", "var"], sort=True)[["sxy", "sxx"]].sum()
        parts["slope"] = (sums["sxy"] / sums["sxx"].where(sums["sxx"] > 0)).astype("float64")
    long = pd.DataFrame(parts)
    wide = long.unstack("var")
    wide.columns = [f"{var}_{stat}" for stat, var in wide.columns]
    return wide
