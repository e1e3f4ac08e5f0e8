"""Risk calculator: one patient's values typed into a form, the model's predicted risk, where that
risk sits on the holdout calibration curve, and which inputs raised or lowered it.

The form is generated from the run itself: its recipe says which raw columns feed the model's
features (derived ones are computed from them by the same data-level steps ``workbench predict``
applies), the training rows give each input's type, categories and range, and the clinical ranges
table gives units. Everything returned is aggregated (bins, min/max, category lists): no patient
row ever leaves this module. The typed row is not stored; the prediction is audited without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import select

from permissions.actions import Action
from permissions.disclosure import SMALL_COUNT_THRESHOLD
from permissions.policy import Actor
from pipelines.errors import EvaluationError, InputError, NotFound, WorkbenchError
from pipelines.evaluation import by_input, calibration_curve, feature_contributions
from pipelines.ingest import range_for_column
from pipelines.recipe import AggregateTimeSeries, DefineOutcome, DropColumns, EditCell, Recipe, prepare
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import DatasetVersion, ModelRow, RecipeVersion, Run
from workbench.services import audit
from workbench.services._access import authorize
from workbench.services._frames import read_dataset_frame
from workbench.services._run_store import load_model_zip
from workbench.services._curve_disclosure import merged_calibration
from workbench.services.results import is_restricted, results_resource

__all__ = ["InputField", "CalculatorForm", "CalibrationBin", "Factor", "RangeFlag", "RiskResult",
           "calculator_form", "predict_risk", "calibration_bins", "MIN_CATEGORY_COUNT"]

#: A category held by fewer training patients than this is not offered (small-cell suppression, as
#: in the collaborator-safe tables): a rare value can point at one patient. Left empty, it is imputed.
MIN_CATEGORY_COUNT = 5


@dataclass(frozen=True)
class InputField:
    """One input of the form: what to ask for and what training looked like (aggregates only)."""

    name: str
    kind: str  # "numeric", "binary" or "categorical"
    unit: str | None
    plausible_low: float | None
    plausible_high: float | None
    train_min: float | None  # the lowest training value; the 5th percentile for a restricted reader
    train_max: float | None  # the highest; the 95th percentile for a restricted reader
    train_median: float | None
    categories: tuple[Any, ...]  # seen in training (binary: the two codes)
    central: bool = False  # train_min/train_max are the middle 90 %, not single patients' extreme values


@dataclass(frozen=True)
class CalculatorForm:
    run_id: int
    project_id: int
    model_id: int
    model_name: str
    task: str
    target: str
    positive_label: Any
    fields: tuple[InputField, ...]


@dataclass(frozen=True)
class CalibrationBin:
    predicted: float  # mean predicted risk of the holdout patients in the bin
    observed: float
    observed_lower: float
    observed_upper: float
    count: int


@dataclass(frozen=True)
class Factor:
    feature: str  # the form input (or derived feature) it belongs to
    contribution: float  # on the model's log-odds scale; > 0 raised the risk


@dataclass(frozen=True)
class RangeFlag:
    name: str
    value: float
    low: float
    high: float
    kind: str  # "outside_training" or "implausible"


@dataclass(frozen=True)
class RiskResult:
    run_id: int
    model_id: int
    model_name: str
    task: str
    risk: float | None  # P(positive) for a binary outcome
    probabilities: dict[str, float]  # every class (multiclass)
    prediction: float | None  # regression
    calibration: tuple[CalibrationBin, ...]  # holdout, binary only
    calibration_bin: int | None  # index into ``calibration`` the risk falls in
    factors: tuple[Factor, ...]  # largest effect first; empty when not explainable
    explained: bool
    explain_method: str | None
    flags: tuple[RangeFlag, ...]


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Context:
    run: Run
    model: ModelRow
    model_name: str
    recipe: Recipe
    raw: pd.DataFrame  # the dataset version, for types and training aggregates only
    raw_train: pd.DataFrame  # raw rows of the training part (never returned)
    prepared: pd.DataFrame
    train_rows: np.ndarray  # positions in ``prepared`` of the training part
    inputs: tuple[str, ...]


def _load(workbench: Workbench, actor: Actor, run_id: int, *, action: Action = Action.MODEL_PREDICT) -> _Context:
    """The run's model, recipe and training aggregates; ``action`` is what the caller does with
    them (external validation reuses this with ``model.validate_external``)."""
    with session_scope(workbench.engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFound("calculator.run_not_found", run_id=run_id)
        session.expunge(run)
    authorize(workbench, actor, action, project_id=run.project_id,
              resource=results_resource(workbench, run.project_id))
    with session_scope(workbench.engine) as session:
        query = select(ModelRow).where(ModelRow.run_id == run_id)
        models = list(session.scalars(query.order_by(ModelRow.rank)))
        version = session.get(RecipeVersion, run.recipe_version_id) if run.recipe_version_id else None
        dataset = session.get(DatasetVersion, version.dataset_version_id) if version is not None else None
        for row in (*models, version, dataset):
            if row is not None:
                session.expunge(row)
    chosen = next((m for m in models if m.id == run.chosen_model_id), models[0] if models else None)
    if chosen is None or not chosen.manifest_sha256:
        raise NotFound("calculator.no_model", run_id=run_id)
    if version is None or dataset is None:
        raise NotFound("calculator.no_recipe", run_id=run_id)
    recipe = Recipe.from_json(version.recipe_json)
    if any(isinstance(s, AggregateTimeSeries) and s.enabled for s in recipe.steps):
        raise InputError("calculator.needs_tables", run_id=run_id)
    raw = read_dataset_frame(workbench, dataset)
    prepared = prepare(recipe, raw).frame
    summary = run.summary or {}
    features = [str(c) for c in summary.get("features", [])]
    train_rows = _train_rows(workbench, run, chosen.id, len(prepared))
    raw_train = raw.loc[prepared.index[train_rows]]
    board = {m.get("model_id"): m for m in summary.get("leaderboard", [])}
    name = str(board.get(chosen.id, {}).get("name", chosen.family))
    inputs = _needed_inputs(recipe, raw, features)
    return _Context(run=run, model=chosen, model_name=name, recipe=recipe, raw=raw, raw_train=raw_train,
                    prepared=prepared, train_rows=train_rows, inputs=inputs)


def _predictions(workbench: Workbench, run: Run, model_id: int) -> pd.DataFrame:
    digest = (run.summary or {}).get("predictions_sha256")
    if not digest:
        raise NotFound("calculator.no_predictions", run_id=run.id)
    import pyarrow.parquet as pq

    return pq.read_table(workbench.store.verified_path(digest), filters=[("model_id", "=", model_id)]).to_pandas()


def _train_rows(workbench: Workbench, run: Run, model_id: int, n_rows: int) -> np.ndarray:
    frame = _predictions(workbench, run, model_id)
    rows = frame.loc[frame["part"] == "train", "row"].to_numpy(dtype=np.int64)
    return rows[(rows >= 0) & (rows < n_rows)]


def _data_steps(recipe: Recipe) -> list[Any]:
    """The data-level steps a new patient goes through: not the outcome (unknown for them), not
    hand edits of one training patient's cell."""
    return [s for s in recipe.steps if s.enabled and s.level == "data" and not isinstance(s, (DefineOutcome, EditCell))]


