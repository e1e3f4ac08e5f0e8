"""``read_table``: any supported upload in, a typed frame plus everything the upload page shows out."""

from __future__ import annotations

import dataclasses
import gzip
import os
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import IngestError

from ._binary import read_parquet, read_statistics_file
from ._delimited import MAX_COLUMNS, read_csv
from ._encoding import ENCODING_LABELS, detect_encoding, normalise_encoding, transcode_to_utf8
from ._excel import read_xls, read_xlsx
from ._formats import detect_format, format_for_extension
from ._identifiers import IdentifierFlag, detect_identifiers
from ._infer import code_spellings, coerce_text, decide_column, parse_dates
from ._options import COLUMN_TYPES, ReadOptions

__all__ = [
    "ColumnInfo",
    "IngestWarning",
    "IngestResult",
    "read_table",
    "apply_missing_codes",
    "override_types",
    "infer_frame_types",
]

DUCKDB_THREADS = max(1, min(2, os.cpu_count() or 1))
_HEAD = 1 << 20
_TAIL = 64


@dataclass(frozen=True)
class ColumnInfo:
    """One column as read: its inferred (or user-chosen) type and what was noticed about it.

    ``proposed_missing`` lists (code, count) pairs found in the column, e.g. ``(("NA", 12),)``;
    nothing is turned into missing until the user agrees (:func:`apply_missing_codes`).
    """

    name: str
    inferred_type: str
    dtype: str
    missing_count: int
    proposed_missing: tuple[tuple[str, int], ...] = ()
    label: str | None = None
    date_format: str | None = None
    overridden: bool = False


@dataclass(frozen=True)
class IngestWarning:
    """Something the user should look at; ``key`` is a message in the ``ingest`` catalogue."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class IngestResult:
    """A parsed upload. ``eq=False``: it holds a DataFrame, whose ``==`` is element-wise."""

    frame: pd.DataFrame
    format: str
    encoding: str | None
    columns: tuple[ColumnInfo, ...]
    identifier_flags: tuple[IdentifierFlag, ...] = ()
    warnings: tuple[IngestWarning, ...] = ()
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None
    sheet_names: tuple[str, ...] = ()
    header_row: int | None = None
    filename: str = ""
    size_bytes: int = 0

    @property
    def encoding_label(self) -> str | None:
        return None if self.encoding is None else ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def types(self) -> dict[str, str]:
        return {c.name: c.inferred_type for c in self.columns}

    def column(self, name: str) -> ColumnInfo:
        for item in self.columns:
            if item.name == name:
                return item
        raise IngestError("ingest.unknown_column", column=name)

    def to_summary(self) -> dict[str, Any]:
        """Everything ``workbench inspect --json`` prints: JSON-ready, and free of row values."""
        return {
            "filename": self.filename,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "encoding": self.encoding,
            "encoding_label": self.encoding_label,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "sheet": self.sheet,
            "sheet_names": list(self.sheet_names),
            "header_row": self.header_row,
            "rows": int(self.frame.shape[0]),
            "columns": [
                {
                    "name": c.name,
                    "type": c.inferred_type,
                    "dtype": c.dtype,
                    "missing": c.missing_count,
                    "proposed_missing": [[code, count] for code, count in c.proposed_missing],
                    "label": c.label,
                }
                for c in self.columns
            ],
            "identifier_flags": [flag.to_dict() for flag in self.identifier_flags],
            "warnings": [{"key": w.key, "params": dict(w.params)} for w in self.warnings],
        }

    @property
    def proposed_missing(self) -> dict[str, tuple[str, ...]]:
        """Codes per column, ready to pass to :func:`apply_missing_codes` when the user agrees to all."""
        return {c.name: tuple(code for code, _ in c.proposed_missing) for c in self.columns if c.proposed_missing}


def read_table(source: str | os.PathLike[str] | bytes, *, filename: str, options: ReadOptions | None = None) -> IngestResult:
    """Parse an upload exactly as the upload page and ``workbench inspect`` do.

    ``source`` is a path or the uploaded bytes; ``filename`` is the name the user gave it (only
    used to report an extension that does not match the content). Every problem with the file
    raises :class:`IngestError`; nothing is written anywhere but a private temporary folder.
    """
    options = options or ReadOptions()
    with tempfile.TemporaryDirectory(prefix="wb-ingest-") as scratch:
        work = Path(scratch)
        if isinstance(source, (bytes, bytearray, memoryview)):
            size = len(source)
            _check_size(size, options.max_bytes)
            path = work / "upload"
            path.write_bytes(bytes(source))
        else:
            path = Path(source)
            try:
                size = path.stat().st_size
            except OSError:
                raise IngestError("ingest.file_not_found", filename=filename) from None
            if not path.is_file():
                raise IngestError("ingest.file_not_found", filename=filename)
            _check_size(size, options.max_bytes)
        return _read_path(path, work, filename=filename, options=options, size=size, depth=0)


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise IngestError("ingest.too_large", size=human_size(size), limit=human_size(limit))


def human_size(size: float) -> str:
    """``1536`` -> ``"1.5 KB"``: sizes in messages are read by people, not parsers."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"  # pragma: no cover - loop always returns


