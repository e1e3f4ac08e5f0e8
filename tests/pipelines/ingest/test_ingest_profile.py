"""The stored profile: aggregates only, clinical range checks, JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipelines.ingest import DatasetProfile, profile, range_for_column, read_table


def test_pima_zero_codes_show_up_as_implausible(datasets_dir: Path) -> None:
    result = read_table(datasets_dir / "pima_diabetes.csv", filename="pima.csv")
    stored = profile(result.frame, types=result.types, flags=result.identifier_flags)
    glucose = stored.column("Glucose")
    assert glucose.out_of_range is not None and glucose.out_of_range.range_name == "glucose"
    assert glucose.out_of_range.below == int((result.frame["Glucose"] == 0).sum()) == 5
    assert stored.column("BMI").out_of_range.below == 11
    assert stored.column("BloodPressure").out_of_range.below == 35
    assert stored.column("Outcome").top_categories == (("0", 500), ("1", 268))
    assert sum(stored.column("Age").histogram.counts) == 768
    assert stored.column("Glucose").median == float(pd.Series(result.frame["Glucose"]).median())


def test_heart_failure_profile_round_trips_through_json(datasets_dir: Path) -> None:
    result = read_table(datasets_dir / "heart_failure_clinical_records.csv", filename="hf.csv")
    stored = profile(result.frame, types=result.types)
    assert stored.n_rows == 299 and stored.n_columns == 13
    sodium = stored.column("serum_sodium")
    assert (sodium.minimum, sodium.maximum, sodium.missing_count) == (113.0, 148.0, 0)
    assert sodium.out_of_range.below == sodium.out_of_range.above == 0
    again = DatasetProfile.from_dict(json.loads(json.dumps(stored.to_dict())))
    assert again == stored


def test_profile_holds_no_identifier_values() -> None:
    csv = "patient_id,성명,전화,age,ward\n" + "".join(
        f"P{i:05d},환자{i},010-1{i:03d}-{i:04d},{40 + i % 30},{'AB'[i % 2]}\n" for i in range(40)
    )
    result = read_table(csv.encode(), filename="x.csv")
    stored = profile(result.frame, types=result.types, flags=result.identifier_flags)
    text = json.dumps(stored.to_dict(), ensure_ascii=False)
    for secret in ("P00001", "환자1", "010-1001"):
        assert secret not in text
    assert stored.column("patient_id").flagged and stored.column("patient_id").top_categories == ()
    assert stored.column("ward").top_categories == (("A", 20), ("B", 20))


def test_dates_are_profiled_by_month_only() -> None:
    result = read_table(b"id,visit\n1,2020-03-04\n2,2020-03-21\n3,2021-01-02\n", filename="d.csv")
    column = profile(result.frame, types=result.types).column("visit")
    assert column.top_categories == (("2020-03", 2), ("2021-01", 1))
    assert (column.minimum, column.maximum) == ("2020-03", "2021-01")


def test_range_aliases_in_english_and_korean() -> None:
    assert range_for_column("Heart Rate").name == "heart_rate"
    assert range_for_column("심박수").name == "heart_rate"
    assert range_for_column("serum_sodium").name == "sodium"
    assert range_for_column("혈청나트륨").name == "sodium"
    assert range_for_column("수축기 혈압").name == "systolic_bp"
    assert range_for_column("time") is None


def test_profile_of_a_plain_pandas_frame_infers_types(datasets_dir: Path) -> None:
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv")  # numpy dtypes, NaN for missing
    stored = profile(frame)
    assert stored.column("sex").type == "binary" and stored.column("oldpeak").type == "numeric"
    assert stored.column("ca").missing_count == 4 and stored.column("thal").missing_count == 2
    assert stored.column("trestbps").out_of_range.range_name == "systolic_bp"