def _apply(recipe: Recipe, frame: pd.DataFrame) -> pd.DataFrame:
    """The recipe's data-level steps as ``workbench predict`` applies them (absent columns are
    simply not dropped)."""
    current = frame
    for step in _data_steps(recipe):
        if isinstance(step, DropColumns):
            current = current.drop(columns=[c for c in step.columns if c in current.columns])
            continue
        current = step.apply(current)
    return current


def _needed_inputs(recipe: Recipe, raw: pd.DataFrame, features: list[str]) -> tuple[str, ...]:
    """The raw columns without which the model's features cannot be computed, in table order."""
    outcome = recipe.outcome
    candidates = [str(c) for c in raw.columns if str(c) not in (outcome.column, outcome.target,
                                                                recipe.split.group_column, recipe.split.time_column)]
    sample = raw.head(20)[candidates]
    needed = []
    for column in candidates:
        try:
            out = _apply(recipe, sample.drop(columns=[column]))
        except (WorkbenchError, KeyError, ValueError, TypeError):
            needed.append(column)
            continue
        if any(f not in out.columns for f in features):
            needed.append(column)
    return tuple(needed)


def _field(name: str, series: pd.Series, *, restricted: bool = False) -> InputField:
    """What to ask and what training looked like. The lowest and highest training values are single
    patients' values (the oldest patient's age): a restricted reader gets the 5th and 95th percentiles."""
    values = series.dropna()
    clinical = range_for_column(name)
    unit = clinical.unit if clinical is not None else None
    low = clinical.low if clinical is not None else None
    high = clinical.high if clinical is not None else None
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if numeric:
        distinct = sorted(pd.unique(values).tolist())
        if distinct and set(distinct) <= {0, 1}:
            return InputField(name, "binary", None, None, None, None, None, None, (0, 1))
        if not len(values):
            return InputField(name, "numeric", unit, low, high, None, None, None, (), restricted)
        ends = values.quantile([0.05, 0.95]).tolist() if restricted else [values.min(), values.max()]
        return InputField(name, "numeric", unit, low, high, float(ends[0]), float(ends[1]), float(values.median()), (),
                          restricted)
    counts = values.astype(str).value_counts()
    seen = sorted(str(v) for v, n in counts.items() if n >= MIN_CATEGORY_COUNT)
    return InputField(name, "categorical", None, None, None, None, None, None, tuple(seen))


