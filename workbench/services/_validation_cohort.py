"""An external cohort read, checked and put through the model, in memory only.

Used twice with the same bytes: on the web server when the user uploads (so every problem with
the file is told at once, with its values, to the user who owns them) and again in the ``validate``
job on a Dask worker (which therefore meets no new problem, and has nothing of the file to write
into the job's error message). Nothing here stores anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import InputError
from pipelines.evaluation.external import ColumnReport, ExpectedColumn, compare_columns
from pipelines.ingest import ReadOptions, read_table
from workbench.context import Workbench
from workbench.services import calculator
from workbench.services._run_store import load_model_zip

__all__ = ["ModelInputs", "Examined", "expected_columns", "examine", "check_subgroups", "MIN_PER_CLASS"]

#: Fewer patients with (or without) the outcome than this give no usable estimate, and could single
#: out a patient in the owner's report.
MIN_PER_CLASS = 10


@dataclass(frozen=True)
class ModelInputs:
    """What the model needs from a cohort (aggregates of the development data only)."""

    context: Any  # calculator._Context: the run, model, recipe and training rows (never returned)
    fields: Mapping[str, calculator.InputField]
    outcome_column: str
    target: str
    positive_label: Any
    model_label: str


@dataclass(frozen=True, eq=False)
class Examined:
    columns: ColumnReport
    n_read: int
    file_columns: tuple[str, ...] = ()
    frame: pd.DataFrame | None = None  # the cohort under the model's column names, rows used only
    y: np.ndarray | None = None
    p: np.ndarray | None = None

    @property
    def n_used(self) -> int:
        return 0 if self.y is None else len(self.y)

    @property
    def n_events(self) -> int:
        return 0 if self.y is None else int(self.y.sum())


def expected_columns(inputs: ModelInputs) -> list[ExpectedColumn]:
    return [ExpectedColumn(f.name, f.kind, f.train_min, f.train_max, f.train_median,
                           tuple(str(c) for c in f.categories), f.central) for f in inputs.fields.values()]


def _renamed(frame: pd.DataFrame, renames: Mapping[str, str], inputs: ModelInputs) -> pd.DataFrame:
    out = frame.copy()
    for target, source in renames.items():
        if target not in inputs.fields:
            raise InputError("validation.rename_unknown_input", name=str(target)[:80])
        if source not in frame.columns:
            raise InputError("validation.rename_unknown_column", name=str(source)[:80])
        out[target] = frame[source]
        if source not in inputs.fields and source != inputs.outcome_column:
            out = out.drop(columns=[source])
    return out


def _positive(values: pd.Series, positive: Any) -> np.ndarray:
    if isinstance(positive, (int, float, np.number)) and not isinstance(positive, bool):
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().all():
            return (numbers == positive).to_numpy()
    return (values.astype(str) == str(positive)).to_numpy()


def _outcome(inputs: ModelInputs, frame: pd.DataFrame) -> pd.Series:
    """The outcome as the recipe defines it (rows without one are left out, as in development)."""
    step = inputs.context.recipe.outcome
    try:
        defined = step.apply(frame)[step.target]
    except (KeyError, ValueError, TypeError):
        raise InputError("validation.outcome_unreadable", column=inputs.outcome_column) from None
    classes = [str(c) for c in (inputs.context.run.summary or {}).get("classes", [])]
    if classes:
        text = defined.astype(str)
        numeric = pd.to_numeric(defined, errors="coerce")
        known = text.isin(classes) | (numeric.notna() & numeric.isin(pd.to_numeric(pd.Series(classes), errors="coerce")))
        if not known.all():
            raise InputError("validation.outcome_values", column=inputs.outcome_column,
                             expected=", ".join(classes), count=int((~known).sum()))
    return defined


def examine(workbench: Workbench, inputs: ModelInputs, *, data: bytes, filename: str,
            renames: Mapping[str, str] | None = None) -> Examined:
    """Read the file as ingest does, check its columns, and (when they fit) predict every row."""
    options = ReadOptions(max_bytes=workbench.settings.max_upload_mb * 2**20)
    raw = read_table(data, filename=filename, options=options).frame
    renames = dict(renames or {})
    report = compare_columns(expected_columns(inputs), raw, outcome=inputs.outcome_column, renames=renames)
    if not report.usable:
        return Examined(columns=report, n_read=len(raw), file_columns=tuple(map(str, raw.columns)))
    frame = _renamed(raw, renames, inputs)
    recipe = inputs.context.recipe
    try:
        prepared = calculator._apply(recipe, frame)
    except (KeyError, ValueError, TypeError):
        raise InputError("validation.recipe_failed") from None
    summary = inputs.context.run.summary or {}
    features = [str(c) for c in summary.get("features", [])]
    missing = [f for f in features if f not in prepared.columns]
    if missing:
        raise InputError("validation.missing_features", columns=", ".join(missing[:10]))
    outcome = _outcome(inputs, frame)
    rows = prepared.index.intersection(outcome.index)
    if len(rows) == 0:
        raise InputError("validation.no_rows_left")
    y = _positive(outcome.loc[rows], inputs.positive_label).astype(int)
    events = int(y.sum())
    if min(events, len(y) - events) < MIN_PER_CLASS:
        raise InputError("validation.too_few", n=len(y), events=events, minimum=MIN_PER_CLASS)
    loaded = load_model_zip(workbench.store, inputs.context.model.manifest_sha256)
    p = np.asarray(loaded.model.predict_proba(prepared.loc[rows, features]), dtype=float)[:, 1]
    kept = frame.loc[rows, [c for c in (*inputs.fields, inputs.outcome_column) if c in frame.columns]]
    return Examined(columns=report, n_read=len(raw), file_columns=tuple(map(str, raw.columns)),
                    frame=kept.reset_index(drop=True), y=y, p=p)


def check_subgroups(columns: Sequence[str], inputs: ModelInputs) -> tuple[str, ...]:
    unknown = [c for c in columns if c not in inputs.fields]
    if unknown:
        raise InputError("validation.unknown_subgroup", column=str(unknown[0])[:80],
                         allowed=", ".join(inputs.fields))
    return tuple(columns)
