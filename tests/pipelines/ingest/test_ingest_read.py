"""read_table on the real clinical datasets and on re-encodings / re-packagings of them."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.errors import IngestError
from pipelines.ingest import ReadOptions, apply_missing_codes, override_types, read_table

HEART = "heart_failure_clinical_records.csv"
HEART_TYPES = {
    "age": "numeric",
    "anaemia": "binary",
    "creatinine_phosphokinase": "integer",
    "diabetes": "binary",
    "ejection_fraction": "integer",
    "high_blood_pressure": "binary",
    "platelets": "numeric",
    "serum_creatinine": "numeric",
    "serum_sodium": "integer",
    "sex": "binary",
    "smoking": "binary",
    "time": "integer",
    "DEATH_EVENT": "binary",
}
KOREAN = {
    "age": "나이",
    "anaemia": "빈혈",
    "creatinine_phosphokinase": "크레아티닌인산화효소",
    "diabetes": "당뇨",
    "ejection_fraction": "박출률",
    "high_blood_pressure": "고혈압",
    "platelets": "혈소판",
    "serum_creatinine": "혈청크레아티닌",
    "serum_sodium": "혈청나트륨",
    "sex": "성별",
    "smoking": "흡연",
    "time": "추적기간",
    "DEATH_EVENT": "사망",
}


@pytest.fixture(scope="module")
def heart(datasets_dir: Path):
    return read_table(datasets_dir / HEART, filename=HEART)


def test_heart_failure_shape_types_and_no_identifier_flags(heart) -> None:
    assert heart.frame.shape == (299, 13)
    assert heart.format == "csv" and heart.encoding == "utf-8" and heart.delimiter == ","
    assert heart.types == HEART_TYPES
    assert heart.identifier_flags == ()
    assert heart.warnings == ()
    assert all(c.missing_count == 0 and c.proposed_missing == () for c in heart.columns)
    # No object columns of mixed junk: every column is Arrow-backed or a nullable dtype.
    assert not any(dtype == object for dtype in heart.frame.dtypes)
    assert heart.frame["DEATH_EVENT"].sum() == 96
    assert heart.frame["serum_creatinine"].max() == pytest.approx(9.4)


def test_cp949_korean_headers_read_identically(datasets_dir: Path, tmp_path: Path, heart) -> None:
    text = (datasets_dir / HEART).read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    korean_header = ",".join(KOREAN[name] for name in header.split(","))
    path = tmp_path / "심부전.csv"
    path.write_bytes((korean_header + "\n" + rest).encode("cp949"))
    korean = read_table(path, filename=path.name)
    assert korean.encoding == "cp949"
    assert list(korean.frame.columns) == [KOREAN[c] for c in heart.frame.columns]
    assert {KOREAN[k]: v for k, v in heart.types.items()} == korean.types
    pd.testing.assert_frame_equal(korean.frame.set_axis(list(heart.frame.columns), axis=1), heart.frame)
    assert korean.identifier_flags == ()


def test_bytes_source_utf8_bom_and_utf16(datasets_dir: Path, heart) -> None:
    raw = (datasets_dir / HEART).read_bytes()
    with_bom = read_table(b"\xef\xbb\xbf" + raw, filename="hf.csv")
    assert with_bom.encoding == "utf-8-sig"
    pd.testing.assert_frame_equal(with_bom.frame, heart.frame)
    utf16 = read_table(raw.decode("utf-8").replace(",", "\t").encode("utf-16"), filename="hf.txt")
    assert utf16.encoding == "utf-16" and utf16.delimiter == "\t"
    pd.testing.assert_frame_equal(utf16.frame, heart.frame)


def test_gzip_dataset_with_identifiers_and_literal_none(datasets_dir: Path) -> None:
    name = "diabetes_130_us_hospitals.csv.gz"
    result = read_table(datasets_dir / name, filename=name)
    assert result.frame.shape == (101_766, 50)
    assert result.column("encounter_id").inferred_type == "identifier"
    assert result.column("patient_nbr").inferred_type == "identifier"
    assert result.column("readmitted").inferred_type == "categorical"
    assert (result.frame["readmitted"] == "<30").sum() == 11_357
    # The literal "None" (not measured) is a category, never silently missing.
    assert "None" in result.frame["max_glu_serum"].cat.categories
    flagged = {f.column: f.category for f in result.identifier_flags}
    assert flagged == {"encounter_id": "other_unique_id", "patient_nbr": "medical_record_number"}


def _excel_bytes(frame: pd.DataFrame, *, notes_first: bool) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        if notes_first:
            pd.DataFrame({"About": ["Heart failure cohort, exported for the study."]}).to_excel(
                writer, sheet_name="Notes", index=False
            )
        frame.to_excel(writer, sheet_name="Data", index=False)
    return buffer.getvalue()


def test_excel_with_data_on_second_sheet(datasets_dir: Path, heart) -> None:
    plain = pd.read_csv(datasets_dir / HEART)
    data = _excel_bytes(plain, notes_first=True)
    chosen = read_table(data, filename="cohort.xlsx")
    assert chosen.format == "xlsx" and chosen.sheet == "Data" and chosen.sheet_names == ("Notes", "Data")
    assert [w.key for w in chosen.warnings] == ["ingest.sheet_chosen"]
    assert chosen.types == heart.types
    pd.testing.assert_frame_equal(chosen.frame, heart.frame, check_dtype=False)
    by_name = read_table(data, filename="cohort.xlsx", options=ReadOptions(sheet="Data"))
    by_index = read_table(data, filename="cohort.xlsx", options=ReadOptions(sheet=1))
    pd.testing.assert_frame_equal(by_name.frame, chosen.frame)
    pd.testing.assert_frame_equal(by_index.frame, chosen.frame)
    notes = read_table(data, filename="cohort.xlsx", options=ReadOptions(sheet="Notes"))
    assert notes.frame.shape == (1, 1)
    with pytest.raises(IngestError) as err:
        read_table(data, filename="cohort.xlsx", options=ReadOptions(sheet="Missing"))
    assert err.value.key == "ingest.unknown_sheet" and err.value.params["sheets"] == ["Notes", "Data"]


def test_excel_header_row_choice(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Ward 3 export"], ["generated 2024-01-05"], ["age", "sodium"], [63, 140], [71, 135]):
        sheet.append(row)
    path = tmp_path / "export.xlsx"
    book.save(path)
    guessed = read_table(path, filename=path.name)
    assert list(guessed.frame.columns) == ["age", "sodium"] and guessed.header_row == 2
    chosen = read_table(path, filename=path.name, options=ReadOptions(header_row=2))
    pd.testing.assert_frame_equal(chosen.frame, guessed.frame)
    assert chosen.warnings == ()


def test_parquet_and_statistics_files_with_value_labels(tmp_path: Path, heart) -> None:
    import pyreadstat

    parquet = tmp_path / "hf.parquet"
    pq.write_table(pa.Table.from_pandas(heart.frame, preserve_index=False), parquet)
    again = read_table(parquet, filename=parquet.name)
    assert again.format == "parquet" and again.types == heart.types

    frame = pd.DataFrame({"age": [63.0, 71.0, 55.0, 48.0], "sex": [1.0, 2.0, 2.0, 1.0], "nyha": [1.0, 2.0, 3.0, 4.0]})
    labels = {"sex": {1.0: "male", 2.0: "female"}, "nyha": {1.0: "I", 2.0: "II", 3.0: "III", 4.0: "IV"}}
    sav, dta = tmp_path / "cohort.sav", tmp_path / "cohort.dta"
    pyreadstat.write_sav(frame, str(sav), variable_value_labels=labels, column_labels=["Age (years)", "Sex", "NYHA class"])
    pyreadstat.write_dta(frame, str(dta), variable_value_labels=labels)
    for path, kind in ((sav, "sav"), (dta, "dta")):
        result = read_table(path, filename=path.name)
        assert result.format == kind
        assert result.types == {"age": "integer", "sex": "binary", "nyha": "categorical"}
        assert list(result.frame["sex"]) == ["male", "female", "female", "male"]
        assert isinstance(result.frame["nyha"].dtype, pd.CategoricalDtype)
    assert read_table(sav, filename="cohort.sav").column("age").label == "Age (years)"


def test_extension_mismatch_is_reported_and_content_wins(datasets_dir: Path, heart) -> None:
    raw = (datasets_dir / HEART).read_bytes()
    result = read_table(raw, filename="export.xlsx")
    assert result.format == "csv"
    assert [(w.key, w.params["detected"]) for w in result.warnings] == [("ingest.extension_mismatch", "csv")]
    pd.testing.assert_frame_equal(result.frame, heart.frame)


def test_missing_codes_are_proposed_then_applied_only_on_agreement() -> None:
    data = b"age,crp,ward,code\n63,1.5,A,001\n71,NA,B,002\n55,?,A,010\n60,2.5,-,011\n58,999,B,012\n61,3.5,A,013\n"
    result = read_table(data, filename="labs.csv", options=ReadOptions(missing_codes=("NA", "?", "-", "999")))
    crp = result.column("crp")
    assert crp.inferred_type == "numeric"
    assert dict(crp.proposed_missing) == {"NA": 1, "?": 1, "999": 1}
    assert result.frame["crp"].isna().sum() == 0  # nothing applied yet
    assert result.column("ward").proposed_missing == (("-", 1),)
    # Leading zeros mean a code, not a number.
    code = result.column("code")
    assert code.inferred_type != "integer" and list(result.frame["code"].astype(str))[:2] == ["001", "002"]
    agreed = apply_missing_codes(result.frame, {"crp": ["NA", "?"], "ward": ["-"]})
    assert list(agreed["crp"].isna()) == [False, True, True, False, False, False]
    assert agreed["crp"].dropna().tolist() == [1.5, 2.5, 999.0, 3.5]
    assert agreed["ward"].isna().sum() == 1
    numeric_code = apply_missing_codes(agreed, {"crp": ["999"]})
    assert numeric_code["crp"].isna().sum() == 3
    with pytest.raises(IngestError) as err:
        apply_missing_codes(result.frame, {"nope": ["NA"]})
    assert err.value.key == "ingest.unknown_column"


def test_decimal_comma_and_explicit_delimiter() -> None:
    data = "age;creatinine;ward\n63;1,2;내과\n71;0,9;외과\n55;2,45;내과\n".encode()
    result = read_table(data, filename="labs.csv")
    assert result.delimiter == ";" and result.decimal == ","
    assert result.frame["creatinine"].tolist() == [1.2, 0.9, 2.45]
    # The user's choice wins: with "," as delimiter the decimal commas split rows unevenly.
    with pytest.raises(IngestError) as err:
        read_table(data, filename="labs.csv", options=ReadOptions(delimiter=",", decimal="."))
    assert err.value.key == "ingest.ragged_row" and err.value.params == {"line": 2, "expected": 1, "found": 2}


def test_latin1_only_when_asked() -> None:
    data = "name,city,age\nJosé,Montréal,63\nFrançois,Zürich,71\n".encode("latin-1")
    with pytest.raises(IngestError) as err:
        read_table(data, filename="x.csv")
    assert err.value.key == "ingest.unknown_encoding"
    result = read_table(data, filename="x.csv", options=ReadOptions(encoding="Latin1"))
    assert result.encoding == "latin-1" and result.frame["city"].tolist() == ["Montréal", "Zürich"]


def test_dates_are_typed_and_ambiguous_ones_left_for_the_user() -> None:
    data = b"id,admitted,visit\n1,2020-03-04,03/04/2020\n2,2021-12-31,05/06/2021\n3,2019-07-08,07/08/2019\n"
    result = read_table(data, filename="d.csv")
    assert result.column("admitted").inferred_type == "datetime"
    assert str(result.frame["admitted"].iloc[1].date()) == "2021-12-31"
    assert result.column("visit").inferred_type != "datetime"
    assert ("ingest.ambiguous_dates", "visit") in [(w.key, w.params.get("column")) for w in result.warnings]
    with pytest.raises(IngestError) as err:
        override_types(result, {"visit": "datetime"})
    assert err.value.key == "ingest.ambiguous_dates"
    settled = override_types(result, {"visit": "datetime"}, date_formats={"visit": "%d/%m/%Y"})
    assert str(settled.frame["visit"].iloc[0].date()) == "2020-04-03"
    assert settled.column("visit").overridden
    assert any(f.column == "visit" and f.category == "date" for f in settled.identifier_flags)


def test_override_types_converts_or_names_the_bad_values(heart) -> None:
    changed = override_types(heart, {"ejection_fraction": "categorical", "age": "numeric"})
    assert isinstance(changed.frame["ejection_fraction"].dtype, pd.CategoricalDtype)
    assert changed.column("ejection_fraction").inferred_type == "categorical"
    assert heart.column("ejection_fraction").inferred_type == "integer"  # the original is untouched
    with pytest.raises(IngestError) as err:
        override_types(heart, {"age": "integer"})
    assert err.value.key == "ingest.cannot_convert" and err.value.params["column"] == "age"
    with pytest.raises(IngestError) as err:
        override_types(heart, {"age": "number"})
    assert err.value.key == "ingest.unknown_type"
    text = read_table(b"id,crp\n1,1.5\n2,<0.5\n3,2.5\n4,3.5\n5,1.0\n", filename="c.csv")
    with pytest.raises(IngestError) as err:
        override_types(text, {"crp": "numeric"})
    assert err.value.params["examples"] == ["<0.5"] and err.value.params["count"] == 1


def test_size_limit_and_missing_file(datasets_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestError) as err:
        read_table(datasets_dir / HEART, filename=HEART, options=ReadOptions(max_bytes=10_000))
    assert err.value.key == "ingest.too_large"
    with pytest.raises(IngestError) as err:
        read_table(tmp_path / "absent.csv", filename="absent.csv")
    assert err.value.key == "ingest.file_not_found"
    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * 100_000)
    with pytest.raises(IngestError) as err:
        read_table(bomb, filename="x.csv.gz", options=ReadOptions(max_bytes=50_000))
    assert err.value.key == "ingest.too_large"


def test_summary_for_the_cli_is_json_and_holds_no_values() -> None:
    import json

    data = "성명,나이,crp\n홍길동,63,NA\n김영희,71,2.5\n이철수,55,3.5\n박민수,60,1.5\n".encode("cp949")
    summary = read_table(data, filename="x.csv").to_summary()
    text = json.dumps(summary, ensure_ascii=False)
    assert "홍길동" not in text and "2.5" not in text
    assert summary["encoding"] == "cp949" and summary["rows"] == 4
    assert [c["type"] for c in summary["columns"]] == ["categorical", "integer", "numeric"]
    assert summary["columns"][2]["proposed_missing"] == [["NA", 1]]
    assert summary["identifier_flags"][0]["category"] == "name"


def test_csv_title_rows_are_skipped_or_chosen() -> None:
    data = b"Ward 3 export,,\ngenerated 2024-01-05,,\n,,\nage,sodium,sex\n63,140,M\n71,135,F\n55,142,F\n"
    guessed = read_table(data, filename="x.csv")
    assert list(guessed.frame.columns) == ["age", "sodium", "sex"] and guessed.header_row == 3
    assert [w.key for w in guessed.warnings] == ["ingest.header_row_guessed"]
    chosen = read_table(data, filename="x.csv", options=ReadOptions(header_row=3))
    assert chosen.warnings == () and chosen.frame.shape == (3, 3)
    pd.testing.assert_frame_equal(chosen.frame, guessed.frame)


def test_legacy_xls_with_serial_dates(tmp_path: Path, datasets_dir: Path) -> None:
    import datetime as dt

    import xlwt  # test-only: writes the legacy format that xlrd reads

    frame = pd.read_csv(datasets_dir / HEART).head(40)
    book = xlwt.Workbook()
    book.add_sheet("Notes").write(0, 0, "cohort on the next sheet")
    data = book.add_sheet("Data")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    columns = [*frame.columns, "admitted"]
    for j, name in enumerate(columns):
        data.write(0, j, name)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            data.write(i, j, float(value))
        data.write(i, len(columns) - 1, dt.date(2015, 1 + i % 12, 1 + i % 28), date_style)
    path = tmp_path / "legacy.xls"
    book.save(str(path))
    result = read_table(path, filename=path.name)
    assert result.format == "xls" and result.sheet == "Data" and result.frame.shape == (40, 14)
    assert result.column("admitted").inferred_type == "datetime"
    assert str(result.frame["admitted"].iloc[0].date()) == "2015-02-02"
    assert result.column("DEATH_EVENT").inferred_type == "binary"
    assert result.frame["serum_creatinine"].tolist() == frame["serum_creatinine"].tolist()
    assert [(f.column, f.category) for f in result.identifier_flags] == [("admitted", "date")]


def test_korean_text_after_the_first_megabyte_switches_to_cp949() -> None:
    data = b"id,ward\n" + b"".join(b"%d,ICU\n" % i for i in range(200_000)) + "200000,내과\n".encode("cp949")
    result = read_table(data, filename="x.csv")
    assert result.encoding == "cp949" and result.frame["ward"].iloc[-1] == "내과"
    mixed = data + "200001,외과\n".encode("utf-8")
    with pytest.raises(IngestError) as err:
        read_table(mixed, filename="x.csv")
    assert err.value.key == "ingest.invalid_encoding_at" and err.value.params["line"] == 200_003
