"""Delimited text through DuckDB's CSV reader, with the dialect and header checked by us first.

DuckDB reads a million-row CSV in a few seconds at a fraction of pandas' memory (see
``benchmarks/ingest.py``), but its own sniffer is lenient in ways that hide problems from a
physician: it renames duplicate headers silently, turns a ragged file into one text column and
drops leading zeros of record numbers. So we sniff the delimiter, read and validate the header,
and propose column types from a sample ourselves, then let DuckDB parse strictly with exactly those
settings. Its strict-mode errors carry the line number we pass on to the user.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.errors import IngestError

__all__ = ["CsvDialect", "read_csv", "MAX_COLUMNS"]

MAX_COLUMNS = 10_000
_SAMPLE_BYTES = 1 << 20
_MAX_HEADER_BYTES = 32 << 20
_SAMPLE_ROWS = 2_000
_DELIMITERS = (",", ";", "\t", "|")
_INT = re.compile(r"^\s*[+-]?(0|[1-9]\d{0,17})\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_FLOAT_COMMA = re.compile(r"^\s*[+-]?\d+(,\d+)?\s*$")
_ISO_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_ISO_TIMESTAMP = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    decimal: str
    header_row: int


def read_csv(
    path: Path,
    *,
    delimiter: str | None,
    decimal: str | None,
    header_row: int | None,
    threads: int,
) -> tuple[pa.Table, CsvDialect, list[tuple[str, dict]]]:
    """Read a UTF-8 delimited file into Arrow; returns the table, the dialect used and warnings."""
    warnings: list[tuple[str, dict]] = []
    skip = header_row or 0
    text = _sample_text(path, skip)
    lines = text.splitlines()
    if skip >= len(lines) and skip > 0:
        raise IngestError("ingest.header_row_out_of_range", header_row=skip + 1, rows=len(lines))
    body = "\n".join(lines[skip:])
    if not body.strip():
        raise IngestError("ingest.empty_file")
    sniffed = delimiter is None
    if delimiter is None:
        delimiter = _sniff_delimiter(body)
    elif len(delimiter) != 1 or delimiter in "\"\r\n":
        raise IngestError("ingest.bad_delimiter", delimiter=delimiter)
    if header_row is None and sniffed:  # a user who picks the delimiter also picks the header row
        title_lines = _title_lines(lines, delimiter)
        if title_lines:
            skip = title_lines
            body = "\n".join(lines[skip:])
            warnings.append(("ingest.header_row_guessed", {"row": skip + 1}))
    rows = _sample_rows(body, delimiter)
    header = [name.strip() for name in rows[0]]
    _check_header(header)
    data = [row for row in rows[1:] if row]
    if not data:
        raise IngestError("ingest.no_rows", columns=len(header))
    if len(header) == 1:
        warnings.append(("ingest.single_column", {"column": header[0]}))
    if decimal is None:
        decimal = _guess_decimal(header, data, delimiter)
    elif decimal not in (".", ","):
        raise IngestError("ingest.bad_decimal", decimal=decimal)
    types = _sample_types(header, data, decimal)
    table = _duckdb_read(path, header=header, types=types, delimiter=delimiter, decimal=decimal, skip=skip, threads=threads)
    return table, CsvDialect(delimiter=delimiter, decimal=decimal, header_row=skip), warnings


def _sample_text(path: Path, skip: int) -> str:
    with path.open("rb") as handle:
        raw = handle.read(_SAMPLE_BYTES)
        while raw.count(b"\n") < skip + 2 and len(raw) < _MAX_HEADER_BYTES:
            more = handle.read(_SAMPLE_BYTES)
            if not more:
                break
            raw += more
        complete = not handle.read(1)
    if not complete:
        if raw.count(b"\n") < skip + 1:
            raise IngestError("ingest.line_too_long", megabytes=_MAX_HEADER_BYTES >> 20)
        raw = raw[: raw.rfind(b"\n") + 1]
    return raw.decode("utf-8-sig", errors="replace")


def _sniff_delimiter(body: str) -> str:
    """The candidate that splits the sample into the most columns, consistently across lines."""
    lines = [line for line in body.splitlines()[:200] if line.strip()]
    best, best_score = ",", 0.0
    for candidate in _DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=candidate)]
        except csv.Error:
            continue
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        consistent = counts.count(modal) / len(counts)
        score = consistent * modal if consistent >= 0.8 else 0.0
        if score > best_score:
            best, best_score = candidate, score
    return best


def _title_lines(lines: list[str], delimiter: str) -> int:
    """How many report-title lines precede the header (``Ward 3 export``, a date line, blank lines).

    A title line holds at most one non-empty cell (Excel pads it with delimiters: ``Title,,,``);
    the header is the first line with two or more cells and the table's usual width. Only the
    first 20 lines are considered, so a ragged row further down is still reported as one.
    """
    cells: list[list[str]] = []
    for line in lines[:200]:
        try:
            cells.append(next(csv.reader([line], delimiter=delimiter), []))
        except csv.Error:
            cells.append([line])
    widths = [len(row) for row, line in zip(cells, lines) if line.strip()]
    if len(widths) < 3:
        return 0
    modal = max(set(widths), key=widths.count)
    for index, row in enumerate(cells[:20]):
        filled = sum(1 for value in row if value.strip())
        if filled <= 1:
            continue
        return index if index > 0 and len(row) == modal else 0
    return 0


def _sample_rows(body: str, delimiter: str) -> list[list[str]]:
    csv.field_size_limit(_MAX_HEADER_BYTES)
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, quotechar='"', doublequote=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > _SAMPLE_ROWS:
                break
    except csv.Error:
        # A broken quote in the sample: DuckDB's strict parse below reports the exact line.
        pass
    while rows and not rows[0]:
        rows.pop(0)
    if not rows:
        raise IngestError("ingest.empty_file")
    return rows


def _check_header(header: list[str]) -> None:
    if len(header) > MAX_COLUMNS:
        raise IngestError("ingest.too_many_columns", columns=len(header), limit=MAX_COLUMNS)
    empty = [index + 1 for index, name in enumerate(header) if not name]
    if empty:
        raise IngestError("ingest.empty_header", positions=empty[:10], count=len(empty))
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for name in header:
        folded = name.casefold()
        seen[folded] = seen.get(folded, 0) + 1
        if seen[folded] == 2:
            duplicates.append(name)
    if duplicates:
        raise IngestError("ingest.duplicate_columns", names=duplicates[:10], count=len(duplicates))


def _guess_decimal(header: list[str], data: list[list[str]], delimiter: str) -> str:
    """Decimal comma when the delimiter is not a comma and some column is only ``12,5``-style numbers."""
    if delimiter == ",":
        return "."
    for index in range(len(header)):
        values = [row[index] for row in data if index < len(row) and row[index].strip()]
        if values and any("," in v for v in values) and all(_FLOAT_COMMA.match(v) for v in values):
            return ","
    return "."


def _sample_types(header: list[str], data: list[list[str]], decimal: str) -> dict[str, str]:
    """DuckDB types proposed from the sample; anything doubtful stays text and is refined later."""
    types: dict[str, str] = {}
    number = _FLOAT_COMMA if decimal == "," else _FLOAT
    for index, name in enumerate(header):
        values = [row[index] for row in data if index < len(row) and row[index] != ""]
        if not values:
            types[name] = "VARCHAR"
        elif all(_INT.match(v) for v in values):
            # 32-bit where the sample allows (halves memory for counts and flags); widened on overflow.
            types[name] = "INTEGER" if all(abs(int(v)) < 2**31 - 1 for v in values) else "BIGINT"
        elif all(number.match(v) for v in values) and not any(_leading_zero(v) for v in values):
            types[name] = "DOUBLE"
        elif all(_ISO_DATE.match(v) for v in values):
            types[name] = "DATE"  # DuckDB parses ISO dates natively, much faster than text + strptime
        elif all(_ISO_TIMESTAMP.match(v) for v in values):
            types[name] = "TIMESTAMP"
        else:
            types[name] = "VARCHAR"
    return types


def _leading_zero(value: str) -> bool:
    stripped = value.strip().lstrip("+-")
    return len(stripped) > 1 and stripped[0] == "0" and stripped[1].isdigit()


_LINE = re.compile(r"Line:\s*(\d+)")
_COLUMNS = re.compile(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)")
_CONVERT = re.compile(r'converting column "((?:[^"]|"")*)"')


def _duckdb_read(
    path: Path,
    *,
    header: list[str],
    types: dict[str, str],
    delimiter: str,
    decimal: str,
    skip: int,
    threads: int,
) -> pa.Table:
    types = dict(types)
    con = duckdb.connect(config={"threads": threads})
    con.execute("SET enable_progress_bar = false")
    try:
        for _attempt in range(2 * len(header) + 1):
            try:
                relation = con.read_csv(
                    str(path),
                    header=True,
                    sep=delimiter,
                    quotechar='"',
                    escapechar='"',
                    skiprows=skip,
                    columns={name: types[name] for name in header},
                    auto_detect=False,
                    strict_mode=True,
                    null_padding=False,
                    na_values=[""],
                    decimal=decimal,
                )
                reader = relation.to_arrow_reader(batch_size=122_880)
                return pa.Table.from_batches(list(reader), schema=reader.schema)
            except (duckdb.Error, OSError, pa.ArrowException) as exc:
                # Errors met while streaming surface through Arrow's reader as OSError with DuckDB's text.
                message = str(exc)
                match = _CONVERT.search(message) if "Conversion Error" in message else None
                column = match.group(1).replace('""', '"') if match else None
                if column not in types or types[column] == "VARCHAR":
                    raise _csv_error(message) from None
                # A late row disagreed with the sample: widen the integer, else keep the column as text.
                types[column] = "BIGINT" if types[column] == "INTEGER" else "VARCHAR"
        raise IngestError("ingest.csv_unreadable", line=0)
    finally:
        con.close()


def _csv_error(message: str) -> IngestError:
    line_match = _LINE.search(message)
    line = int(line_match.group(1)) if line_match else 0
    columns = _COLUMNS.search(message)
    if columns:
        return IngestError("ingest.ragged_row", line=line, expected=int(columns.group(1)), found=int(columns.group(2)))
    lowered = message.lower()
    if "unterminated quote" in lowered:
        return IngestError("ingest.unclosed_quote", line=line)
    if "invalid unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
        return IngestError("ingest.invalid_encoding_at", encoding="UTF-8", line=line)
    if "maximum line size" in lowered:
        return IngestError("ingest.line_too_long", megabytes=2)
    return IngestError("ingest.csv_unreadable", line=line)
