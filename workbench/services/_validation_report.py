"""The aggregate report of one external validation, and the copy each reader may see.

Free of the database: the job computes a :class:`ValidationReport` from two cohorts' outcomes and
predicted risks (the development holdout and the external cohort), stores it as JSON through the
codec, and the service hands out :func:`for_reader` copies. Everything in it is an aggregate:
curves on fixed grids (no vertex per patient), calibration bins, net benefit on a fixed threshold
grid, subgroup rows whose levels are the development's own categories or cut points, never a value
taken from the external file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from permissions.disclosure import confusion_suppression, threshold_measures_safe
from pipelines import evaluation as ev
from pipelines.evaluation.binary import AT_THRESHOLD
from pipelines.evaluation.external import ColumnIssue, Recalibration, coarsen_pr, coarsen_roc, recalibrate, recalibration
from workbench.services._codec import register
from workbench.services._curve_disclosure import merged_calibration
from workbench.services._evaluate import PartResult
from workbench.services._measure_disclosure import subgroup_measures_shown
from workbench.services._table_disclosure import count_lines, subgroup_lines

__all__ = ["CohortResult", "ValidationReport", "cohort_result", "subgroup_frame", "for_reader", "SMALL_COUNT",
           "OTHER_LEVEL"]

SMALL_COUNT = 5  # counts below this are shown as "<5" to anyone who may not see the rows behind them
OTHER_LEVEL = "(other)"  # an external category the development data did not have (its text is not kept)
AGE_NAMES = ("age", "age_years", "나이", "연령")

register(ColumnIssue)
register(Recalibration)


@register
@dataclass(frozen=True)
class CohortResult:
    """One cohort's discrimination, calibration (with recalibration), net benefit and subgroups."""

    cohort: str  # "development" (the run's holdout) or "external"
    label: str
    part: PartResult
    recalibration: Recalibration
    recalibrated: ev.CalibrationCurve | None = None  # after logistic recalibration (external only; None
    # when the recalibration model has no finite solution, e.g. risks that separate the outcomes perfectly)
    subgroups: ev.SubgroupPerformance | None = None
    hidden_measures: tuple[str, ...] = ()  # measures at the threshold suppressed in this reader's copy

    @property
    def main(self) -> PartResult:
        """So the results page's chart helpers draw a cohort as they draw a model."""
        return self.part

    @property
    def task(self) -> str:
        return "binary"  # only yes/no outcomes are validated


@register
@dataclass(frozen=True)
class ValidationReport:
    run_id: int
    model_id: int
    model_label: str
    target: str
    positive_label: str
    threshold: ev.ThresholdChoice  # chosen on the development out-of-fold predictions, applied unchanged
    development: CohortResult
    external: CohortResult
    n_read: int  # rows in the uploaded file
    n_excluded: int  # rows the recipe's filters or a missing outcome left out
    warnings: tuple[ColumnIssue, ...]  # column warnings the uploader confirmed before starting
    n_resamples: int
    seed: int
    suppressed: tuple[str, ...] = ()  # cohorts whose small counts were suppressed in this copy


def subgroup_frame(frame: pd.DataFrame, columns: Sequence[str], fields: Mapping[str, Any]) -> pd.DataFrame:
    """Subgroup levels of the model inputs ``columns``, defined by the development data alone.

    Age falls into the usual bands; another continuous input is split at the development training
    median; a category the development did not hold becomes ``(other)``. So both cohorts are cut
    at the same points and no level is named after a value of the external file.
    """
    out: dict[str, pd.Series] = {}
    for column in columns:
        field = fields[column]
        series = frame[column].reset_index(drop=True)
        if field.kind == "numeric":
            values = pd.to_numeric(series, errors="coerce")
            if str(column).lower() in AGE_NAMES:
                out[column] = ev.age_bands(values)
                continue
            median = field.train_median
            out[column] = pd.Series(np.where(values.isna(), None, np.where(values < median, f"< {median:g}",
                                                                           f"\u2265 {median:g}")))
        elif field.kind == "binary":
            values = pd.to_numeric(series, errors="coerce")
            out[column] = pd.Series(np.where(values.isna(), None, values.astype("Float64").astype(str)
                                             .str.removesuffix(".0")))
        else:
            known = {str(c) for c in field.categories}
            text = series.astype("string")
            out[column] = pd.Series(np.where(text.isna(), None, np.where(text.isin(known), text, OTHER_LEVEL)))
    return pd.DataFrame(out)


def cohort_result(cohort: str, y: np.ndarray, p: np.ndarray, *, label: str, threshold: ev.ThresholdChoice,
                  subgroups: pd.DataFrame | None, n_resamples: int, seed: int, level: float = 0.95) -> CohortResult:
    """Every number of one side of the report, with bootstrap CIs (recalibration: Wald CIs)."""
    common = dict(n_resamples=n_resamples, seed=seed, level=level)
    part = PartResult(
        part=cohort, n=len(y),
        metrics=ev.binary_metrics(y, p, threshold=threshold, **common),
        roc=coarsen_roc(ev.roc_curve(y, p, label=label, **common)),
        pr=coarsen_pr(ev.pr_curve(y, p, label=label, **common)),
        calibration=ev.calibration_curve(y, p, label=label, **common),
        decision=ev.decision_curve(y, p, label=label),
    )
    fitted = recalibration(y, p, level=level)
    recalibrated = None
    if cohort == "external" and np.isfinite([fitted.slope.value, fitted.slope_intercept]).all():
        recalibrated = ev.calibration_curve(y, recalibrate(p, fitted), label=label, n_resamples=0, seed=seed,
                                            level=level)
    groups = None
    if subgroups is not None and not subgroups.empty:
        groups = ev.subgroup_performance(y, p, subgroups, threshold=threshold.value, **common)
    return CohortResult(cohort=cohort, label=label, part=part, recalibration=fitted, recalibrated=recalibrated,
                        subgroups=groups)


