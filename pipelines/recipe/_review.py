"""The warnings a person must acknowledge before anything trains.

Three independent signs of a variable recorded after the outcome, because each alone misses real
cases: a single column (or whether it is missing) predicts the outcome almost perfectly; one column
predicts far better than every other; a name that reads as follow-up time, length of stay,
survival, discharge or death (English or Korean). The heart failure table's ``time`` (follow-up
days, alone AUROC 0.84 where no other column reaches 0.73) and the ICU table's ``Survival`` (empty
exactly when the patient lived) and ``Length_of_stay`` are the cases this was measured on.
Also: identifiers still present, duplicate rows, one patient in several rows without a grouped
split, and too few events for the number of candidate predictors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from pipelines.recipe._base import column_kind
from pipelines.recipe._prepare import Prepared

__all__ = [
    "ReviewWarning",
    "review",
    "single_column_auroc",
    "leakage_name_reason",
    "looks_like_identifier",
    "NEAR_PERFECT_AUROC",
    "MISSINGNESS_AUROC",
    "DOMINANT_AUROC",
    "DOMINANT_MARGIN",
    "MIN_EVENTS_PER_PREDICTOR",
]

NEAR_PERFECT_AUROC = 0.98
MISSINGNESS_AUROC = 0.80
DOMINANT_AUROC = 0.80
DOMINANT_MARGIN = 0.10
MIN_EVENTS_PER_PREDICTOR = 10.0

Severity = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class ReviewWarning:
    """One thing the reviewer must look at; ``key`` names the message, ``params`` fill it and hold
    the measurements (AUROCs, counts) so the review screen can show the evidence."""

    key: str
    severity: Severity
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


# -- names -------------------------------------------------------------------------------------

_LEAK_NAMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("follow_up", re.compile(r"follow_?up|(^|_)fu(_|$)|futime|lenfol|time_?to_|days_?to_|^s?time$|^time_?(days|months)$"
                             r"|추적|관찰_?기간")),
    ("length_of_stay", re.compile(r"length_?of_?(hospital_?|icu_?)?stay|(^|_)los(_|$)|(hospital|icu)_?stay"
                                  r"|stay_?(days|length)|재원|입원_?기간")),
    ("survival", re.compile(r"surviv|(^|_)os_?(time|days|months)|생존")),
    ("discharge", re.compile(r"discharg|퇴원")),
    ("death", re.compile(r"death|(^|_)dod(_|$)|date_?of_?death|deceased|(^|_)died(_|$)|mortality|사망|사인")),
)


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKC", str(name))
    text = re.sub(r"([a-z])([A-Z])", r"\1_\2", text).lower()
    return re.sub(r"[\s\-./()]+", "_", text).strip("_")


def leakage_name_reason(name: str) -> str | None:
    """``follow_up``/``length_of_stay``/``survival``/``discharge``/``death`` when the column name
    reads as something known only after the outcome, else None."""
    norm = _norm(name)
    for reason, pattern in _LEAK_NAMES:
        if pattern.search(norm):
            return reason
    return None


_ID_NAME = re.compile(r"(^|_)(id|ids|nbr|no|num_?id|mrn|ssn|uuid|key)$|^(id|mrn|ssn)(_|$)|record_?id|patient_?(id|nbr|no|number)"
                      r"|encounter|subject_?id|hadm|stay_?id|등록_?번호|환자_?번호|주민|병록|차트_?번호|이름|성명|(^|_)name$")


def looks_like_identifier(name: str, values: pd.Series | None = None) -> bool:
    """An ID by its name (``patient_nbr``, ``RecordID``, ``환자번호``) with many distinct values, or a
    text column whose every value is different (names, codes)."""
    norm = _norm(name)
    if values is None:
        return bool(_ID_NAME.search(norm))
    non_null = values.dropna()
    if non_null.empty:
        return False
    ratio = non_null.nunique() / len(non_null)
    if _ID_NAME.search(norm) and ratio >= 0.3:
        return True
    return column_kind(values.dtype) == "categorical" and ratio == 1.0 and len(non_null) >= 20


# -- single-column AUROC ------------------------------------------------------------------------

def single_column_auroc(x: pd.Series, y: pd.Series, *, task: str, positive_label: Any = None,
                        seed: int = 0) -> tuple[float | None, float | None]:
    """How well this column alone ranks the outcome: ``(values AUROC, missingness AUROC)``.

    Direction-free (``max(a, 1 - a)``). Numbers are scored as they are with missing values placed
    below or above all others (whichever separates better), so "missing means survived" counts;
    categories are scored by their out-of-fold outcome rate so an ID cannot score by memorising.
    Multiclass is the mean one-vs-rest AUROC; regression returns (None, None).
    """
    if task == "regression":
        return None, None
    y = y.reset_index(drop=True)
    x = x.reset_index(drop=True)
    if task == "binary":
        targets = [(y.astype(str) == str(positive_label)).astype(int).to_numpy()] if positive_label is not None \
            else [(y == sorted(y.unique().tolist(), key=str)[-1]).astype(int).to_numpy()]
    else:
        targets = [(y == k).astype(int).to_numpy() for k in sorted(y.unique().tolist(), key=str)]
    missing = x.isna().to_numpy()
    value_scores: list[float] = []
    miss_scores: list[float] = []
    kind = column_kind(x.dtype)
    for t in targets:
        if t.min() == t.max():
            continue
        if missing.any() and not missing.all():
            miss_scores.append(_auc(t, missing.astype(float)))
        if missing.all():
            continue
        if kind == "categorical":
            score = _oof_rate(x, t, seed)
            value_scores.append(_auc(t, score))
        else:
            v = pd.to_numeric(x, errors="coerce") if kind == "numeric" else \
                (x - pd.Timestamp("1970-01-01")).dt.total_seconds()
            v = v.astype("float64").to_numpy()
            if not missing.any():
                value_scores.append(_auc(t, v))
            else:
                lo = np.where(missing, np.nanmin(v) - 1.0, v)
                hi = np.where(missing, np.nanmax(v) + 1.0, v)
                value_scores.append(max(_auc(t, lo), _auc(t, hi)))
    value = float(np.mean(value_scores)) if value_scores else None
    miss = float(np.mean(miss_scores)) if miss_scores else None
    return value, miss


def _auc(t: np.ndarray, s: np.ndarray) -> float:
    a = float(roc_auc_score(t, s))
    return max(a, 1.0 - a)


def _oof_rate(x: pd.Series, t: np.ndarray, seed: int) -> np.ndarray:
    labels = x.astype(object).where(x.notna(), "\x00missing").astype(str).to_numpy()
    out = np.full(len(t), t.mean(), dtype="float64")
    folds = KFold(n_splits=5, shuffle=True, random_state=seed) if len(t) >= 10 else None
    if folds is None:
        return out
    for fit, enc in folds.split(labels):
        rates = pd.Series(t[fit]).groupby(labels[fit]).mean()
        out[enc] = pd.Series(labels[enc]).map(rates).fillna(t[fit].mean()).to_numpy()
    return out


# -- review ---------------------------------------------------------------------------------------

def review(frame: pd.DataFrame, prepared: Prepared, *, identifier_columns: Iterable[str] = (),
           seed: int = 0) -> tuple[ReviewWarning, ...]:
    """Every warning for this prepared table, most serious first.

    ``frame`` is the uploaded table (used to find patient IDs the recipe dropped: the prepared
    frame keeps the upload's row labels); ``identifier_columns`` are columns the upload flagged.
    """
    flagged = {str(c) for c in identifier_columns}
    data = prepared.frame
    out: list[ReviewWarning] = []
    out += _identifiers(data, prepared, flagged)
    out += _leakage(data, prepared, seed)
    out += _duplicates(data, prepared)
    out += _patients_across_splits(frame, prepared, flagged)
    out += _events_per_predictor(data, prepared)
    order = {"high": 0, "medium": 1, "low": 2}
    return tuple(sorted(out, key=lambda w: order[w.severity]))


def _identifiers(data: pd.DataFrame, prepared: Prepared, flagged: set[str]) -> list[ReviewWarning]:
    found = [c for c in prepared.features if c in flagged or looks_like_identifier(c, data[c])]
    if not found:
        return []
    return [ReviewWarning("recipe.warn_identifier_present", "high", tuple(found), {"columns": found})]


def _leakage(data: pd.DataFrame, prepared: Prepared, seed: int) -> list[ReviewWarning]:
    out: list[ReviewWarning] = []
    y = data[prepared.target]
    scores: dict[str, float] = {}
    for col in prepared.features:
        value, miss = single_column_auroc(data[col], y, task=prepared.task,
                                          positive_label=prepared.positive_label, seed=seed)
        if value is not None:
            scores[col] = value
            if value >= NEAR_PERFECT_AUROC:
                out.append(ReviewWarning("recipe.warn_leak_single_column", "high", (col,),
                                         {"column": col, "auroc": round(value, 3),
                                          "threshold": NEAR_PERFECT_AUROC}))
        if miss is not None and miss >= MISSINGNESS_AUROC:
            out.append(ReviewWarning("recipe.warn_leak_missingness", "high", (col,),
                                     {"column": col, "auroc": round(miss, 3),
                                      "missing": int(data[col].isna().sum()), "threshold": MISSINGNESS_AUROC}))
    if len(scores) >= 2:
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        (best, best_auc), (second, second_auc) = ranked[0], ranked[1]
        if best_auc >= DOMINANT_AUROC and best_auc - second_auc >= DOMINANT_MARGIN:
            out.append(ReviewWarning("recipe.warn_leak_dominant", "high", (best,),
                                     {"column": best, "auroc": round(best_auc, 3), "next_column": second,
                                      "next_auroc": round(second_auc, 3)}))
    for col in prepared.features:
        reason = leakage_name_reason(col)
        if reason is not None:
            params: dict[str, Any] = {"column": col, "reason": reason}
            if col in scores:
                params["auroc"] = round(scores[col], 3)
            out.append(ReviewWarning("recipe.warn_leak_name", "medium", (col,), params))
    return out


def _duplicates(data: pd.DataFrame, prepared: Prepared) -> list[ReviewWarning]:
    cols = list(prepared.features) + [prepared.target]
    dup = int(data[cols].duplicated().sum())
    if dup == 0:
        return []
    return [ReviewWarning("recipe.warn_duplicate_rows", "medium", (), {"count": dup, "rows": len(data)})]


def _patients_across_splits(frame: pd.DataFrame, prepared: Prepared, flagged: set[str]) -> list[ReviewWarning]:
    data = prepared.frame
    candidates: dict[str, pd.Series] = {}
    for col in data.columns:
        if col != prepared.target and (col in flagged or looks_like_identifier(col, data[col])):
            candidates[str(col)] = data[col]
    same_rows = bool(data.index.isin(frame.index).all()) if len(frame) else False
    if same_rows:
        for col in frame.columns:
            if str(col) in candidates or str(col) == prepared.target:
                continue
            if str(col) in flagged or (looks_like_identifier(str(col)) and looks_like_identifier(str(col), frame[col])):
                candidates[str(col)] = frame.loc[data.index, col]
    out: list[ReviewWarning] = []
    for col, values in candidates.items():
        if col == prepared.group_column:
            continue
        counts = values.dropna().value_counts()
        repeated = counts[counts > 1]
        if repeated.empty:
            continue
        if prepared.group_column is not None:
            group = data[prepared.group_column].reindex(values.index)
            per_id = pd.DataFrame({"id": values, "g": group}).dropna().groupby("id")["g"].nunique()
            if (per_id <= 1).all():
                continue  # this ID is nested in the grouping column: grouped split keeps it together
        out.append(ReviewWarning("recipe.warn_patient_in_several_splits", "high", (col,),
                                 {"column": col, "patients": int(len(repeated)),
                                  "rows": int(repeated.sum())}))
    return out


def _events_per_predictor(data: pd.DataFrame, prepared: Prepared) -> list[ReviewWarning]:
    if prepared.task == "regression":
        return []
    events = int(data[prepared.target].value_counts().min())
    predictors = 0
    for col in prepared.features:
        if column_kind(data[col].dtype) == "categorical":
            predictors += max(1, int(data[col].nunique()) - 1)
        else:
            predictors += 1
    epv = events / max(predictors, 1)
    if epv >= MIN_EVENTS_PER_PREDICTOR:
        return []
    return [ReviewWarning("recipe.warn_few_events", "medium", (),
                          {"events": events, "predictors": predictors, "epv": round(epv, 2),
                           "minimum": MIN_EVENTS_PER_PREDICTOR})]
