"""External validation: does another hospital's table fit the model, and how well calibrated is the
model on it.

Two questions come before any metric. First, whether the cohort has the model's inputs: a column
that is missing, looks renamed (``Serum Creatinine`` for ``serum_creatinine``), holds another type
(text where numbers are expected), or holds numbers on another scale (creatinine in umol/L where
the model learnt mg/dL: every value about 88 times larger) would silently give wrong risks, so
:func:`compare_columns` names each such column. Second, after the metrics, recalibration
(Van Calster et al., J Clin Epidemiol 2016; Steyerberg, Clinical Prediction Models, ch. 15):
calibration-in-the-large (the intercept with the slope fixed at 1: are risks too high or too low on
average) and the calibration slope (are they too extreme), each with a Wald confidence interval,
and the recalibrated risks a site would use.

Only aggregates leave this module: shares, ratios rounded to a conversion factor, coefficients.
No value of the external cohort is returned (a minimum or maximum would be one patient's value).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.optimize import minimize
from scipy.stats import norm

from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import Estimate, as_binary_arrays
from pipelines.evaluation.curves import PrCurve, RocCurve
from pipelines.ingest import range_for_column

__all__ = [
    "ExpectedColumn", "ColumnIssue", "ColumnReport", "compare_columns", "UNIT_FACTORS",
    "Recalibration", "recalibration", "recalibrate",
    "coarsen_roc", "coarsen_pr",
    "OUT_OF_RANGE_SHARE", "ERRORS", "WARNINGS",
]

IssueKind = Literal["missing", "renamed", "type_differs", "all_missing", "out_of_range", "unit_mismatch",
                    "unseen_categories"]
#: Issues that make predictions impossible or meaningless: validation cannot start with them.
ERRORS: frozenset[str] = frozenset({"missing", "renamed", "type_differs"})
#: Issues the user must look at and confirm: predictions can be made, but may be wrong.
WARNINGS: frozenset[str] = frozenset({"all_missing", "out_of_range", "unit_mismatch", "unseen_categories"})
#: A numeric input is reported when more than this share of its values lies outside the
#: development (training) range.
OUT_OF_RANGE_SHARE = 0.5
#: Multiplicative unit conversions seen between hospitals: (factor, unit of the larger numbers, unit
#: of the smaller), by the clinical range name of ``pipelines/data/clinical_ranges.csv``. A ratio of
#: the cohort's median to the development median near one of these (or its inverse) names it.
UNIT_FACTORS: Mapping[str, tuple[tuple[float, str, str], ...]] = {
    "creatinine": ((88.4, "µmol/L", "mg/dL"),),
    "glucose": ((18.0, "mg/dL", "mmol/L"),),
    "total_cholesterol": ((38.67, "mg/dL", "mmol/L"),),
    "ldl_cholesterol": ((38.67, "mg/dL", "mmol/L"),),
    "hdl_cholesterol": ((38.67, "mg/dL", "mmol/L"),),
    "triglycerides": ((88.57, "mg/dL", "mmol/L"),),
    "hemoglobin": ((10.0, "g/L", "g/dL"), (1.611, "g/dL", "mmol/L")),
    "albumin": ((10.0, "g/L", "g/dL"),),
    "calcium": ((4.008, "mg/dL", "mmol/L"),),
    "bun": ((2.801, "mg/dL", "mmol/L"),),
    "hba1c": ((10.93, "mmol/mol", "%"),),
    "weight": ((2.2046, "lb", "kg"),),
    "height": ((2.54, "cm", "in"), (100.0, "cm", "m")),
}
_GENERIC_FACTORS = (10.0, 100.0, 1000.0)  # a misplaced prefix (g/L vs g/dL, per µL vs per nL)
_FACTOR_TOLERANCE = 0.15  # the ratio must be within 15% of the factor


@dataclass(frozen=True)
class ExpectedColumn:
    """One model input as the development data knew it (aggregates of the training part only)."""

    name: str
    kind: str  # "numeric", "binary" or "categorical"
    train_min: float | None = None
    train_max: float | None = None
    train_median: float | None = None
    categories: tuple[str, ...] = ()  # categorical: the levels seen in development (as text)
    central: bool = False  # train_min/train_max are the 5th/95th percentiles (a reader who sees no patient row)


@dataclass(frozen=True)
class ColumnIssue:
    """One problem with one of the model's inputs in the external table.

    ``found`` is the external column a renamed-looking input probably is, or the type found;
    ``share`` the fraction of values outside the development range (or in unseen categories);
    ``factor`` the suspected unit conversion with its units (``units``: larger, smaller).
    """

    column: str
    kind: IssueKind
    found: str = ""
    share: float | None = None
    factor: float | None = None
    units: tuple[str, str] | None = None
    low: float | None = None
    high: float | None = None
    central: bool = False  # low/high are the development's middle 90 %, not its extremes

    @property
    def severity(self) -> str:
        return "error" if self.kind in ERRORS else "warning"


@dataclass(frozen=True)
class ColumnReport:
    n_rows: int
    matched: tuple[str, ...]  # inputs found under their own name (or the name the user mapped)
    issues: tuple[ColumnIssue, ...]
    outcome_found: bool

    @property
    def errors(self) -> tuple[ColumnIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[ColumnIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def usable(self) -> bool:
        return self.outcome_found and not self.errors


def _normalise(name: str) -> str:
    return re.sub(r"[\s_.\-()/\[\]]+", "", str(name)).casefold()


def _lookalike(name: str, candidates: Sequence[str]) -> str | None:
    """The external column that is probably this input under another name: the same letters in
    another case or spacing, the same clinical quantity (``EF`` for ``ejection_fraction``), or a
    close spelling."""
    target = _normalise(name)
    for column in candidates:
        if _normalise(column) == target:
            return column
    clinical = range_for_column(name)
    if clinical is not None:
        for column in candidates:
            other = range_for_column(column)
            if other is not None and other.name == clinical.name:
                return column
    close = difflib.get_close_matches(target, [_normalise(c) for c in candidates], n=1, cutoff=0.8)
    if close:
        return next(c for c in candidates if _normalise(c) == close[0])
    return None


def _numbers(series: pd.Series) -> tuple[pd.Series, int]:
    """The column as numbers, and how many present values are not numbers."""
    present = series.dropna()
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float), 0
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float), 0
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    return pd.to_numeric(series, errors="coerce"), int(parsed.isna().sum())


def _unit_factor(name: str, ratio: float) -> tuple[float, tuple[str, str] | None] | None:
    """The conversion factor the ratio of medians matches, with its units when known."""
    if not math.isfinite(ratio) or ratio <= 0:
        return None
    clinical = range_for_column(name)
    named = UNIT_FACTORS.get(clinical.name, ()) if clinical is not None else ()
    for factor, larger, smaller in named:
        for value, units in ((factor, (larger, smaller)), (1 / factor, (smaller, larger))):
            if abs(ratio / value - 1) <= _FACTOR_TOLERANCE:
                return value, units
    for factor in _GENERIC_FACTORS:
        for value in (factor, 1 / factor):
            if abs(ratio / value - 1) <= _FACTOR_TOLERANCE:
                return value, None
    return None


def _numeric_issues(spec: ExpectedColumn, series: pd.Series) -> list[ColumnIssue]:
    values, not_numbers = _numbers(series)
    present = values.dropna()
    if not_numbers:
        return [ColumnIssue(spec.name, "type_differs", found="text")]
    if present.empty:
        return [ColumnIssue(spec.name, "all_missing")]
    if spec.kind == "binary":
        if not set(present.unique().tolist()) <= {0.0, 1.0}:
            return [ColumnIssue(spec.name, "type_differs", found="not_binary")]
        return []
    issues: list[ColumnIssue] = []
    low, high = spec.train_min, spec.train_max
    if low is not None and high is not None:
        share = float(((present < low) | (present > high)).mean())
        median = spec.train_median
        ratio = float(present.median()) / median if median not in (None, 0) else float("nan")
        far = math.isfinite(ratio) and ratio > 0 and abs(math.log(ratio)) > math.log(3)
        suspected = _unit_factor(spec.name, ratio) if share > 0.2 or far else None
        if suspected is not None:
            factor, units = suspected
            issues.append(ColumnIssue(spec.name, "unit_mismatch", share=share, factor=round(factor, 4), units=units,
                                      low=low, high=high, central=spec.central))
        elif share > OUT_OF_RANGE_SHARE:
            issues.append(ColumnIssue(spec.name, "out_of_range", share=share, low=low, high=high, central=spec.central))
    return issues


def _categorical_issues(spec: ExpectedColumn, series: pd.Series) -> list[ColumnIssue]:
    present = series.dropna()
    if present.empty:
        return [ColumnIssue(spec.name, "all_missing")]
    if spec.categories and pd.api.types.is_numeric_dtype(series) and not any(
            _is_number(c) for c in spec.categories):
        return [ColumnIssue(spec.name, "type_differs", found="numbers")]
    if spec.categories:
        unseen = float((~present.astype(str).isin(spec.categories)).mean())
        if unseen > OUT_OF_RANGE_SHARE:
            return [ColumnIssue(spec.name, "unseen_categories", share=unseen)]
    return []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def compare_columns(expected: Sequence[ExpectedColumn], frame: pd.DataFrame, *, outcome: str | None = None,
                    renames: Mapping[str, str] | None = None) -> ColumnReport:
    """Check an external table against the model's inputs (``renames``: input name -> the
    external column the user chose for it)."""
    renames = dict(renames or {})
    columns = [str(c) for c in frame.columns]
    claimed = set(renames.values()) | {e.name for e in expected if e.name in columns}
    if outcome:
        claimed.add(outcome)
    issues: list[ColumnIssue] = []
    matched: list[str] = []
    for spec in expected:
        source = renames.get(spec.name, spec.name)
        if source not in columns:
            free = [c for c in columns if c not in claimed]
            found = _lookalike(spec.name, free)
            if found is not None:
                claimed.add(found)
                issues.append(ColumnIssue(spec.name, "renamed", found=found))
            else:
                issues.append(ColumnIssue(spec.name, "missing"))
            continue
        matched.append(spec.name)
        series = frame[source]
        found = (_numeric_issues if spec.kind in ("numeric", "binary") else _categorical_issues)(spec, series)
        issues.extend(found)
    return ColumnReport(n_rows=len(frame), matched=tuple(matched), issues=tuple(issues),
                        outcome_found=outcome is None or outcome in columns)


# --------------------------------------------------------------------------- recalibration


@dataclass(frozen=True)
class Recalibration:
    """Logistic recalibration of predicted risks against observed outcomes.

    ``intercept``: calibration-in-the-large, ``logit P(y) = a + logit(p)`` (slope fixed at 1); 0 is
    ideal, > 0 means the model's risks are too low on average. ``slope``: from
    ``logit P(y) = c + b * logit(p)``; 1 is ideal, < 1 means risks are too extreme (overfitting).
    ``slope_intercept`` is that model's ``c``, needed to recalibrate. CIs are Wald intervals.
    """

    intercept: Estimate
    slope: Estimate
    slope_intercept: float
    n: int
    n_events: int


def _trust_region(x: np.ndarray, y: np.ndarray, offset: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The same maximum likelihood by a trust-region Newton method: slower, but it converges where
    plain Newton steps from "perfectly calibrated" overshoot (risks far from the observed rate,
    as after a unit mix-up)."""
    def nll(beta: np.ndarray) -> float:
        eta = x @ beta + offset
        return float(np.sum(np.logaddexp(0, eta) - y * eta))

    def grad(beta: np.ndarray) -> np.ndarray:
        return x.T @ (expit(x @ beta + offset) - y)

    def hess(beta: np.ndarray) -> np.ndarray:
        mu = expit(x @ beta + offset)
        return x.T @ (x * (mu * (1 - mu))[:, None])

    result = minimize(nll, np.zeros_like(start), jac=grad, hess=hess, method="trust-exact")
    return result.x if result.success else np.full(len(start), np.nan)


