"""The review step: what a recipe does to its dataset version, shown before anyone may approve it.

A preview runs the recipe's data-level steps on the stored dataset version, reports rows and
columns before and after each step (the cohort flow), the columns whose values changed (with
before/after distributions), and the review warnings. Approval goes through
:func:`approve_version`, which recomputes the warnings on the server so the page cannot approve
with fewer acknowledgements than the data calls for.

Other tables (the long time series of an ``aggregate_timeseries`` step) are dataset versions of
the same project. A step's ``table`` names one of them as ``v<N>`` (dataset version N of the
project, immutable, which is what the review page writes) or by its file label, with or without
the extension (``physionet2012_seta_timeseries_long_first1000`` matches the upload
``physionet2012_seta_timeseries_long_first1000.csv.gz``; the newest version with that label wins).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select

from permissions.actions import Action
from permissions.policy import Actor
from pipelines.errors import InputError, NotFound, RecipeError, WorkbenchError
from pipelines.figures import cohort_flow_figure, figure_style, render
from pipelines.recipe import (
    AggregateTimeSeries,
    ConvertUnits,
    DefineOutcome,
    DeriveColumn,
    DropColumns,
    EditCell,
    FilterRows,
    MergeCategories,
    OrderCategories,
    PlausibleRange,
    Prepared,
    Recipe,
    RecodeCategories,
    RenameColumn,
    ReviewWarning,
    Step,
    build_preprocessor,
    column_kind,
    prepare,
    review,
    suggest_recipe,
)
from pipelines.recipe import FlowStep as RecipeFlowStep
from pipelines.figures import FlowStep as FigureFlowStep
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import DatasetVersion
from workbench.i18n import t
from workbench.services import recipes
from workbench.services._access import authorize
from workbench.services._frames import read_dataset_frame
from workbench.services._recipe_meta import remember, training_meta

__all__ = [
    "Distribution",
    "ColumnChange",
    "Preview",
    "warning_id",
    "warning_text",
    "review_frame",
    "resolve_tables",
    "load_tables",
    "preview",
    "preview_version",
    "suggest",
    "approve_version",
    "prepared_rows",
    "describe_step",
    "flow_labels",
    "flow_figure",
]

_BINS = 20
_TOP_LABELS = 12


@dataclass(frozen=True)
class Distribution:
    """One column's values in a form a chart can draw without the rows: a histogram on edges
    shared with its before/after partner (numbers) or the most frequent labels (categories)."""

    kind: Literal["numeric", "categorical"]
    count: int
    missing: int
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    label_counts: tuple[int, ...] = ()
    mean: float | None = None
    median: float | None = None


@dataclass(frozen=True)
class ColumnChange:
    """A column the data-level steps added, removed or whose values they changed."""

    column: str
    change: Literal["changed", "added", "removed"]
    before: Distribution | None
    after: Distribution | None
    cells_changed: int = 0


@dataclass(frozen=True)
class Preview:
    """The recipe run on its dataset version: what the reviewer looks at before approving."""

    recipe: Recipe
    prepared: Prepared
    warnings: tuple[ReviewWarning, ...]
    changes: tuple[ColumnChange, ...]
    rows_in: int
    columns_in: int
    dataset_version_id: int | None = None
    tables: Mapping[str, int] = field(default_factory=dict)
    model_problem: WorkbenchError | None = None

    @property
    def warning_ids(self) -> tuple[str, ...]:
        return tuple(warning_id(w) for w in self.warnings)


def warning_id(warning: ReviewWarning) -> str:
    """A stable name for one warning (what an approval records as acknowledged)."""
    return warning.key.split(".", 1)[-1].removeprefix("warn_") + (":" + ",".join(warning.columns) if warning.columns else "")


def warning_text(warning: ReviewWarning, lang: str = "en") -> str:
    params = dict(warning.params)
    if warning.key == "recipe.warn_leak_name" and "reason" in params:
        params["reason"] = t(f"recipe.reason_{params['reason']}", lang)
    return t(warning.key, lang, **params)


# -- the pure part, shared with ``workbench recipe suggest`` --------------------------------------

def review_frame(
    frame: pd.DataFrame, recipe: Recipe, *, tables: Mapping[str, pd.DataFrame] | None = None,
    identifier_columns: Iterable[str] = (), dataset_version_id: int | None = None,
    table_versions: Mapping[str, int] | None = None,
) -> Preview:
    """Prepare ``frame`` with ``recipe`` and collect everything the review screen shows."""
    prepared = prepare(recipe, frame, tables=tables)
    warnings = review(frame, prepared, identifier_columns=identifier_columns)
    try:
        build_preprocessor(recipe, prepared)
        problem = None
    except RecipeError as error:
        problem = error
    return Preview(recipe=recipe, prepared=prepared, warnings=warnings, changes=_changes(frame, prepared.frame),
                   rows_in=len(frame), columns_in=frame.shape[1], dataset_version_id=dataset_version_id,
                   tables=dict(table_versions or {}), model_problem=problem)


def _changes(before: pd.DataFrame, after: pd.DataFrame) -> tuple[ColumnChange, ...]:
    out: list[ColumnChange] = []
    kept = before.loc[before.index.isin(after.index)]
    for col in after.columns:
        new = after[col]
        if col not in before.columns:
            out.append(ColumnChange(str(col), "added", None, _distribution(new)))
            continue
        old = kept[col].reindex(after.index)
        differs = _differs(old, new)
        if differs:
            b, a = _pair(before[col], new)
            out.append(ColumnChange(str(col), "changed", b, a, cells_changed=differs))
    for col in before.columns:
        if col not in after.columns:
            out.append(ColumnChange(str(col), "removed", _distribution(before[col]), None))
    return tuple(out)


def _differs(old: pd.Series, new: pd.Series) -> int:
    if column_kind(old.dtype) == "numeric" and column_kind(new.dtype) == "numeric":
        a = pd.to_numeric(old, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        b = pd.to_numeric(new, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        return int((~same).sum())
    a = old.astype(object).where(old.notna(), None).map(lambda v: None if v is None else str(v))
    b = new.astype(object).where(new.notna(), None).map(lambda v: None if v is None else str(v))
    return int((a.to_numpy() != b.to_numpy()).sum())


def _pair(before: pd.Series, after: pd.Series) -> tuple[Distribution, Distribution]:
    if column_kind(before.dtype) == "numeric" and column_kind(after.dtype) == "numeric":
        values = pd.concat([pd.to_numeric(before, errors="coerce"), pd.to_numeric(after, errors="coerce")]).dropna()
        edges = _edges(values)
        return _distribution(before, edges), _distribution(after, edges)
    return _distribution(before), _distribution(after)


def _edges(values: pd.Series) -> np.ndarray:
    if values.empty:
        return np.array([0.0, 1.0])
    low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, _BINS + 1)


def _distribution(series: pd.Series, edges: np.ndarray | None = None) -> Distribution:
    missing = int(series.isna().sum())
    if column_kind(series.dtype) == "numeric":
        values = pd.to_numeric(series, errors="coerce").dropna().astype("float64")
        edges = _edges(values) if edges is None else edges
        counts, _ = np.histogram(values.to_numpy(), bins=edges)
        return Distribution("numeric", len(series), missing, tuple(float(e) for e in edges),
                            tuple(int(c) for c in counts),
                            mean=float(values.mean()) if len(values) else None,
                            median=float(values.median()) if len(values) else None)
    counts = series.dropna().astype(str).value_counts()
    top = counts.head(_TOP_LABELS)
    return Distribution("categorical", len(series), missing, labels=tuple(top.index),
                        label_counts=tuple(int(c) for c in top.to_numpy()))


# -- tables of the same project --------------------------------------------------------------

_VERSION_REF = re.compile(r"^v(\d+)$")


def _table_names(recipe: Recipe) -> list[str]:
    return sorted({s.table for s in recipe.steps if s.enabled and isinstance(s, AggregateTimeSeries)})


def _stem(label: str) -> str:
    name = PurePath(label).name
    for suffix in (".gz", ".bz2", ".zip", ".xz"):
        name = name.removesuffix(suffix)
    return name.rsplit(".", 1)[0] if "." in name else name


def resolve_tables(
    workbench: Workbench, actor: Actor, *, project_id: int, recipe: Recipe, tables: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Map each ``aggregate_timeseries`` table name to a dataset version id of the same project.

    Explicit ``tables`` (name -> dataset version id) win; otherwise ``v<N>`` is version N and any
    other name matches a version's file label with or without extension (newest first).
    """
    authorize(workbench, actor, Action.DATASET_VIEW_PROFILE, project_id=project_id)
    names = _table_names(recipe)
    if not names:
        return {}
    with session_scope(workbench.engine) as session:
        versions = list(session.scalars(select(DatasetVersion).where(DatasetVersion.project_id == project_id)
                                        .order_by(DatasetVersion.version.desc())))
        rows = [(v.id, v.version, v.label) for v in versions]
    by_id = {vid: (number, label) for vid, number, label in rows}
    resolved: dict[str, int] = {}
    for name in names:
        chosen = (tables or {}).get(name)
        if chosen is not None:
            if chosen not in by_id:
                raise NotFound("datasets.not_found", version_id=chosen)
            resolved[name] = chosen
            continue
        match = _VERSION_REF.match(name.strip())
        hits = [vid for vid, number, label in rows
                if (match and number == int(match.group(1))) or (not match and name in {label, _stem(label)})]
        if not hits:
            raise RecipeError("recipe.missing_table", kind="aggregate_timeseries", table=name,
                              available=", ".join(f"v{n} ({label})" for _, n, label in rows) or "-")
        resolved[name] = hits[0]
    return resolved