def _head_tail(path: Path) -> tuple[bytes, bytes]:
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
        handle.seek(max(0, path.stat().st_size - _TAIL))
        tail = handle.read(_TAIL)
    return head, tail


def _read_path(path: Path, work: Path, *, filename: str, options: ReadOptions, size: int, depth: int) -> IngestResult:
    head, tail = _head_tail(path)
    kind = detect_format(head, tail, path)
    warnings: list[tuple[str, dict]] = []
    expected = format_for_extension(filename)
    if expected is not None and expected != kind:
        warnings.append(("ingest.extension_mismatch", {"extension": Path(filename).suffix.lower(), "detected": kind}))
    if kind == "gzip":
        if depth > 0:
            raise IngestError("ingest.nested_archive")
        inner = work / "decompressed"
        _gunzip(path, inner, options.max_bytes)
        inner_name = filename[:-3] if filename.lower().endswith(".gz") else filename
        result = _read_path(inner, work, filename=inner_name, options=options, size=size, depth=depth + 1)
        return dataclasses.replace(result, filename=filename, warnings=tuple(IngestWarning(k, p) for k, p in warnings) + result.warnings)

    encoding: str | None = None
    delimiter = decimal = sheet = None
    sheet_names: tuple[str, ...] = ()
    header_row: int | None = None
    labels: dict[str, str] = {}
    if kind == "csv":
        encoding = normalise_encoding(options.encoding) if options.encoding else detect_encoding(head)
        try:
            table, dialect, more = _read_text(path, work, encoding, options)
        except IngestError as err:
            # Only the first megabyte decided "UTF-8"; Korean text further down means CP949.
            if options.encoding or encoding != "utf-8" or err.key != "ingest.invalid_encoding_at":
                raise
            encoding = "cp949"
            table, dialect, more = _read_text(path, work, encoding, options)
        warnings += more
        delimiter, decimal, header_row = dialect.delimiter, dialect.decimal, dialect.header_row
    elif kind == "xlsx":
        table, sheet, names, header_row, more = read_xlsx(path, sheet=options.sheet, header_row=options.header_row, max_bytes=options.max_bytes)
        sheet_names, warnings = tuple(names), warnings + more
    elif kind == "xls":
        table, sheet, names, header_row, more = read_xls(path, sheet=options.sheet, header_row=options.header_row)
        sheet_names, warnings = tuple(names), warnings + more
    elif kind == "parquet":
        table = read_parquet(path)
    else:
        frame, labels = read_statistics_file(path, kind)
        table = _frame_to_arrow(frame)

    if table.num_columns == 0:
        raise IngestError("ingest.no_columns")
    if table.num_columns > MAX_COLUMNS:
        raise IngestError("ingest.too_many_columns", columns=table.num_columns, limit=MAX_COLUMNS)
    if table.num_rows == 0:
        raise IngestError("ingest.no_rows", columns=table.num_columns)
    names = [str(n) for n in table.column_names]
    if len({n.casefold() for n in names}) != len(names):
        seen: set[str] = set()
        duplicates = [n for n in names if n.casefold() in seen or seen.add(n.casefold())]
        raise IngestError("ingest.duplicate_columns", names=duplicates[:10], count=len(duplicates))

    arrays: list[pa.ChunkedArray] = []
    infos: list[ColumnInfo] = []
    pending = table.columns
    del table  # each raw column is released as soon as its typed replacement exists
    for position, name in enumerate(names):
        column, pending[position] = pending[position], None
        decision = decide_column(name, column, missing_codes=options.missing_codes, decimal=decimal or ".")
        del column
        warnings += list(decision.warnings)
        array = decision.array
        if decision.inferred_type in ("categorical", "binary") and pa.types.is_string(array.type):
            array = pc.dictionary_encode(array)
        arrays.append(array)
        infos.append(ColumnInfo(name=name, inferred_type=decision.inferred_type, dtype="", missing_count=0,
                                proposed_missing=decision.proposed_missing, label=labels.get(name), date_format=decision.date_format))
        del decision, array
    frame = _to_pandas(pa.table(arrays, names=names))
    del arrays
    infos = [dataclasses.replace(info, dtype=str(frame[info.name].dtype), missing_count=int(frame[info.name].isna().sum())) for info in infos]
    flags = detect_identifiers(frame, {i.name: i.inferred_type for i in infos})
    return IngestResult(
        frame=frame,
        format=kind,
        encoding=encoding,
        columns=tuple(infos),
        identifier_flags=flags,
        warnings=tuple(IngestWarning(k, p) for k, p in warnings),
        delimiter=delimiter,
        decimal=decimal,
        sheet=sheet,
        sheet_names=sheet_names,
        header_row=header_row,
        filename=filename,
        size_bytes=size,
    )


