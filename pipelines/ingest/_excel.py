"""Excel workbooks, opened only after the archive and its XML were checked for bombs.

An ``.xlsx`` is a zip of XML files: a few kilobytes can expand to gigabytes (zip bomb) or define
entities that expand exponentially (billion laughs). Both are refused before openpyxl sees the
file; openpyxl itself parses through defusedxml as a second line of defence.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.errors import IngestError

__all__ = ["read_xlsx", "read_xls", "check_zip"]

MAX_RATIO = 200
_MAX_HEADER_SCAN = 30


def check_zip(path: Path, *, max_bytes: int) -> None:
    """Refuse archives whose members expand beyond the limit or suspiciously far, or carry DTDs."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise IngestError("ingest.zip_bomb", megabytes=round(total / 2**20), limit=round(max_bytes / 2**20))
            for info in infos:
                if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise IngestError("ingest.zip_bomb", megabytes=round(total / 2**20), limit=round(max_bytes / 2**20))
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with archive.open(info) as member:
                        head = member.read(1 << 16)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise IngestError("ingest.xml_entities", member=info.filename)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise IngestError("ingest.corrupt_zip") from None


def read_xlsx(
    path: Path, *, sheet: str | int | None, header_row: int | None, max_bytes: int
) -> tuple[pa.Table, str, list[str], int, list[tuple[str, dict]]]:
    """The chosen (or the largest) sheet as Arrow; returns table, sheet, sheet names, header row, warnings."""
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    check_zip(path, max_bytes=max_bytes)
    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a declared dependency
        raise IngestError("ingest.xml_entities", member="(defusedxml missing)")
    # A file object, not the path: openpyxl refuses paths whose extension is not .xlsx, and
    # the format was already decided from the content.
    handle = path.open("rb")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a damaged workbook
        handle.close()
        if "Entities" in type(exc).__name__ or "DTD" in type(exc).__name__:
            raise IngestError("ingest.xml_entities", member="workbook") from None
        raise IngestError("ingest.corrupt_excel", detail=type(exc).__name__) from None
    try:
        names = list(book.sheetnames)
        if not names:
            raise IngestError("ingest.no_sheets")
        warnings: list[tuple[str, dict]] = []
        try:
            if sheet is None:
                chosen = max(names, key=lambda n: _sheet_size(book[n]))
                if len(names) > 1:
                    warnings.append(("ingest.sheet_chosen", {"sheet": chosen, "sheets": names}))
            else:
                chosen = _resolve_sheet(sheet, names)
            rows = [list(r) for r in book[chosen].iter_rows(values_only=True)]
        except IngestError:
            raise
        except Exception as exc:
            if "Entities" in type(exc).__name__ or "DTD" in type(exc).__name__:
                raise IngestError("ingest.xml_entities", member="worksheet") from None
            raise IngestError("ingest.corrupt_excel", detail=type(exc).__name__) from None
    finally:
        book.close()
        handle.close()
    table, header_index, more = rows_to_table(rows, header_row=header_row, sheet=chosen)
    return table, chosen, names, header_index, warnings + more