def load_tables(
    workbench: Workbench, actor: Actor, *, project_id: int, recipe: Recipe, tables: Mapping[str, int] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """The other tables a recipe needs, read from their verified Parquet (for preview and training)."""
    resolved = resolve_tables(workbench, actor, project_id=project_id, recipe=recipe, tables=tables)
    if resolved:
        authorize(workbench, actor, Action.DATASET_VIEW_ROWS, project_id=project_id)
    frames: dict[str, pd.DataFrame] = {}
    with session_scope(workbench.engine) as session:
        for name, vid in resolved.items():
            row = session.get(DatasetVersion, vid)
            if row is None or row.project_id != project_id:
                raise NotFound("datasets.not_found", version_id=vid)
            session.expunge(row)
            frames[name] = read_dataset_frame(workbench, row)
    return frames, resolved


# -- services -------------------------------------------------------------------------------------

def _dataset(workbench: Workbench, dataset_version_id: int) -> DatasetVersion:
    with session_scope(workbench.engine) as session:
        row = session.get(DatasetVersion, dataset_version_id)
        if row is not None:
            session.expunge(row)
    if row is None:
        raise NotFound("datasets.not_found", version_id=dataset_version_id)
    return row


def _identifier_columns(dataset: DatasetVersion) -> list[str]:
    return [c for c, r in (dataset.column_flags or {}).items() if (r or {}).get("decision") != "drop"]


def preview(
    workbench: Workbench, actor: Actor, *, dataset_version_id: int, recipe: Recipe, tables: Mapping[str, int] | None = None,
) -> Preview:
    """Run a (saved or draft) recipe on a dataset version; needs ``recipe.preview`` and row access,
    because the preview shows the prepared rows."""
    dataset = _dataset(workbench, dataset_version_id)
    authorize(workbench, actor, Action.RECIPE_PREVIEW, project_id=dataset.project_id)
    authorize(workbench, actor, Action.DATASET_VIEW_ROWS, project_id=dataset.project_id)
    frames, resolved = load_tables(workbench, actor, project_id=dataset.project_id, recipe=recipe, tables=tables)
    frame = read_dataset_frame(workbench, dataset)
    return review_frame(frame, recipe, tables=frames, identifier_columns=_identifier_columns(dataset),
                        dataset_version_id=dataset.id, table_versions=resolved)


def preview_version(workbench: Workbench, actor: Actor, recipe_version_id: int) -> Preview:
    row, recipe = recipes.get_version(workbench, actor, recipe_version_id)
    return preview(workbench, actor, dataset_version_id=row.dataset_version_id, recipe=recipe)


def suggest(workbench: Workbench, actor: Actor, *, dataset_version_id: int, target: str | None = None) -> Recipe:
    """The suggested recipe for a dataset version (the physician edits it before saving)."""
    dataset = _dataset(workbench, dataset_version_id)
    authorize(workbench, actor, Action.RECIPE_EDIT, project_id=dataset.project_id)
    frame = read_dataset_frame(workbench, dataset)
    return suggest_recipe(frame, target=target or None, identifier_columns=_identifier_columns(dataset))


def approve_version(workbench: Workbench, actor: Actor, *, recipe_version_id: int,
                    acknowledged: Iterable[str] = ()) -> int:
    """Approve a saved version after acknowledging every warning its preview raises now.

    The warnings are recomputed here, on the stored version and dataset, so approval never rests
    on what a browser sent. A recipe whose model-level steps cannot be compiled is not approvable.
    """
    row, _ = recipes.get_version(workbench, actor, recipe_version_id)
    authorize(workbench, actor, Action.RECIPE_APPROVE, project_id=row.project_id)
    shown = preview_version(workbench, actor, recipe_version_id)
    if shown.model_problem is not None:
        raise shown.model_problem
    approval_id = recipes.approve(workbench, actor, recipe_version_id=recipe_version_id, acknowledged=list(acknowledged),
                                  required_acknowledgements=list(shown.warning_ids))
    try:  # the table was just prepared for the review: training's page will not prepare it again
        computed = training_meta(shown.recipe, shown.prepared)
    except WorkbenchError:  # a split the data cannot make: training reports it when it is asked for
        return approval_id
    dataset = _dataset(workbench, row.dataset_version_id)
    remember(workbench, recipe_sha256=row.content_sha256, dataset_sha256=dataset.parquet_sha256, computed=computed)
    return approval_id


def prepared_rows(shown: Preview, *, offset: int = 0, limit: int = 50, sort_by: str | None = None,
                  descending: bool = False) -> tuple[pd.DataFrame, int]:
    """One page of the prepared table (the row label is the uploaded row number)."""
    frame = shown.prepared.frame
    if sort_by:
        if sort_by not in frame.columns:
            raise InputError("review.unknown_sort_column", column=sort_by)
        frame = frame.sort_values(sort_by, ascending=not descending, kind="stable", na_position="last")
    offset = max(0, int(offset))
    return frame.iloc[offset: offset + max(1, int(limit))], len(frame)


# -- plain words ------------------------------------------------------------------------------

def _cols(step: Step, lang: str) -> str:
    columns = getattr(step, "columns", ())
    return ", ".join(columns) if columns else t("review.words.all_columns", lang)


def _pairs(mapping: Iterable[tuple[Any, Any]]) -> str:
    return ", ".join(f"{a} → {b}" for a, b in mapping)


def describe_step(step: Step, lang: str = "en") -> str:
    """One step in plain words, for the step list, the diff and ``workbench recipe suggest``."""
    kind = step.kind
    if isinstance(step, DefineOutcome):
        if step.expression:
            return t("review.step.outcome_condition", lang, target=step.target, expression=step.expression,
                     column=step.column)
        if step.mapping:
            return t("review.step.outcome_mapping", lang, target=step.target, column=step.column,
                     mapping=_pairs(step.mapping))
        return t("review.step.outcome", lang, column=step.column)
    if isinstance(step, FilterRows):
        return t("review.step.filter_rows", lang, expression=step.expression, reason=step.reason or "—")
    if isinstance(step, DropColumns):
        note = t(f"review.note.{step.note.replace(' ', '_')}", lang) if step.note in _NOTES else (step.note or "—")
        key = "review.step.drop_column" if len(step.columns) == 1 else "review.step.drop_columns"
        return t(key, lang, columns=", ".join(step.columns), note=note)
    if isinstance(step, DeriveColumn):
        return t("review.step.derive_column", lang, name=step.name, expression=step.expression)
    if isinstance(step, RecodeCategories):
        return t("review.step.recode", lang, column=step.column, mapping=_pairs(step.mapping))
    if isinstance(step, MergeCategories):
        return t("review.step.merge_categories", lang, column=step.column,
                 labels=", ".join(map(str, step.labels)), into=step.into)
    if isinstance(step, OrderCategories):
        return t("review.step.order_categories", lang, column=step.column, order=" < ".join(map(str, step.order)))
    if isinstance(step, ConvertUnits):
        return t("review.step.convert_units", lang, column=step.column, factor=step.factor, offset=step.offset,
                 unit=step.unit or "—")
    if isinstance(step, PlausibleRange):
        parts = []
        if step.low is not None:
            parts.append(t("review.words.below", lang, value=step.low))
        if step.high is not None:
            parts.append(t("review.words.above", lang, value=step.high))
        if step.missing_codes:
            parts.append(t("review.words.equal_to", lang, value=", ".join(f"{c:g}" for c in step.missing_codes)))
        return t("review.step.plausible_range", lang, column=step.column, rule=" / ".join(parts))
    if isinstance(step, EditCell):
        return t("review.step.edit_cell", lang, column=step.column, row=step.row_key,
                 key=step.key_column or t("review.words.row_number", lang), old=_blank(step.old_value),
                 new=_blank(step.new_value))
    if isinstance(step, RenameColumn):
        return t("review.step.rename_column", lang, column=step.column, new_name=step.new_name)
    if isinstance(step, AggregateTimeSeries):
        return t("review.step.aggregate_timeseries", lang, table=step.table, statistics=", ".join(step.statistics),
                 start=f"{step.window_start:g}", end="∞" if step.window_end is None else f"{step.window_end:g}",
                 time=step.time_column, key=step.key,
                 variables=", ".join(step.variables) or t("review.words.all_variables", lang))
    params: dict[str, Any] = {"columns": _cols(step, lang)}
    for name in ("numeric", "categorical", "method"):
        if hasattr(step, name):
            params[name] = t(f"review.choice.{getattr(step, name)}", lang)
    if kind == "impute":
        params["indicator"] = t("review.words.with_indicator" if step.add_indicator else "review.words.no_indicator",
                                lang)
    for name in ("lower", "upper", "min_fraction", "label"):
        if hasattr(step, name):
            params[name] = getattr(step, name)
    return t(f"review.step.{kind}", lang, **params)


_NOTES = ("identifiers", "recorded after the outcome", "constant")


def _blank(value: Any) -> str:
    return "∅" if value is None else str(value)


# -- cohort flow ----------------------------------------------------------------------------------

def flow_labels(shown: Preview, lang: str = "en") -> list[dict[str, Any]]:
    """Rows and columns before and after each data-level step, with the reason for exclusions."""
    out = []
    for item in shown.prepared.cohort_flow:
        step = shown.recipe.steps[item.step - 1]
        out.append({"step": item.step, "what": describe_step(step, lang), "rows_in": item.rows_in,
                    "rows_out": item.rows_out, "excluded": item.excluded, "columns_in": item.columns_in,
                    "columns_out": item.columns_out, "reason": _reason(step, item, lang)})
    return out


def _reason(step: Step, item: RecipeFlowStep, lang: str) -> str:
    if not item.excluded:
        return ""
    if isinstance(step, FilterRows) and step.reason:
        return step.reason
    return t(item.reason_key, lang) if item.reason_key else item.reason


def flow_figure(shown: Preview, *, lang: str = "en", fmt: str = "png", dpi: int = 300) -> bytes:
    """The CONSORT-style cohort flow as an exportable figure (the app previews these PNG bytes)."""
    rows = flow_labels(shown, lang)
    steps = [FigureFlowStep(label=t("review.flow.uploaded", lang), n_in=shown.rows_in)]
    for row in rows:
        if row["excluded"]:
            steps.append(FigureFlowStep(label=row["what"], n_in=row["rows_in"], n_excluded=row["excluded"],
                                        reason=row["reason"]))
    figure = cohort_flow_figure(steps, style=figure_style("single", lang),
                                final_label=t("review.flow.analysed", lang))
    return render(figure, fmt=fmt, dpi=dpi)