# --------------------------------------------------------------------------- small counts


def _small(n: Any) -> Any:
    return None if isinstance(n, (int, np.integer)) and 0 < n < SMALL_COUNT else n


def _shown(cell: Any) -> Any:
    """A printed count as the report carries it: the number, None for "<5", ``x`` for a complement."""
    return None if isinstance(cell, str) and cell.startswith("<") else cell


def _hide_measures(estimates: Mapping[str, ev.Estimate] | Any, shown: bool) -> dict[str, Any]:
    """The measures at the threshold of a line that would give a small cell away, as NaN (read "NA")."""
    if shown:
        return {}
    return {name: ev.Estimate(float("nan"), float("nan"), float("nan"), estimates[name].level)
            for name in AT_THRESHOLD if name in estimates}


def _subgroups(groups: ev.SubgroupPerformance | None, overall: np.ndarray) -> ev.SubgroupPerformance | None:
    """Small counts, the counts that would give them away among a variable's levels (which add up to
    the cohort's), and the measures at the threshold that would give a small cell away."""
    if groups is None:
        return None
    counts, masks = subgroup_lines(groups, limit=SMALL_COUNT, overall=overall)
    shown = subgroup_measures_shown(groups, masks, limit=SMALL_COUNT)

    def row(r: ev.SubgroupRow, cells: tuple, safe: bool) -> ev.SubgroupRow:
        metrics = {**r.metrics, **_hide_measures(r.metrics, safe)}
        return dataclasses.replace(r, n=_shown(cells[0]), n_positive=_shown(cells[1]), metrics=metrics)

    lines = [row(r, c, k) for r, c, k in zip((groups.overall, *groups.rows), counts, shown)]
    return dataclasses.replace(groups, overall=lines[0], rows=tuple(lines[1:]))


def _suppress(result: CohortResult) -> CohortResult:
    """Counts 1-4 become None ("<5" on the page), small histogram bars are left out, and what would
    give a small count away is hidden too (``x``): the events when the non-events are small, the other
    cell of a confusion row with a small cell, the measures at the threshold (see
    ``_measure_disclosure``) and the complements among subgroup levels."""
    metrics = result.part.metrics
    confusion = metrics.confusion
    (cells,), mask = count_lines(np.array([[metrics.n, metrics.n_positive]]), SMALL_COUNT, column_totals=np.zeros(3, bool))
    n, events = _shown(cells[0]), _shown(cells[1])
    table = confusion.table
    _, hidden = confusion_suppression(table, limit=SMALL_COUNT, rows_shown=(not mask[0][2], not mask[0][1]))
    # the report's matrix is not printed: a hidden cell (small or its row's other one) is None
    hidden_cells = {k: None if hidden[r, c] else int(table[r, c])
                    for k, (r, c) in {"tn": (0, 0), "fp": (0, 1), "fn": (1, 0), "tp": (1, 1)}.items()}
    safe = threshold_measures_safe(table, counts_printed=not mask[0][:2].any(), limit=SMALL_COUNT)
    metrics = dataclasses.replace(metrics, n=n, n_positive=events, confusion=dataclasses.replace(confusion, **hidden_cells),
                                  **_hide_measures(metrics.estimates(), safe))
    # bins of 1-4 merged: a bin's rate with its exact CI gives its size back (zeroing its count hid nothing)
    calibration = merged_calibration(result.part.calibration, limit=SMALL_COUNT)
    part = dataclasses.replace(result.part, n=n, metrics=metrics, calibration=calibration)
    recal = dataclasses.replace(result.recalibration, n=n, n_events=events)
    hidden = () if safe else tuple(name for name in AT_THRESHOLD if name in result.part.metrics.estimates())
    return dataclasses.replace(result, part=part, recalibration=recal,
                               recalibrated=merged_calibration(result.recalibrated, limit=SMALL_COUNT),
                               subgroups=_subgroups(result.subgroups, mask[0]), hidden_measures=hidden)


def for_reader(report: ValidationReport, *, uploader: bool, restricted: bool) -> ValidationReport:
    """The copy one reader sees: the external cohort's small counts are suppressed for everyone
    but its uploader (the owner sees the aggregate report, never the rows), the development
    cohort's for results-only readers (collaborators), as on every collaborator-safe page."""
    suppressed = []
    external, development = report.external, report.development
    counts = {"n_read": report.n_read, "n_excluded": report.n_excluded}
    if not uploader:
        external = _suppress(external)
        counts = {k: _small(v) for k, v in counts.items()}
        suppressed.append("external")
    if restricted:
        development = _suppress(development)
        suppressed.append("development")
    return dataclasses.replace(report, external=external, development=development, suppressed=tuple(suppressed),
                               **counts)