def read_xls(
    path: Path, *, sheet: str | int | None, header_row: int | None
) -> tuple[pa.Table, str, list[str], int, list[tuple[str, dict]]]:
    """Legacy ``.xls`` through xlrd, with Excel's serial dates turned into dates."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd's errors are plain and varied
        raise IngestError("ingest.corrupt_excel", detail=type(exc).__name__) from None
    try:
        names = book.sheet_names()
        if not names:
            raise IngestError("ingest.no_sheets")
        warnings: list[tuple[str, dict]] = []

        def sheet_rows(name: str) -> list[list[Any]]:
            s = book.sheet_by_name(name)
            out = []
            for r in range(s.nrows):
                row = []
                for cell in s.row(r):
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                        row.append(None)
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        row.append(bool(cell.value))
                    else:
                        row.append(cell.value)
                out.append(row)
            return out

        if sheet is None:
            all_rows = {name: sheet_rows(name) for name in names}
            chosen = max(names, key=lambda n: _filled_cells(all_rows[n]))
            rows = all_rows[chosen]
            if len(names) > 1:
                warnings.append(("ingest.sheet_chosen", {"sheet": chosen, "sheets": names}))
        else:
            chosen = _resolve_sheet(sheet, names)
            rows = sheet_rows(chosen)
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError("ingest.corrupt_excel", detail=type(exc).__name__) from None
    finally:
        book.release_resources()
    table, header_index, more = rows_to_table(rows, header_row=header_row, sheet=chosen)
    return table, chosen, names, header_index, warnings + more


def _resolve_sheet(sheet: str | int, names: list[str]) -> str:
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return names[sheet]
    elif sheet in names:
        return str(sheet)
    raise IngestError("ingest.unknown_sheet", sheet=sheet, sheets=names)


def _sheet_size(worksheet: Any) -> int:
    """Cells in a sheet's used range, from its stored dimension; counted by streaming when absent.

    Only the chosen sheet is then held in memory, not every sheet of the workbook.
    """
    try:
        rows, columns = worksheet.max_row, worksheet.max_column
    except Exception:  # a malformed dimension tag
        rows = columns = None
    if rows and columns and (rows, columns) != (1, 1):
        return int(rows) * int(columns)
    return sum(1 for row in worksheet.iter_rows(values_only=True) for value in row if not _blank(value))


def _filled_cells(rows: list) -> int:
    return sum(1 for row in rows for value in row if value not in (None, ""))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def rows_to_table(
    rows: list[list[Any]], *, header_row: int | None, sheet: str
) -> tuple[pa.Table, int, list[tuple[str, dict]]]:
    """Cells to an Arrow table: header located, trailing blank rows/columns dropped, columns typed."""
    warnings: list[tuple[str, dict]] = []
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise IngestError("ingest.empty_sheet", sheet=sheet)
    if header_row is None:
        header_row = _guess_header_row(rows)
        if header_row > 0:
            warnings.append(("ingest.header_row_guessed", {"row": header_row + 1}))
    elif header_row >= len(rows):
        raise IngestError("ingest.header_row_out_of_range", header_row=header_row + 1, rows=len(rows))
    header_cells = list(rows[header_row])
    while header_cells and _blank(header_cells[-1]):
        header_cells.pop()
    width = len(header_cells)
    body = rows[header_row + 1 :]
    extra = [i for i, row in enumerate(body) if any(not _blank(v) for v in row[width:])]
    if extra:
        line = header_row + 2 + extra[0]
        found = max(i for i, v in enumerate(body[extra[0]]) if not _blank(v)) + 1
        raise IngestError("ingest.ragged_row", line=line, expected=width, found=found)
    from ._delimited import MAX_COLUMNS, _check_header

    header = ["" if v is None else (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else str(v)).strip() for v in header_cells]
    if len(header) > MAX_COLUMNS:
        raise IngestError("ingest.too_many_columns", columns=len(header), limit=MAX_COLUMNS)
    _check_header(header)
    body = [row for row in body if any(not _blank(v) for v in row[:width])]
    if not body:
        raise IngestError("ingest.no_rows", columns=width)
    arrays = []
    for index, name in enumerate(header):
        values = [row[index] if index < len(row) else None for row in body]
        array, mixed = _column_array(values)
        if mixed:
            warnings.append(("ingest.mixed_cell_types", {"column": name}))
        arrays.append(array)
    return pa.table(arrays, names=header), header_row, warnings


def _guess_header_row(rows: list[list[Any]]) -> int:
    """The first row that is as wide as the table and holds only text: title rows above it are skipped."""
    scan = rows[:_MAX_HEADER_SCAN]
    widths = [sum(1 for v in row if not _blank(v)) for row in scan]
    widest = max(widths)
    for index, row in enumerate(scan):
        cells = [v for v in row if not _blank(v)]
        if widths[index] >= max(2, 0.8 * widest) and all(isinstance(v, str) for v in cells):
            return index
    return 0


def _column_array(values: list[Any]) -> tuple[pa.Array, bool]:
    """One typed Arrow array; cells of mixed kinds become text (reported), never Python objects."""
    cleaned = [None if _blank(v) else (v.strip() if isinstance(v, str) else v) for v in values]
    present = [v for v in cleaned if v is not None]
    kinds = {_kind(v) for v in present}
    if not kinds:
        return pa.array([None] * len(cleaned), type=pa.string()), False
    if kinds == {"bool"}:
        return pa.array(cleaned, type=pa.bool_()), False
    if kinds <= {"int", "float", "bool"} and "bool" not in kinds:
        if kinds == {"int"}:
            return pa.array(cleaned, type=pa.int64()), False
        return pa.array([None if v is None else float(v) for v in cleaned], type=pa.float64()), False
    if kinds <= {"datetime", "date"}:
        stamps = [None if v is None else (v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)) for v in cleaned]
        return pa.array(stamps, type=pa.timestamp("us")), False
    if kinds == {"time"}:
        return pa.array([None if v is None else v.isoformat() for v in cleaned], type=pa.string()), False
    text = [None if v is None else _as_text(v) for v in cleaned]
    dated = kinds & {"datetime", "date", "time"}
    return pa.array(text, type=pa.string()), bool(dated) and bool(kinds - dated)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "int" if value.is_integer() and abs(value) < 2**53 else "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return "str"


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)
