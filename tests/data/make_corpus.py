"""Regenerate the hostile-file corpus in ``tests/data/hostile/`` (and the big files on demand).

Every file is built from code here, so the corpus can be reviewed and rebuilt:

    python tests/data/make_corpus.py            # writes tests/data/hostile/*
    python tests/data/make_corpus.py --big DIR  # also the big ones (10^5 columns), kept out of git

``EXPECTED`` is the table the test checks: for each file the error key it must end in, or
``"ok"`` with warning keys the reading must report. Options (a small ``max_bytes``, an explicit
encoding) are part of the row. Everything stays small: the committed corpus is well under 5 MB.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOSTILE = HERE / "hostile"

# file -> {"error": key} or {"ok": [warning keys]}; optional "options" passed to ReadOptions.
EXPECTED: dict[str, dict] = {
    "empty.csv": {"error": "ingest.empty_file"},
    "whitespace_only.csv": {"error": "ingest.empty_file"},
    "header_only.csv": {"error": "ingest.no_rows"},
    "ragged_more_fields.csv": {"error": "ingest.ragged_row"},
    "ragged_fewer_fields.csv": {"error": "ingest.ragged_row"},
    "unclosed_quote.csv": {"error": "ingest.unclosed_quote"},
    "nul_bytes.csv": {"error": "ingest.nul_bytes"},
    "duplicate_columns.csv": {"error": "ingest.duplicate_columns"},
    "duplicate_columns_case.csv": {"error": "ingest.duplicate_columns"},
    "empty_header_cell.csv": {"error": "ingest.empty_header"},
    "pandas_index_column.csv": {"error": "ingest.empty_header"},
    "all_empty_column.csv": {"ok": ["ingest.empty_column"]},
    "only_missing_codes.csv": {"ok": ["ingest.only_missing_codes"]},
    "mixed_types_lab.csv": {"ok": ["ingest.mostly_numeric"]},
    "ambiguous_dates.csv": {"ok": ["ingest.ambiguous_dates"]},
    "day_first_dates.csv": {"ok": []},
    "xlsx_named_csv.csv": {"ok": ["ingest.extension_mismatch"]},
    "csv_named_xlsx.xlsx": {"ok": ["ingest.extension_mismatch"]},
    "renamed_elf_binary.csv": {"error": "ingest.not_a_table"},
    "pdf_named_csv.csv": {"error": "ingest.not_a_table"},
    "png_named_xlsx.xlsx": {"error": "ingest.not_a_table"},
    "truncated.parquet": {"error": "ingest.truncated_parquet"},
    "corrupt_body.parquet": {"error": "ingest.corrupt_parquet"},
    "nested_column.parquet": {"error": "ingest.unsupported_column_type"},
    "zip_bomb.xlsx": {"error": "ingest.zip_bomb"},
    "billion_laughs.xlsx": {"error": "ingest.xml_entities"},
    "external_entity.xlsx": {"error": "ingest.xml_entities"},
    "corrupt_zip.xlsx": {"error": "ingest.corrupt_zip"},
    "plain_archive.zip": {"error": "ingest.zip_archive"},
    "word_named_xlsx.xlsx": {"error": "ingest.not_a_table"},
    "binary_workbook.xlsb": {"error": "ingest.xlsb_unsupported"},
    "empty_sheet.xlsx": {"error": "ingest.empty_sheet"},
    "header_only.xlsx": {"error": "ingest.no_rows"},
    "duplicate_columns.xlsx": {"error": "ingest.duplicate_columns"},
    "ragged.xlsx": {"error": "ingest.ragged_row"},
    "title_rows.xlsx": {"ok": ["ingest.header_row_guessed"]},
    "title_rows.csv": {"ok": ["ingest.header_row_guessed"]},
    "title_rows_chosen.csv": {"ok": [], "options": {"header_row": 2}},
    "data_on_second_sheet.xlsx": {"ok": ["ingest.sheet_chosen"]},
    "html_table.xls": {"error": "ingest.html_file"},
    "ole_garbage.xls": {"error": "ingest.corrupt_excel"},
    "fake_spss.sav": {"error": "ingest.corrupt_statistics_file"},
    "fake_stata.dta": {"error": "ingest.corrupt_statistics_file"},
    "fake_sas.sas7bdat": {"error": "ingest.corrupt_statistics_file"},
    "latin1_accents.csv": {"error": "ingest.unknown_encoding"},
    "latin1_accents_chosen.csv": {"ok": [], "options": {"encoding": "latin-1"}},
    "bad_encoding_name.csv": {"error": "ingest.unknown_encoding_name", "options": {"encoding": "klingon-8"}},
    "cp949_then_utf8_line.csv": {"error": "ingest.invalid_encoding_at", "options": {"encoding": "cp949"}},
    "random_bytes.bin": {"error": "ingest.nul_bytes"},
    "truncated.csv.gz": {"error": "ingest.corrupt_gzip"},
    "gzipped.csv.gz": {"ok": []},
    "oversize_for_limit.csv": {"error": "ingest.too_large", "options": {"max_bytes": 1000}},
    "gzip_expands_over_limit.csv.gz": {"error": "ingest.too_large", "options": {"max_bytes": 100_000}},
    "caret_separated.csv": {"ok": ["ingest.single_column"]},
    "blank_lines_crlf_quoted_newlines.csv": {"ok": []},
    "cp949_korean.csv": {"ok": []},
    "utf16_tab.txt": {"ok": []},
    "semicolon_decimal_comma.csv": {"ok": []},
    "header_row_beyond_end.csv": {"error": "ingest.header_row_out_of_range", "options": {"header_row": 50}},
    "unknown_sheet.xlsx": {"error": "ingest.unknown_sheet", "options": {"sheet": "Nope"}},
}
BIG_EXPECTED: dict[str, dict] = {
    "columns_100k.csv": {"error": "ingest.too_many_columns"},
}


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite_zip(data: bytes, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, payload in (extra or {}).items():
            target.writestr(name, payload)
    return out.getvalue()


_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""

_XXE = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>"""


