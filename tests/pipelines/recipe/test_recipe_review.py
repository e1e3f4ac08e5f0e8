"""Review warnings on the real cases they were designed for, and no false alarms on clean tables."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.recipe import DefineOutcome, DropColumns, Impute, PlausibleRange, Recipe, SplitSpec, prepare, review
from pipelines.recipe._review import leakage_name_reason, looks_like_identifier


def _by_key(warnings, key, column=None):
    return [w for w in warnings if w.key == key and (column is None or column in w.columns)]


def test_heart_failure_time_is_flagged_with_measured_aurocs(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    prepared = prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"),)), frame)
    warnings = review(frame, prepared)
    dominant = _by_key(warnings, "recipe.warn_leak_dominant", "time")
    assert len(dominant) == 1
    params = dominant[0].params
    assert params["auroc"] == pytest.approx(0.84, abs=0.01)
    assert params["next_column"] == "serum_creatinine" and params["next_auroc"] == pytest.approx(0.73, abs=0.01)
    assert params["next_auroc"] <= 0.73
    assert _by_key(warnings, "recipe.warn_leak_name", "time")[0].params["reason"] == "follow_up"
    assert dominant[0].severity == "high"
    # with time dropped, nothing about leakage remains, but 96 events for 11 predictors is too few
    clean = prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), DropColumns(columns=("time",)))), frame)
    warnings = review(frame, clean)
    assert not [w for w in warnings if "leak" in w.key]
    epv = _by_key(warnings, "recipe.warn_few_events")[0].params
    assert (epv["events"], epv["predictors"]) == (96, 11)


def test_icu_survival_and_length_of_stay_are_flagged(datasets_dir):
    frame = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    prepared = prepare(Recipe(steps=(DefineOutcome(column="In-hospital_death"),)), frame)
    warnings = review(frame, prepared)
    single = _by_key(warnings, "recipe.warn_leak_single_column", "Survival")
    assert single and single[0].params["auroc"] >= 0.98
    missing = _by_key(warnings, "recipe.warn_leak_missingness", "Survival")
    assert missing and missing[0].params["auroc"] >= 0.85 and missing[0].params["missing"] == 5009
    assert _by_key(warnings, "recipe.warn_leak_dominant", "Survival")
    assert _by_key(warnings, "recipe.warn_leak_name", "Survival")[0].params["reason"] == "survival"
    los = _by_key(warnings, "recipe.warn_leak_name", "Length_of_stay")
    assert los and los[0].params["reason"] == "length_of_stay" and "auroc" in los[0].params
    assert _by_key(warnings, "recipe.warn_identifier_present", "RecordID")
    flagged = {c for w in warnings if "leak" in w.key for c in w.columns}
    assert flagged == {"Survival", "Length_of_stay"}  # SAPS-I, SOFA, Age ... are not accused


@pytest.mark.parametrize("name", ["breast_cancer_wisconsin_diagnostic.csv", "pima_diabetes.csv", "heart_cleveland.csv"])
def test_no_leakage_alarm_on_tables_without_leaks(datasets_dir, name):
    frame = pd.read_csv(datasets_dir / name)
    target = {"breast_cancer_wisconsin_diagnostic.csv": "target", "pima_diabetes.csv": "Outcome",
              "heart_cleveland.csv": "num"}[name]
    steps = [DefineOutcome(column=target, expression=f"{target} > 0" if target == "num" else "")]
    if name == "pima_diabetes.csv":
        steps += [PlausibleRange(column=c, missing_codes=(0.0,)) for c in ("Glucose", "BloodPressure", "BMI")]
    prepared = prepare(Recipe(steps=tuple(steps)), frame)
    assert not [w for w in review(frame, prepared) if "leak" in w.key or "identifier" in w.key]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("time", "follow_up"), ("follow_up_days", "follow_up"), ("FollowUpMonths", "follow_up"), ("futime", "follow_up"),
     ("days_to_death", "follow_up"), ("LOS", "length_of_stay"), ("Length_of_stay", "length_of_stay"),
     ("hospital stay (days)", "length_of_stay"), ("Survival", "survival"), ("OS_months", "survival"),
     ("discharge_date", "discharge"), ("date_of_death", "death"), ("DOD", "death"),
     ("추적관찰기간", "follow_up"), ("재원기간", "length_of_stay"), ("입원 기간", "length_of_stay"),
     ("생존기간", "survival"), ("퇴원일", "discharge"), ("사망일자", "death")],
)
def test_post_outcome_names_in_english_and_korean(name, reason):
    assert leakage_name_reason(name) == reason


@pytest.mark.parametrize("name", ["age", "serum_sodium", "Glucose", "ejection_fraction", "time_in_hospital",
                                  "SAPS-I", "platelets", "BloodPressure", "나이", "혈압", "Pregnancies"])
def test_ordinary_names_are_not_accused(name):
    assert leakage_name_reason(name) is None


def test_korean_named_follow_up_column_is_flagged_in_review(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").rename(
        columns={"time": "추적관찰기간", "age": "나이"})
    prepared = prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"),)), frame)
    warnings = review(frame, prepared)
    assert _by_key(warnings, "recipe.warn_leak_name", "추적관찰기간")
    assert not _by_key(warnings, "recipe.warn_leak_name", "나이")


def test_duplicate_rows_are_counted(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    doubled = pd.concat([frame, frame.iloc[:7]], ignore_index=True)
    prepared = prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"),)), doubled)
    dup = _by_key(review(doubled, prepared), "recipe.warn_duplicate_rows")
    assert dup and dup[0].params["count"] == 7 and dup[0].params["rows"] == 306
    clean = prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"),)), frame)
    assert not _by_key(review(frame, clean), "recipe.warn_duplicate_rows")


def test_same_patient_across_splits_is_flagged_until_the_split_is_grouped(datasets_dir):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False,
                        na_values=[""], low_memory=False)
    frame = frame[["encounter_id", "patient_nbr", "age", "time_in_hospital", "num_medications",
                   "number_inpatient", "readmitted"]]
    outcome = DefineOutcome(column="readmitted", expression='readmitted == "<30"', name="readmitted_30d")
    # the patient ID dropped but the split not grouped: still found through the upload's rows
    ungrouped = prepare(Recipe(steps=(outcome, DropColumns(columns=("encounter_id", "patient_nbr")))), frame)
    hit = _by_key(review(frame, ungrouped), "recipe.warn_patient_in_several_splits", "patient_nbr")
    assert hit and hit[0].params["patients"] == 16773 and hit[0].params["rows"] == 47021
    grouped = prepare(Recipe(steps=(outcome, DropColumns(columns=("encounter_id",))),
                             split=SplitSpec(kind="grouped_kfold", group_column="patient_nbr")), frame)
    warnings = review(frame, grouped)
    assert not _by_key(warnings, "recipe.warn_patient_in_several_splits")
    assert not _by_key(warnings, "recipe.warn_identifier_present")


def test_identifiers_flagged_by_name_values_or_upload(datasets_dir):
    frame = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    assert looks_like_identifier("RecordID", frame["RecordID"])
    assert not looks_like_identifier("ICUType", frame["ICUType"])
    assert not looks_like_identifier("Age", frame["Age"])
    steps = (DefineOutcome(column="In-hospital_death"), DropColumns(columns=("RecordID", "Survival", "Length_of_stay")),
             Impute())
    prepared = prepare(Recipe(steps=steps), frame)
    assert not _by_key(review(frame, prepared), "recipe.warn_identifier_present")
    flagged = _by_key(review(frame, prepared, identifier_columns=("Height",)), "recipe.warn_identifier_present")
    assert flagged and flagged[0].columns == ("Height",)
