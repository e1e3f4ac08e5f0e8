"""A read choice that fails on the upload page (an encoding, a sheet) loses nothing: the file stays
staged, the message says that the file itself is readable and what to change, and the next choice is
read at once. It used to discard the upload on the first failed choice, so a mistyped encoding or an
empty sheet meant removing the file and uploading it again. Real tables: the heart-failure records
as a CP949 export with a Korean column, and in a workbook whose second sheet is empty."""

from __future__ import annotations

import io

import pandas as pd

from tests.pages.conftest import open_page
from workbench.artifacts import ArtifactStore

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _staged(at):
    return at.session_state["upload_staged"]


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_a_wrong_encoding_keeps_the_file_and_detect_reads_it(app_env, datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").rename(columns={"age": "나이"})
    data = frame.to_csv(index=False).encode("cp949")
    at = open_page("data.py")
    at.file_uploader[0].upload("emr export.csv", data, "text/csv").run()
    assert any("299 rows × 13 columns" in s.value for s in at.success), [s.value for s in at.success]
    encoding = next(s for s in at.selectbox if s.label == "Text encoding")

    encoding.select("utf-16").run()
    assert not at.exception, at.exception
    assert any("The file itself can be read" in e for e in _errors(at)), _errors(at)
    assert "error" not in _staged(at)  # no verdict on the upload: the next choice is read
    assert ArtifactStore(app_env / "artifacts").exists(_staged(at)["digest"])

    next(s for s in at.selectbox if s.label == "Text encoding").select("").run()
    assert not at.exception and not _errors(at), _errors(at)
    assert any("299 rows × 13 columns" in s.value and "CP949" in s.value.upper() for s in at.success), \
        [s.value for s in at.success]


def test_an_empty_sheet_keeps_the_workbook_and_the_sheet_picker(app_env, datasets_dir):
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").to_excel(writer, sheet_name="data", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="notes", index=False)
    at = open_page("data.py", lang="ko")
    at.file_uploader[0].upload("two sheets.xlsx", buffer.getvalue(), XLSX).run()
    next(s for s in at.selectbox if s.label == "엑셀 시트").select("notes").run()
    assert not at.exception, at.exception
    assert any("파일 자체는 읽을 수 있습니다" in e for e in _errors(at)), _errors(at)
    picker = next(s for s in at.selectbox if s.label == "엑셀 시트")  # still there, to pick another sheet
    assert picker.options == ["data", "notes"]

    picker.select("data").run()
    assert not at.exception and not _errors(at), _errors(at)
    assert any("299행 × 13열" in s.value for s in at.success), [s.value for s in at.success]