def _fit(x: np.ndarray, y: np.ndarray, offset: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood coefficients and their standard errors (inverse Fisher information)."""
    beta = s._newton(x, y, offset, start)
    if not np.all(np.isfinite(beta)):
        beta = _trust_region(x, y, offset, start)
    if not np.all(np.isfinite(beta)):
        return beta, np.full(len(beta), np.nan)
    mu = expit(x @ beta + offset)
    information = x.T @ (x * (mu * (1 - mu))[:, None])
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return beta, np.full(len(beta), np.nan)
    return beta, np.sqrt(np.clip(np.diag(covariance), 0, None))


def _wald(value: float, se: float, level: float) -> Estimate:
    z = norm.ppf(0.5 + level / 2)
    if not (math.isfinite(value) and math.isfinite(se)):
        return Estimate(value, float("nan"), float("nan"), level)
    return Estimate(float(value), float(value - z * se), float(value + z * se), level)


def recalibration(y_true: Sequence | np.ndarray, y_prob: Sequence | np.ndarray, *, level: float = 0.95) -> Recalibration:
    """Calibration-in-the-large and calibration slope with Wald CIs."""
    y, p = as_binary_arrays(y_true, y_prob)
    lp = s.logit_safe(p)
    yf = y.astype(float)
    ones = np.ones((len(y), 1))
    (a,), (a_se,) = _fit(ones, yf, lp, np.zeros(1))
    (c, b), (_, b_se) = _fit(np.column_stack([ones, lp]), yf, np.zeros(len(y)), np.array([0.0, 1.0]))
    return Recalibration(intercept=_wald(a, a_se, level), slope=_wald(b, b_se, level), slope_intercept=float(c),
                         n=len(y), n_events=int(y.sum()))


def recalibrate(y_prob: Sequence | np.ndarray, fitted: Recalibration, *, method: Literal["intercept", "logistic"]
                = "logistic") -> np.ndarray:
    """The risks a site would use after updating the model: only its intercept (``intercept``), or
    its intercept and slope (``logistic``)."""
    lp = s.logit_safe(np.asarray(y_prob, dtype=float))
    if method == "intercept":
        return expit(fitted.intercept.value + lp)
    return expit(fitted.slope_intercept + fitted.slope.value * lp)


# --------------------------------------------------------------------------- curves without patients


def coarsen_roc(curve: RocCurve) -> RocCurve:
    """The ROC curve on its fixed grid of false-positive rates instead of one vertex per distinct
    predicted risk, so a shared report holds no point that belongs to one patient."""
    grid = np.asarray(curve.grid, dtype=float)
    tpr = np.interp(grid, np.asarray(curve.fpr, dtype=float), np.asarray(curve.tpr, dtype=float))
    return replace(curve, fpr=grid, tpr=tpr)


def coarsen_pr(curve: PrCurve) -> PrCurve:
    """The precision-recall envelope on the fixed recall grid (see :func:`coarsen_roc`)."""
    recall = np.asarray(curve.recall, dtype=float)
    precision = np.asarray(curve.precision, dtype=float)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    grid = np.asarray(curve.grid, dtype=float)
    idx = np.clip(np.searchsorted(recall, grid, side="left"), 0, len(recall) - 1)
    return replace(curve, recall=grid, precision=envelope[idx])
