"""Writing tables as CSV, XLSX (openpyxl) and DOCX (python-docx), formula-injection safe.

CSV is UTF-8 with a byte-order mark so that Excel opens Korean text correctly. XLSX keeps numbers
as numbers and stores every text cell as a string value (never a formula). DOCX tables use the
journal look: a bold header row, rules above and below the header and at the bottom only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from pipelines.errors import EvaluationError
from pipelines.tables._table import Table, safe_text

__all__ = ["to_csv", "to_xlsx", "to_docx", "write_table", "TABLE_FORMATS"]

TABLE_FORMATS = ("csv", "xlsx", "docx")


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if (v := safe_text(c)) is None else v for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in '[]:*?/\\')[:31] or "table"
    candidate, i = base, 2
    while candidate in used:
        candidate = f"{base[:28]}_{i}"
        i += 1
    used.add(candidate)
    return candidate


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One worksheet per table: title, header, rows, then the notes."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Alignment, Border, Font, Side

    if not tables:
        raise EvaluationError("evaluation.no_tables")
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    rule = Side(style="thin", color="000000")

    def put(sheet, r: int, c: int, value) -> None:
        v = safe_text(value)
        cell = sheet.cell(row=r, column=c)
        if isinstance(v, str):
            cell.value = v
            cell.data_type = TYPE_STRING  # a string, never parsed as a formula
        else:
            cell.value = v

    for table in tables:
        sheet = book.create_sheet(_sheet_name(table.name, used))
        put(sheet, 1, 1, table.title)
        sheet.cell(row=1, column=1).font = Font(bold=True)
        for j, name in enumerate(table.columns, start=1):
            put(sheet, 3, j, name)
            cell = sheet.cell(row=3, column=j)
            cell.font = Font(bold=True)
            cell.border = Border(top=rule, bottom=rule)
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        for i, row in enumerate(table.rows, start=4):
            for j, value in enumerate(row, start=1):
                put(sheet, i, j, value)
        last = 3 + len(table.rows)
        for j in range(1, len(table.columns) + 1):
            sheet.cell(row=last, column=j).border = Border(bottom=rule)
        for k, note in enumerate(table.notes):
            put(sheet, last + 2 + k, 1, note)
        for j, name in enumerate(table.columns, start=1):
            width = max([len(str(name))] + [len(str(r[j - 1])) for r in table.rows if r[j - 1] is not None])
            sheet.column_dimensions[sheet.cell(row=3, column=j).column_letter].width = min(max(width + 2, 8), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_docx(tables: Sequence[Table]) -> bytes:
    """A Word document with each table under its title and followed by its notes."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    if not tables:
        raise EvaluationError("evaluation.no_tables")
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(9)

    def rules(cell, *, top: bool, bottom: bool) -> None:
        borders = OxmlElement("w:tcBorders")
        for edge, on in (("top", top), ("bottom", bottom)):
            if on:
                element = OxmlElement(f"w:{edge}")
                element.set(qn("w:val"), "single")
                element.set(qn("w:sz"), "6")
                element.set(qn("w:color"), "000000")
                borders.append(element)
        cell._tc.get_or_add_tcPr().append(borders)

    for n, table in enumerate(tables):
        if n:
            document.add_paragraph()
        title = document.add_paragraph()
        title.add_run(str(table.title)).bold = True
        grid = document.add_table(rows=1 + len(table.rows), cols=len(table.columns))
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        for j, name in enumerate(table.columns):
            cell = grid.rows[0].cells[j]
            cell.text = ""
            cell.paragraphs[0].add_run(str(safe_text(name))).bold = True
            rules(cell, top=True, bottom=True)
        for i, row in enumerate(table.rows, start=1):
            for j, value in enumerate(row):
                v = safe_text(value)
                cell = grid.rows[i].cells[j]
                cell.text = "" if v is None else str(v)
                if i == len(table.rows):
                    rules(cell, top=False, bottom=True)
        for note in table.notes:
            paragraph = document.add_paragraph()
            run = paragraph.add_run(str(safe_text(note)))
            run.font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_table(tables: Table | Sequence[Table], path: str | Path, *, fmt: str | None = None) -> Path:
    """Write to ``path`` (format from the suffix unless ``fmt``); CSV takes exactly one table."""
    target = Path(path)
    chosen = (fmt or target.suffix.lstrip(".")).lower()
    items = [tables] if isinstance(tables, Table) else list(tables)
    if chosen not in TABLE_FORMATS:
        raise EvaluationError("evaluation.bad_table_format", value=chosen, allowed=list(TABLE_FORMATS))
    if chosen == "csv":
        if len(items) != 1:
            raise EvaluationError("evaluation.csv_one_table", n=len(items))
        data = to_csv(items[0])
    elif chosen == "xlsx":
        data = to_xlsx(items)
    else:
        data = to_docx(items)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
