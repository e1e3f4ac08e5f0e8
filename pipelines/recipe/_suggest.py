"""One click proposes a sensible recipe for a table; the physician edits it before approving.

The proposal is deliberately conservative and every choice is a visible step: the outcome guess,
identifiers dropped (or used to group the split when a patient has several rows), columns whose
names read as known-after-the-outcome dropped with a note, constant columns dropped, plausible-range
rules only where the data breaks them (Pima's zeros), then imputation, rare-label grouping,
one-hot encoding and scaling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pandas as pd

from pipelines.errors import RecipeError
from pipelines.recipe._base import Step, column_kind
from pipelines.recipe._data_steps import DefineOutcome, DropColumns
from pipelines.recipe._model_steps import Encode, GroupRareCategories, Impute, Scale
from pipelines.recipe._recipe import Recipe
from pipelines.recipe._review import _norm, leakage_name_reason, looks_like_identifier
from pipelines.recipe._value_steps import PlausibleRange
from pipelines.splits import SplitSpec

__all__ = ["suggest_recipe", "guess_target", "PLAUSIBLE_RANGES"]

_TARGET_NAMES = (
    "death_event", "in_hospital_death", "outcome", "target", "label", "class", "diagnosis", "readmitted",
    "mortality", "death", "died", "event", "status", "y", "num", "fstat", "cens",
    "결과", "사망", "재입원", "진단",
)

#: name pattern (on the normalised name) -> (low, high, zero means missing). Deliberately wide:
#: they catch recording artefacts, not unusual patients.
PLAUSIBLE_RANGES: tuple[tuple[str, float | None, float | None, bool], ...] = (
    (r"(^|_)bmi$|body_?mass|체질량", 8.0, 120.0, True),
    (r"glucose|(^|_)glu$|혈당", 5.0, 3000.0, True),
    (r"^blood_?pressure|(^|_)(s|d)?bp$|sys_?abp|dias_?abp|(^|_)map$|trestbps|혈압", 5.0, 350.0, True),
    (r"skin_?thickness", 1.0, 150.0, True),
    (r"(^|_)insulin$", 1.0, 3000.0, True),
    (r"heart_?rate|(^|_)hr$|pulse|thalach|맥박|심박", 10.0, 350.0, True),
    (r"(^|_)weight$|체중", 0.3, 500.0, True),
    (r"(^|_)height$|신장$|키$", 20.0, 260.0, True),
    (r"(^|_)temp(erature)?$|체온", 20.0, 45.0, True),
    (r"(^|_)age$|나이|연령", 0.0, 125.0, False),
    (r"ejection_?fraction|(^|_)lvef$|박출률", 1.0, 95.0, True),
    (r"serum_?sodium|(^|_)na$|나트륨", 90.0, 200.0, True),
    (r"creatinine$|크레아티닌", 0.01, 40.0, True),
    (r"platelets?$|혈소판", 0.1, 5_000_000.0, True),
    (r"(^|_)chol(esterol)?$|콜레스테롤", 20.0, 1500.0, True),
    (r"(^|_)(spo2|sao2)$|산소포화도", 20.0, 100.0, True),
    (r"resp(iratory)?_?rate|호흡수", 1.0, 100.0, True),
)


def guess_target(frame: pd.DataFrame) -> str:
    """The likeliest outcome column: a known outcome name, else the last column if it has few values."""
    names = {_norm(c): str(c) for c in frame.columns}
    for wanted in _TARGET_NAMES:
        if wanted in names:
            return names[wanted]
    last = str(frame.columns[-1])
    if 2 <= frame[last].nunique() <= 10:
        return last
    raise RecipeError("recipe.suggest_no_target")


def suggest_recipe(frame: pd.DataFrame, *, target: str | None = None,
                   identifier_columns: Iterable[str] = ()) -> Recipe:
    """A proposed recipe for ``frame``: a starting point for review, never applied silently."""
    if frame.empty or frame.shape[1] < 2:
        raise RecipeError("recipe.suggest_empty")
    target = target or guess_target(frame)
    if target not in frame.columns:
        raise RecipeError("recipe.unknown_column", kind="outcome", param="target", column=target,
                          available=", ".join(map(str, list(frame.columns)[:12])))
    steps: list[Step] = [DefineOutcome(column=target)]
    flagged = {str(c) for c in identifier_columns}
    ids = [str(c) for c in frame.columns
           if str(c) != target and (str(c) in flagged or looks_like_identifier(str(c), frame[c]))]
    group_column = None
    for col in ids:
        values = frame[col].dropna()
        if looks_like_identifier(col) and values.nunique() < len(values) and frame[col].notna().all():
            group_column = col
            break
    drop_ids = [c for c in ids if c != group_column]
    if drop_ids:
        steps.append(DropColumns(columns=tuple(drop_ids), note="identifiers"))
    leaky = [str(c) for c in frame.columns
             if str(c) not in {target, group_column, *drop_ids}
             and leakage_name_reason(str(c)) in {"follow_up", "length_of_stay", "survival", "death"}]
    if leaky:
        steps.append(DropColumns(columns=tuple(leaky), note="recorded after the outcome"))
    gone = {target, group_column, *drop_ids, *leaky}
    constant = [str(c) for c in frame.columns if str(c) not in gone and frame[c].nunique(dropna=True) <= 1]
    if constant:
        steps.append(DropColumns(columns=tuple(constant), note="constant"))
    features = [str(c) for c in frame.columns if str(c) not in gone and str(c) not in constant]
    steps += _range_rules(frame, features)
    kinds = {c: column_kind(frame[c].dtype) for c in features}
    missing_share = max((frame[c].isna().mean() for c in features), default=0.0)
    steps.append(Impute(numeric="median", categorical="most_frequent", add_indicator=bool(missing_share >= 0.05)))
    if any(k == "categorical" for k in kinds.values()):
        steps.append(GroupRareCategories(min_fraction=0.01))
        steps.append(Encode(method="onehot"))
    steps.append(Scale(method="standard"))
    if group_column is not None:
        split = SplitSpec(kind="grouped_kfold", group_column=group_column)
    else:
        split = SplitSpec(kind="stratified_kfold")
    return Recipe(steps=tuple(steps), split=split)


_RANGES_FILE = Path(__file__).resolve().parents[1] / "data" / "clinical_ranges.csv"


@cache
def _shared_ranges() -> tuple[tuple[frozenset[str], float, float], ...]:
    """The project's plausibility table (``pipelines/data/clinical_ranges.csv``, shared with the
    ingestion profile) so the upload's flags and the suggested rules agree; empty if absent."""
    if not _RANGES_FILE.is_file():
        return ()
    table = pd.read_csv(_RANGES_FILE)
    return tuple(
        (frozenset(_squash(a) for a in str(row["aliases"]).split("|")), float(row["low"]), float(row["high"]))
        for _, row in table.iterrows()
    )


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", str(name)).lower()


