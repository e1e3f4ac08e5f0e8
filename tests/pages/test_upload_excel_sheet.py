"""The Data page's upload of an Excel workbook with two sheets (AppTest uploads files since Streamlit
1.67): the largest sheet is read first, the sheet picker lists the workbook's own sheets, and picking the
second one reads it instead (the page in Korean). Real tables: the heart-failure records on the first
sheet, the first 60 Cleveland heart-disease patients on the second."""

from __future__ import annotations

import io

import pandas as pd

from tests.pages.conftest import open_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(datasets_dir) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv").to_excel(writer, sheet_name="심부전", index=False)
        pd.read_csv(datasets_dir / "heart_cleveland.csv").head(60).to_excel(writer, sheet_name="cleveland", index=False)
    return buffer.getvalue()


def test_a_workbooks_second_sheet_is_picked_from_its_sheets(app_env, datasets_dir):
    at = open_page("data.py", lang="ko")
    # the box's own English texts cannot be translated: the line above it says how, with the box's real limit
    assert any("파일당 최대 1024MB" in c.value for c in at.caption) and at.file_uploader[0].proto.max_upload_size_mb == 1024
    assert not [s for s in at.selectbox if s.label == "엑셀 시트"]  # no sheets to pick before a workbook is read
    at.file_uploader[0].upload("two sheets.xlsx", _workbook(datasets_dir), XLSX).run()
    assert not at.exception, at.exception
    assert any(s.value == "XLSX 형식으로 읽었습니다: 299행 × 13열." for s in at.success), [s.value for s in at.success]
    picker = next(s for s in at.selectbox if s.label == "엑셀 시트")
    assert picker.options == ["심부전", "cleveland"] and picker.value == "심부전"

    picker.select("cleveland").run()
    assert not at.exception, at.exception
    assert any("60행 × 14열" in s.value for s in at.success), [s.value for s in at.success]
    assert any('"cleveland" 시트를 읽었습니다' in i.value for i in at.info), [i.value for i in at.info]
    assert next(s for s in at.selectbox if s.label == "엑셀 시트").value == "cleveland"
    types = at.dataframe  # the column table is a data editor; the preview holds the sheet's own columns
    assert any("thal" in [str(c) for c in frame.value.columns] for frame in types), [list(f.value.columns) for f in types]
