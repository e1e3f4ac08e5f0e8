"""The data-level step that turns a long table of timed measurements into one row per patient."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from pipelines.recipe._base import ColumnKind, Step, column_kind
from pipelines.recipe._data_steps import DataStep

__all__ = ["AggregateTimeSeries", "TIME_SERIES_STATISTICS"]

TIME_SERIES_STATISTICS: tuple[str, ...] = ("first", "last", "min", "max", "mean", "count", "slope")


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