def _limits(col: str) -> tuple[float | None, float | None, bool] | None:
    squashed = _squash(col)
    for aliases, low, high in _shared_ranges():
        if squashed in aliases:
            return low, high, low > 0
    norm = _norm(col)
    for pattern, low, high, zero_missing in PLAUSIBLE_RANGES:
        if re.search(pattern, norm):
            return low, high, zero_missing
    return None


def _range_rules(frame: pd.DataFrame, features: list[str]) -> list[Step]:
    """A rule only where the data breaks it. When zeros are the only offenders the rule says
    "0 means missing" (the Pima pattern), which reads better than a lower limit."""
    rules: list[Step] = []
    for col in features:
        if column_kind(frame[col].dtype) != "numeric" or pd.api.types.is_bool_dtype(frame[col].dtype):
            continue
        if set(frame[col].dropna().unique().tolist()) <= {0, 1}:
            continue  # a 0/1 flag such as high_blood_pressure, not a measurement
        limits = _limits(col)
        if limits is None:
            continue
        low, high, zero_missing = limits
        values = frame[col].dropna().astype("float64")
        zeros = zero_missing and bool((values == 0).any())
        nonzero = values[values != 0] if zeros else values
        outside = bool(((low is not None) and (nonzero < low).any()) or ((high is not None) and (nonzero > high).any()))
        if zeros or outside:
            rules.append(PlausibleRange(column=col, low=low if outside else None, high=high if outside else None,
                                        missing_codes=(0.0,) if zeros else ()))
    return rules