def _fields(context: _Context, actor: Actor) -> tuple[InputField, ...]:
    restricted = is_restricted(actor, context.run.project_id)  # may not see patient rows here
    return tuple(_field(name, context.raw_train[name], restricted=restricted) for name in context.inputs)


# --------------------------------------------------------------------------- public


def calculator_form(workbench: Workbench, actor: Actor, run_id: int) -> CalculatorForm:
    """The form for one patient: the inputs the model needs, typed, with units and ranges."""
    context = _load(workbench, actor, run_id)
    summary = context.run.summary or {}
    fields = _fields(context, actor)
    return CalculatorForm(run_id=context.run.id, project_id=context.run.project_id, model_id=context.model.id,
                          model_name=context.model_name, task=str(summary.get("task", "")),
                          target=str(summary.get("target", "")), positive_label=summary.get("positive_label"),
                          fields=fields)


def _typed_row(context: _Context, fields: tuple[InputField, ...], values: Mapping[str, Any]) -> pd.DataFrame:
    unknown = sorted(set(values) - set(context.inputs))
    if unknown:
        raise InputError("calculator.unknown_input", name=str(unknown[0])[:80])
    data: dict[str, pd.Series] = {}
    for field in fields:
        value = values.get(field.name)
        dtype = context.raw[field.name].dtype
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            data[field.name] = pd.Series([None], dtype=dtype if field.kind == "categorical" else "float64")
            continue
        if field.kind == "categorical":
            if str(value) not in field.categories:
                raise InputError("calculator.unknown_category", name=field.name, value=str(value)[:80],
                                 allowed=", ".join(map(str, field.categories[:15])))
            original = next(v for v in context.raw_train[field.name].dropna().tolist() if str(v) == str(value))
            data[field.name] = pd.Series([original], dtype=dtype)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError("calculator.not_a_number", name=field.name, value=str(value)[:80]) from None
        if not math.isfinite(number) or field.kind == "binary" and number not in (0.0, 1.0):
            raise InputError("calculator.not_a_number", name=field.name, value=str(value)[:80])
        data[field.name] = pd.Series([number], dtype="float64")
    return pd.DataFrame(data)


def _flags(fields: tuple[InputField, ...], row: pd.DataFrame) -> tuple[RangeFlag, ...]:
    out = []
    for field in fields:
        if field.kind != "numeric":
            continue
        value = row[field.name].iloc[0]
        if pd.isna(value):
            continue
        value = float(value)
        if field.plausible_low is not None and not field.plausible_low <= value <= field.plausible_high:
            out.append(RangeFlag(field.name, value, field.plausible_low, field.plausible_high, "implausible"))
        elif field.train_min is not None and not field.train_min <= value <= field.train_max:
            out.append(RangeFlag(field.name, value, field.train_min, field.train_max,
                                 "outside_central" if field.central else "outside_training"))
    return tuple(out)