def _read_text(path: Path, work: Path, encoding: str, options: ReadOptions):
    csv_path = path
    if encoding not in ("utf-8", "utf-8-sig"):
        csv_path = work / "utf8.csv"
        transcode_to_utf8(path, csv_path, encoding)
    return read_csv(
        csv_path, delimiter=options.delimiter, decimal=options.decimal, header_row=options.header_row, threads=DUCKDB_THREADS
    )


def _gunzip(source: Path, target: Path, limit: int) -> None:
    written = 0
    try:
        with gzip.open(source, "rb") as src, target.open("wb") as dst:
            while chunk := src.read(1 << 22):
                written += len(chunk)
                if written > limit:
                    raise IngestError("ingest.too_large", size="> " + human_size(limit), limit=human_size(limit))
                dst.write(chunk)
    except (OSError, EOFError, zlib.error):
        raise IngestError("ingest.corrupt_gzip") from None


def _frame_to_arrow(frame: pd.DataFrame) -> pa.Table:
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if series.dtype == object:
            # pyreadstat gives object columns for text and for dates; keep both typed, never mixed objects.
            present = series.dropna()
            if len(present) and all(hasattr(v, "year") for v in present.head(1000)):
                series = pd.to_datetime(series, errors="coerce")
            else:
                series = series.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype("string")
        columns[str(name)] = series
    return pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)