def build(target: Path = HOSTILE) -> dict[str, dict]:
    """Write every small hostile file into ``target`` and the expectation table beside them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240404)
    files: dict[str, bytes] = {}
    table = b"id,age,sodium\n1,63,140\n2,71,135\n3,55,142\n"
    files["empty.csv"] = b""
    files["whitespace_only.csv"] = b"\n  \n\t\n"
    files["header_only.csv"] = b"age,sex,glucose\n"
    files["ragged_more_fields.csv"] = b"age,sex,glucose\n63,1,140\n71,0,135,99\n55,1,120\n"
    files["ragged_fewer_fields.csv"] = b"age,sex,glucose\n63,1,140\n71,0\n55,1,120\n"
    files["unclosed_quote.csv"] = b'age,note\n63,"fine"\n71,"never closed\n55,ok\n'
    files["nul_bytes.csv"] = b"age,sex\n63,1\n71,\x000\n"
    files["duplicate_columns.csv"] = b"age,sex,age\n63,1,64\n71,0,72\n"
    files["duplicate_columns_case.csv"] = b"Age,sex,age\n63,1,64\n71,0,72\n"
    files["empty_header_cell.csv"] = b"age,,glucose\n63,1,140\n71,0,135\n"
    files["pandas_index_column.csv"] = b",age,glucose\n0,63,140\n1,71,135\n"
    files["all_empty_column.csv"] = b"age,comment,glucose\n63,,140\n71,,135\n55,,120\n"
    files["only_missing_codes.csv"] = b"age,bmi\n63,NA\n71,NA\n55,N/A\n"
    lab = ["age,crp"] + [f"{40 + i},{rng.uniform(0.5, 9):.1f}" for i in range(30)] + ["50,<0.5", "51,>200"]
    files["mixed_types_lab.csv"] = ("\n".join(lab) + "\n").encode()
    files["ambiguous_dates.csv"] = b"id,visit\n1,03/04/2020\n2,05/06/2021\n3,07/08/2019\n"
    files["day_first_dates.csv"] = b"id,visit\n1,25/04/2020\n2,05/06/2021\n3,17/08/2019\n"
    workbook = _xlsx({"Data": [["age", "sodium"], [63, 140], [71, 135]]})
    files["xlsx_named_csv.csv"] = workbook
    files["csv_named_xlsx.xlsx"] = table
    files["renamed_elf_binary.csv"] = b"\x7fELF\x02\x01\x01\x00" + bytes(rng.randrange(256) for _ in range(2000))
    files["pdf_named_csv.csv"] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
    files["png_named_xlsx.xlsx"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    parquet = io.BytesIO()
    pq.write_table(pa.table({"age": [63, 71, 55], "sodium": [140.0, 135.0, 142.0]}), parquet)
    files["truncated.parquet"] = parquet.getvalue()[: len(parquet.getvalue()) // 2]
    body = bytearray(parquet.getvalue())
    for position in range(8, len(body) - 8):
        body[position] = rng.randrange(256)
    files["corrupt_body.parquet"] = bytes(body)
    nested = io.BytesIO()
    pq.write_table(pa.table({"age": [63, 71], "labs": [[1, 2], [3]]}), nested)
    files["nested_column.parquet"] = nested.getvalue()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        source = zipfile.ZipFile(io.BytesIO(workbook))
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, b"<worksheet>" + b" " * (40 << 20) + b"</worksheet>")
            else:
                archive.writestr(info.filename, source.read(info.filename))
    files["zip_bomb.xlsx"] = bomb.getvalue()
    files["billion_laughs.xlsx"] = _rewrite_zip(workbook, {"xl/worksheets/sheet1.xml": _LAUGHS})
    files["external_entity.xlsx"] = _rewrite_zip(workbook, {"xl/worksheets/sheet1.xml": _XXE})
    files["corrupt_zip.xlsx"] = workbook[:200] + bytes(rng.randrange(256) for _ in range(300))
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("data.csv", table)
    files["plain_archive.zip"] = plain.getvalue()
    word = io.BytesIO()
    with zipfile.ZipFile(word, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"<document/>")
    files["word_named_xlsx.xlsx"] = word.getvalue()
    xlsb = io.BytesIO()
    with zipfile.ZipFile(xlsb, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    files["binary_workbook.xlsb"] = xlsb.getvalue()
    files["empty_sheet.xlsx"] = _xlsx({"Sheet1": []})
    files["header_only.xlsx"] = _xlsx({"Sheet1": [["age", "sodium"]]})
    files["duplicate_columns.xlsx"] = _xlsx({"Sheet1": [["age", "age"], [63, 64]]})
    files["ragged.xlsx"] = _xlsx({"Sheet1": [["age", "sodium"], [63, 140], [71, 135, "stray"]]})
    files["title_rows.xlsx"] = _xlsx(
        {"Report": [["Cardiology export 2024"], [], ["age", "sodium", "sex"], [63, 140, "M"], [71, 135, "F"], [55, 142, "F"]]}
    )
    files["data_on_second_sheet.xlsx"] = _xlsx(
        {"README": [["This workbook holds the cohort on the next sheet."]],
         "Cohort": [["age", "sodium", "sex"]] + [[40 + i, 130 + i % 10, "MF"[i % 2]] for i in range(20)]}
    )
    files["unknown_sheet.xlsx"] = workbook
    files["html_table.xls"] = b"<html><body><table><tr><td>age</td></tr><tr><td>63</td></tr></table></body></html>"
    files["ole_garbage.xls"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(1024))
    files["fake_spss.sav"] = b"$FL2@(#) IBM SPSS STATISTICS" + bytes(rng.randrange(256) for _ in range(200))
    files["fake_stata.dta"] = b"<stata_dta><header><release>118</release>" + bytes(rng.randrange(256) for _ in range(200))
    sas_magic = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
    files["fake_sas.sas7bdat"] = sas_magic + bytes(rng.randrange(256) for _ in range(300))
    latin = "name,city\nJosé,Montréal\nFrançois,Zürich\n".encode("latin-1")
    files["latin1_accents.csv"] = latin
    files["latin1_accents_chosen.csv"] = latin
    files["bad_encoding_name.csv"] = table
    files["cp949_then_utf8_line.csv"] = "이름,나이\n홍길동,63\n".encode("cp949") + "김철수,71\n".encode("utf-8")
    files["random_bytes.bin"] = bytes(rng.randrange(256) for _ in range(4096))
    compressed = gzip.compress(table * 50)
    files["truncated.csv.gz"] = compressed[: len(compressed) // 2]
    files["gzipped.csv.gz"] = gzip.compress(table)
    files["oversize_for_limit.csv"] = b"age,sodium\n" + b"63,140\n" * 400
    files["gzip_expands_over_limit.csv.gz"] = gzip.compress(b"age,sodium\n" + b"63,140\n" * 50_000)
    files["caret_separated.csv"] = b"age^sodium^sex\n63^140^M\n71^135^F\n55^142^F\n62^139^M\n"
    files["blank_lines_crlf_quoted_newlines.csv"] = (
        b'id,note,age\r\n1,"first line\r\nsecond line",63\r\n\r\n2,"says ""hi""",71\r\n3,,55\r\n\r\n'
    )
    files["cp949_korean.csv"] = "환자나이,성별,나트륨\n63,남,140\n71,여,135\n55,여,142\n".encode("cp949")
    files["utf16_tab.txt"] = "age\tsodium\tward\n63\t140\t내과\n71\t135\t외과\n".encode("utf-16")
    files["semicolon_decimal_comma.csv"] = b"age;creatinine;sodium\n63;1,2;140\n71;0,9;135\n55;2,45;142\n"
    files["header_row_beyond_end.csv"] = table
    titled = b"Cardiology export,,\n,,\n" + table.replace(b"id,age,sodium", b"id,age,sodium")
    files["title_rows.csv"] = titled
    files["title_rows_chosen.csv"] = titled
    assert set(files) == set(EXPECTED), set(files) ^ set(EXPECTED)
    for old in target.iterdir():
        if old.is_file():
            old.unlink()
    for name, payload in files.items():
        (target / name).write_bytes(payload)
    (target / "expected.json").write_text(json.dumps(EXPECTED, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return EXPECTED


def build_big(target: Path) -> dict[str, dict]:
    """Files too big to commit, written where the caller says (a pytest tmp folder)."""
    target.mkdir(parents=True, exist_ok=True)
    columns = 100_000
    header = ",".join(f"c{i}" for i in range(columns))
    row = ",".join("1" for _ in range(columns))
    (target / "columns_100k.csv").write_text(header + "\n" + row + "\n", encoding="ascii")
    return BIG_EXPECTED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big", type=Path, default=None, help="also write the big files into this folder")
    args = parser.parse_args()
    build()
    if args.big:
        build_big(args.big)
    total = sum(p.stat().st_size for p in HOSTILE.iterdir())
    print(f"{len(EXPECTED)} files, {total / 2**20:.2f} MiB in {HOSTILE}")


if __name__ == "__main__":
    main()
