"""Identifier flags: HIPAA Safe Harbor categories and Korean identifiers, by name and by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.ingest import PHI_CATEGORIES, IdentifierFlag, read_table


def _flags(csv: str) -> dict[str, tuple[str, str]]:
    result = read_table(csv.encode("utf-8"), filename="ids.csv")
    return {f.column: (f.category, f.evidence) for f in result.identifier_flags}


def test_korean_identifiers_by_name_and_content() -> None:
    rows = [
        "환자번호,성명,주민등록번호,전화,연락처2,주소,나이,혈청나트륨",
        "A0012,홍길동,850101-1234567,010-1234-5678,02-345-6789,서울시 종로구,63,140",
        "A0013,김영희,900202-2345678,010-2345-6789,031-456-7890,부산시 해운대구,71,135",
        "A0014,이철수,750303-1456789,011-345-6789,02-567-8901,대구시 중구,55,142",
    ]
    flags = _flags("\n".join(rows) + "\n")
    assert flags["환자번호"] == ("medical_record_number", "name")
    assert flags["성명"] == ("name", "name")
    assert flags["주민등록번호"] == ("korean_rrn", "name")
    assert flags["전화"] == ("phone", "name")
    assert flags["연락처2"] == ("phone", "name")
    assert flags["주소"] == ("geographic", "name")
    assert "나이" not in flags and "혈청나트륨" not in flags


def test_content_patterns_under_neutral_names() -> None:
    rows = ["a,b,c,d,e,f,g"]
    for i in range(30):
        rows.append(
            f"9{i:05d}-{1 + i % 4}{i:06d},010-{1000 + i}-{2000 + i},p{i}@hospital.org,"
            f"https://ehr.example.org/p/{i},10.0.{i}.7,{i % 3},{i}{i}"
        )
    flags = _flags("\n".join(rows) + "\n")
    assert flags["a"] == ("korean_rrn", "content")
    assert flags["b"] == ("phone", "content")
    assert flags["c"] == ("email", "content")
    assert flags["d"] == ("url", "content")
    assert flags["e"] == ("ip_address", "content")
    assert "f" not in flags


def test_english_names_dates_and_unique_codes() -> None:
    rows = ["MRN,first_name,DateOfBirth,zip_code,drug_name,hotel_stay,admit_date,note"]
    for i in range(25):
        rows.append(f"M{i:06d},Name{i},1950-01-{1 + i:02d},0213{i % 10},aspirin,{i % 2},2020-02-{1 + i:02d},stable")
    flags = _flags("\n".join(rows) + "\n")
    assert flags["MRN"] == ("medical_record_number", "name")
    assert flags["first_name"] == ("name", "name")
    assert flags["DateOfBirth"] == ("date", "name")
    assert flags["zip_code"] == ("geographic", "name")
    assert flags["admit_date"] == ("date", "content")  # a full date, whatever the column is called
    for innocent in ("drug_name", "hotel_stay", "note"):
        assert innocent not in flags


@pytest.mark.parametrize(
    "name",
    [
        "heart_failure_clinical_records.csv",
        "heart_cleveland.csv",
        "pima_diabetes.csv",
        "breast_cancer_wisconsin_diagnostic.csv",
        "gbsg2.csv",
        "whas500.csv",
    ],
)
def test_public_clinical_tables_have_no_false_flags(datasets_dir: Path, name: str) -> None:
    assert read_table(datasets_dir / name, filename=name).identifier_flags == ()


def test_record_ids_are_flagged_in_physionet(datasets_dir: Path) -> None:
    name = "physionet2012_static_outcomes.csv"
    result = read_table(datasets_dir / name, filename=name)
    assert [(f.column, f.category) for f in result.identifier_flags] == [("RecordID", "other_unique_id")]


def test_flag_json_round_trip_and_category_list() -> None:
    flag = IdentifierFlag("전화", "phone", "name", {"matched": "전화"})
    assert IdentifierFlag.from_dict(flag.to_dict()) == flag
    assert len(PHI_CATEGORIES) == 19 and "korean_rrn" in PHI_CATEGORIES


def test_pseudonymise_keeps_joins_but_not_values(datasets_dir: Path) -> None:
    import pandas as pd

    from pipelines.errors import IngestError
    from pipelines.ingest import pseudonymise

    name = "diabetes_130_us_hospitals.csv.gz"
    frame = read_table(datasets_dir / name, filename=name).frame[["patient_nbr", "readmitted"]].head(5000)
    secret = b"project-7-secret-key-0123456789"
    masked = pseudonymise(frame, "patient_nbr", secret=secret)
    assert masked["patient_nbr"].nunique() == frame["patient_nbr"].nunique()
    assert not set(masked["patient_nbr"].astype(str)) & set(frame["patient_nbr"].astype(str))
    # Same patient, same token; another project's key gives other tokens.
    first = frame["patient_nbr"].iloc[0]
    same = masked.loc[frame["patient_nbr"] == first, "patient_nbr"].unique()
    assert len(same) == 1 and same[0].startswith("P-")
    other = pseudonymise(frame, "patient_nbr", secret=b"another-project-secret-key-xyz")
    assert other["patient_nbr"].iloc[0] != masked["patient_nbr"].iloc[0]
    assert frame["patient_nbr"].iloc[0] == first  # the input is untouched
    dates = pd.DataFrame({"dob": pd.to_datetime(["1950-03-04", None, "1962-11-30"])})
    assert pseudonymise(dates, "dob", secret=secret)["dob"].tolist() == [1950, pd.NA, 1962]
    with pytest.raises(IngestError) as err:
        pseudonymise(frame, "patient_nbr", secret=b"short")
    assert err.value.key == "ingest.weak_secret"