def _types_mapper(kind: pa.DataType) -> Any:
    """Numbers and flags stay in Arrow memory (zero-copy ``ArrowDtype``), text is pandas' Arrow-backed
    string dtype, dictionaries become ``category`` and timestamps ``datetime64``.

    Zero-copy matters: a million-row upload would otherwise exist twice in memory.
    """
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return pd.ArrowDtype(kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pd.StringDtype("pyarrow")
    return None


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Pandas over the Arrow buffers, converted column by column so any copy is freed as we go."""
    return table.to_pandas(types_mapper=_types_mapper, self_destruct=True, split_blocks=True, ignore_metadata=True)


def _text_arrow(series: pd.Series) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(series.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())])


def _series_from_arrow(array: pa.ChunkedArray, index: pd.Index, name: str) -> pd.Series:
    frame = _to_pandas(pa.table([array], names=[name]))
    frame.index = index
    return frame[name]


def apply_missing_codes(frame: pd.DataFrame, codes_by_column: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """The frame with the agreed codes turned into missing values, re-typed where that makes it numeric.

    A text column ``1.2, NA, 3.4`` becomes a Float64 column once ``NA`` is agreed to; numeric codes
    like ``999`` apply to numeric columns. Columns not listed are untouched.
    """
    out = frame.copy()
    for name, raw_codes in codes_by_column.items():
        if name not in out.columns:
            raise IngestError("ingest.unknown_column", column=name)
        codes = [str(c) for c in raw_codes]
        series = out[name]
        if not codes:
            continue
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype) and not isinstance(
            series.dtype, pd.CategoricalDtype
        ):
            values = []
            for code in codes:
                try:
                    values.append(float(code))
                except ValueError:
                    continue
            out[name] = series.mask(series.isin(values)) if values else series
            continue
        if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series.dtype):
            text = _text_arrow(series)
            trimmed = pc.utf8_trim_whitespace(text)
            hit = pc.fill_null(pc.is_in(trimmed, value_set=pa.array(code_spellings(codes), type=pa.string())), False)
            cleaned = pc.if_else(pc.or_(hit, pc.equal(trimmed, "")), pa.scalar(None, pa.string()), trimmed)
            coerced = coerce_text(cleaned)
            if coerced is not None:
                out[name] = _series_from_arrow(coerced[0], out.index, name)
            elif isinstance(series.dtype, pd.CategoricalDtype):
                spellings = set(code_spellings(codes))
                drop = [c for c in series.cat.categories if str(c).strip() in spellings]
                out[name] = series.cat.remove_categories(drop) if drop else series
            else:
                out[name] = _series_from_arrow(cleaned, out.index, name)
    return out


def override_types(result: IngestResult, overrides: Mapping[str, str], *, date_formats: Mapping[str, str] | None = None) -> IngestResult:
    """The result with the user's column types; values that do not fit the new type are an error.

    ``date_formats`` (strptime formats per column) settles ambiguous dates such as ``03/04/2020``.
    """
    frame = result.frame.copy()
    infos = {c.name: c for c in result.columns}
    for name, kind in overrides.items():
        if kind not in COLUMN_TYPES:
            raise IngestError("ingest.unknown_type", type=kind, choices=list(COLUMN_TYPES))
        if name not in frame.columns:
            raise IngestError("ingest.unknown_column", column=name)
        frame[name] = _convert(frame[name], name, kind, (date_formats or {}).get(name))
        infos[name] = dataclasses.replace(infos[name], inferred_type=kind, dtype=str(frame[name].dtype),
                                          missing_count=int(frame[name].isna().sum()), overridden=True)
    columns = tuple(infos[c.name] for c in result.columns)
    flags = detect_identifiers(frame, {c.name: c.inferred_type for c in columns})
    return dataclasses.replace(result, frame=frame, columns=columns, identifier_flags=flags)


def _convert(series: pd.Series, name: str, kind: str, date_format: str | None) -> pd.Series:
    present = series.notna()

    def fail(converted: pd.Series) -> None:
        lost = present & converted.isna()
        if lost.any():
            examples = [str(v) for v in series[lost].astype("string").unique()[:5]]
            raise IngestError("ingest.cannot_convert", column=name, type=kind, count=int(lost.sum()), examples=examples)

    if kind in ("numeric", "integer"):
        if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
            converted = series.astype("Float64")
        else:
            text = series.astype("string").str.strip()
            converted = pd.to_numeric(text, errors="coerce").astype("Float64")
        fail(converted)
        if kind == "integer":
            values = converted.dropna()
            if not (values == values.round()).all():
                fractional = series[present & (converted != converted.round()).fillna(False)]
                raise IngestError("ingest.cannot_convert", column=name, type=kind, count=int(len(fractional)),
                                  examples=[str(v) for v in fractional.astype("string").unique()[:5]])
            return converted.astype("Int64")
        return converted
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            return series
        text = _text_arrow(series)
        if date_format:
            parsed = pc.strptime(pc.utf8_trim_whitespace(text), format=date_format, unit="s", error_is_null=True)
        else:
            found = parse_dates(pc.utf8_trim_whitespace(text))
            if found is None:
                parsed = pc.cast(pa.chunked_array([pa.nulls(len(series))]), pa.timestamp("s"))
            elif found[1] is None:
                raise IngestError("ingest.ambiguous_dates", column=name)
            else:
                parsed = found[0]
        converted = _series_from_arrow(parsed, series.index, name)
        fail(converted)
        return converted
    if kind == "binary":
        if series.dropna().nunique() > 2:
            raise IngestError("ingest.not_binary", column=name, count=int(series.dropna().nunique()))
        if pd.api.types.is_string_dtype(series.dtype):
            return series.astype("category")
        return series
    if kind == "categorical":
        return series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    # identifier / free_text: kept as text so no arithmetic or ordering is implied
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.strftime("%Y-%m-%d %H:%M:%S").astype("string")
    return series.astype("string")


def infer_frame_types(frame: pd.DataFrame) -> dict[str, str]:
    """Types for a frame that did not come through :func:`read_table` (e.g. a recipe's output)."""
    from ._profile import _arrow

    types: dict[str, str] = {}
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if series.dtype == object:
            array = _text_arrow(series)
        else:
            array = _arrow(series)
        types[str(name)] = decide_column(str(name), array, missing_codes=()).inferred_type
    return types