def calibration_bins(y: np.ndarray, p: np.ndarray, risk: float, *, limit: int = 0
                     ) -> tuple[tuple[CalibrationBin, ...], int | None]:
    """The holdout calibration bins and the one nearest ``risk``. ``limit`` (a restricted reader): bins of
    1 to ``limit - 1`` patients merged with a neighbour, since a bin's observed rate with its exact
    interval gives its size back (``_curve_disclosure.merged_calibration``)."""
    curve = merged_calibration(calibration_curve(y, p, n_bins=10, n_resamples=100, seed=0), limit=limit)
    bins = tuple(CalibrationBin(float(x), float(o), float(lo), float(hi), int(n)) for x, o, lo, hi, n in zip(
        curve.predicted, curve.observed, curve.observed_lower, curve.observed_upper, curve.counts))
    # the bin whose mean prediction is nearest the new patient's risk
    index = int(np.argmin([abs(b.predicted - risk) for b in bins])) if bins else None
    return bins, index


def _calibration(workbench: Workbench, context: _Context, risk: float, *, limit: int
                 ) -> tuple[tuple[CalibrationBin, ...], int | None]:
    frame = _predictions(workbench, context.run, context.model.id)
    holdout = frame[(frame["part"] == "test") & frame["probability"].notna()]
    if len(holdout) < 20 or holdout["y_true"].nunique() < 2:
        return (), None
    return calibration_bins(holdout["y_true"].to_numpy().astype(int), holdout["probability"].to_numpy(), risk,
                            limit=limit)


def _factors(context: _Context, model: Any, X_row: pd.DataFrame, features: list[str]
             ) -> tuple[tuple[Factor, ...], str | None]:
    """Contributions of the typed row, summed back onto the model's features (one-hot columns and
    missing indicators are traced to their input by ``pipelines.evaluation``).

    The row is explained together with the training rows so that a linear model's contributions
    are measured from the training average (as they are on the results page), not from itself.
    """
    X_train = context.prepared.iloc[context.train_rows][features]
    both = pd.concat([X_train, X_row[features]], ignore_index=True)
    try:
        contributions = feature_contributions(model, both)
    except EvaluationError:  # an ensemble, isotonic calibration, a forest: the page says so
        return (), None
    ordered = sorted(by_input(contributions, len(both) - 1).items(), key=lambda kv: -abs(kv[1]))
    return tuple(Factor(k, v) for k, v in ordered), contributions.method


def predict_risk(workbench: Workbench, actor: Actor, *, run_id: int, values: Mapping[str, Any]) -> RiskResult:
    """The model's prediction for one typed-in patient (the values are neither stored nor audited)."""
    context = _load(workbench, actor, run_id)
    fields = _fields(context, actor)
    row = _typed_row(context, fields, values)
    summary = context.run.summary or {}
    features = [str(c) for c in summary.get("features", [])]
    prepared = _apply(context.recipe, row)
    if len(prepared) != 1:
        raise InputError("calculator.outside_cohort")
    missing = [f for f in features if f not in prepared.columns]
    if missing:
        raise InputError("calculator.missing_features", columns=", ".join(missing[:10]))
    X = prepared[features]
    loaded = load_model_zip(workbench.store, context.model.manifest_sha256)
    task = loaded.task
    risk = prediction = None
    probabilities: dict[str, float] = {}
    bins: tuple[CalibrationBin, ...] = ()
    where: int | None = None
    factors: tuple[Factor, ...] = ()
    method = None
    if task == "regression":
        prediction = float(np.ravel(loaded.model.predict(X))[0])
    else:
        proba = np.asarray(loaded.model.predict_proba(X), dtype=float)[0]
        probabilities = {str(c): float(p) for c, p in zip(loaded.classes, proba)}
        if task == "binary":
            risk = float(proba[1])
            restricted = is_restricted(actor, context.run.project_id)  # may not see patient rows here
            bins, where = _calibration(workbench, context, risk, limit=SMALL_COUNT_THRESHOLD if restricted else 0)
    if task != "multiclass":
        factors, method = _factors(context, loaded.model, X, features)
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="model.predict",
                     outcome="succeeded", resource_type="model", resource_id=context.model.id,
                     project_id=context.run.project_id, details={"run_id": context.run.id, "n_inputs": len(fields)})
    return RiskResult(run_id=context.run.id, model_id=context.model.id, model_name=context.model_name, task=task,
                      risk=risk, probabilities=probabilities, prediction=prediction, calibration=bins,
                      calibration_bin=where, factors=factors, explained=bool(factors), explain_method=method,
                      flags=_flags(fields, row))
