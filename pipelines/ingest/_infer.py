"""Column types a physician would agree with, decided on Arrow arrays.

The reader hands over text where it was unsure (leading zeros, missing-value codes, decimal
commas, dates); this module decides what each column really is. Missing-value codes are only
*proposed*: a numeric column with ``NA`` entries is reported as numeric with ``NA`` proposed, and
stays text in the frame until :func:`apply_missing_codes` applies what the user agreed to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ColumnDecision", "decide_column", "coerce_text", "code_spellings", "is_id_name", "DATE_FORMATS"]

DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
)
# Formats that read the same text two ways; if both parse every value the column is ambiguous.
_SWAPPED = {
    "%d/%m/%Y": "%m/%d/%Y",
    "%m/%d/%Y": "%d/%m/%Y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%m-%d-%Y": "%d-%m-%Y",
    "%d/%m/%Y %H:%M": "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M": "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S": "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S": "%d/%m/%Y %H:%M:%S",
}
_DATEISH = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?$|^\d{8}$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_COMMA = re.compile(r"^[+-]?\d+(,\d+)?$")
_ID_SUFFIX = re.compile(r"(^|[_\s.-])(id|ids|no|nbr|number|code|key|uuid|guid)$|[a-z](Id|ID|No|Nbr)$|번호$|아이디$")
_CATEGORY_MAX = 50


@dataclass(frozen=True)
class ColumnDecision:
    """What a column is, the array to keep for it, and what the reader noticed on the way."""

    array: pa.ChunkedArray
    inferred_type: str
    proposed_missing: tuple[tuple[str, int], ...] = ()
    warnings: tuple[tuple[str, dict], ...] = field(default=())
    date_format: str | None = None


def is_id_name(name: str) -> bool:
    """Names like ``patient_id``, ``encounterId``, ``patient_nbr`` or ``환자번호``."""
    stripped = name.strip()
    return bool(_ID_SUFFIX.search(stripped) or _ID_SUFFIX.search(stripped.lower())) or stripped.lower() == "id"


def code_spellings(codes: tuple[str, ...] | list[str]) -> list[str]:
    """Each code as written and in lower case (``NA``, ``na``), but not mixed case: ``Na`` is sodium."""
    out: set[str] = set()
    for code in codes:
        code = code.strip()
        if code:
            out.update((code, code.lower(), code.upper()))
    return sorted(out)


def _codes_mask(text: pa.ChunkedArray, codes: tuple[str, ...]) -> tuple[pa.ChunkedArray, tuple[tuple[str, int], ...]]:
    spellings = code_spellings(codes)
    if not spellings:
        return pc.is_null(text), ()
    hit = pc.fill_null(pc.is_in(text, value_set=pa.array(spellings, type=pa.string())), False)
    found: list[tuple[str, int]] = []
    if pc.any(hit).as_py():
        counts = pc.value_counts(pc.filter(text, hit))
        for item in counts.to_pylist():
            found.append((item["values"], int(item["counts"])))
        found.sort(key=lambda kv: (-kv[1], kv[0]))
    return pc.or_(pc.is_null(text), hit), tuple(found)


def coerce_text(text: pa.ChunkedArray, *, decimal: str = ".") -> tuple[pa.ChunkedArray, str] | None:
    """Text that is entirely numbers or dates (nulls allowed) as a typed array, else None."""
    present = pc.drop_null(text)
    if len(present) == 0:
        return None
    probe = [v for v in present.slice(0, 500).to_pylist() if isinstance(v, str)]
    number = _NUMBER_COMMA if decimal == "," else _NUMBER
    if all(number.match(v) for v in probe) and not pc.any(pc.match_substring_regex(present, _LEADING_ZERO.pattern)).as_py():
        numeric = pc.replace_substring(text, ",", ".") if decimal == "," else text
        try:
            as_int = pc.cast(numeric, pa.int64())
            return as_int, "integer"
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        try:
            as_float = pc.cast(numeric, pa.float64())
            if pc.any(pc.is_nan(pc.drop_null(as_float))).as_py() or pc.any(pc.is_inf(pc.drop_null(as_float))).as_py():
                raise pa.ArrowInvalid("NaN or infinity spelled out in text")
            return as_float, "numeric"
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    parsed = parse_dates(text)
    if parsed is not None and parsed[1] is not None:
        return parsed[0], "datetime"
    return None


def parse_dates(text: pa.ChunkedArray) -> tuple[pa.ChunkedArray, str | None] | None:
    """Parsed dates and their format; ``(text, None)`` when two formats fit (e.g. 03/04/2020)."""
    present = pc.drop_null(text)
    if len(present) == 0:
        return None
    probe = present.slice(0, 200).to_pylist()
    if not all(isinstance(v, str) and _DATEISH.match(v) for v in probe):
        return None
    expected_nulls = text.null_count
    for fmt in DATE_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        if parsed.null_count != expected_nulls:
            continue
        other = _SWAPPED.get(fmt)
        if other is not None:
            alternative = pc.strptime(text, format=other, unit="s", error_is_null=True)
            if alternative.null_count == expected_nulls and not pc.all(pc.equal(parsed, alternative)).as_py():
                return text, None
        return parsed, fmt
    return None


def decide_column(
    name: str,
    column: pa.ChunkedArray,
    *,
    missing_codes: tuple[str, ...],
    decimal: str = ".",
) -> ColumnDecision:
    """Infer one column's type; text columns are trimmed and, where they are numbers or dates, typed."""
    kind = column.type
    warnings: list[tuple[str, dict]] = []
    if pa.types.is_dictionary(kind):
        values = column.cast(kind.value_type) if not pa.types.is_string(kind.value_type) else column
        categories = pc.count_distinct(values).as_py()
        return ColumnDecision(column, "binary" if categories == 2 else "categorical")
    if pa.types.is_null(kind):
        column = column.cast(pa.string())
        kind = column.type
    if pa.types.is_boolean(kind):
        return ColumnDecision(column, "binary")
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        if pa.types.is_date(kind):
            column = column.cast(pa.timestamp("s"))
        return ColumnDecision(column, "datetime")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        if pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        proposed = _numeric_codes(column, missing_codes)
        typed_column, typed = _numeric_type(name, column)
        return ColumnDecision(typed_column, typed, proposed_missing=proposed)
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        column = column.cast(pa.string())
    if not pa.types.is_string(column.type):
        return ColumnDecision(pc.cast(column, pa.string()), "free_text")

    trimmed = pc.utf8_trim_whitespace(column)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    if trimmed.null_count == len(trimmed):
        warnings.append(("ingest.empty_column", {"column": name}))
        return ColumnDecision(trimmed, "free_text", warnings=tuple(warnings))
    missing_mask, proposed = _codes_mask(trimmed, missing_codes)
    remainder = pc.if_else(missing_mask, pa.scalar(None, pa.string()), trimmed)
    if remainder.null_count == len(remainder):
        warnings.append(("ingest.only_missing_codes", {"column": name}))
        return ColumnDecision(trimmed, "free_text", proposed, tuple(warnings))
    coerced = coerce_text(remainder, decimal=decimal)
    if coerced is not None:
        array, typed = coerced
        if typed in ("integer", "numeric"):
            typed = _numeric_type(name, array)[0]
        # Without codes the typed array is the column; with codes the text stays until the user agrees.
        return ColumnDecision(array if not proposed else trimmed, typed, proposed, tuple(warnings))
    dates = parse_dates(remainder)
    if dates is not None and dates[1] is None:
        warnings.append(("ingest.ambiguous_dates", {"column": name}))
    mostly = _mostly_numeric(remainder)
    if mostly is not None:
        warnings.append(("ingest.mostly_numeric", {"column": name, "count": mostly[0], "examples": mostly[1]}))
    return ColumnDecision(trimmed, _text_type(name, remainder), proposed, tuple(warnings))


def _numeric_codes(column: pa.ChunkedArray, codes: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """User-listed numeric codes (999, -1) present in a numeric column."""
    found = []
    for code in codes:
        try:
            value = float(code)
        except ValueError:
            continue
        count = pc.sum(pc.equal(column, pa.scalar(value).cast(column.type, safe=False))).as_py() or 0
        if count:
            found.append((code, int(count)))
    return tuple(found)


def _numeric_type(name: str, column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, str]:
    present = pc.drop_null(column)
    if len(present) == 0:
        return column, "numeric"
    integral = pa.types.is_integer(column.type)
    if not integral:
        finite = pc.is_finite(present)
        if pc.all(finite).as_py() and pc.all(pc.equal(pc.floor(present), present)).as_py():
            low, high = pc.min_max(present).values()
            if abs(low.as_py()) < 2**53 and abs(high.as_py()) < 2**53:
                column = pc.cast(column, pa.int64())
                integral = True
    distinct = pc.count_distinct(present).as_py()
    if distinct == 2:
        return column, "binary"
    if integral and is_id_name(name):
        if distinct > _CATEGORY_MAX:
            return column, "identifier"
        return column, "categorical"
    return column, "integer" if integral else "numeric"


def _text_type(name: str, remainder: pa.ChunkedArray) -> str:
    present = pc.drop_null(remainder)
    distinct = pc.count_distinct(present).as_py()
    if distinct == 2:
        return "binary"
    unique_share = distinct / max(len(present), 1)
    lengths = pc.utf8_length(present)
    mean_length = pc.mean(lengths).as_py() or 0
    spaces = pc.mean(pc.cast(pc.match_substring(present, " "), pa.float64())).as_py() or 0
    if (is_id_name(name) and unique_share > 0.5) or (
        distinct == len(present) and len(present) >= 20 and mean_length <= 40 and spaces < 0.1
    ):
        return "identifier"
    if distinct <= _CATEGORY_MAX or unique_share <= 0.05:
        return "categorical"
    return "free_text"


def _mostly_numeric(remainder: pa.ChunkedArray) -> tuple[int, list[str]] | None:
    """A lab column like ``5.1, <0.5, 7.2``: numeric but for a few entries the user must decide on."""
    present = pc.drop_null(remainder)
    as_float = pc.cast(pc.if_else(pc.match_substring_regex(present, r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"), present, pa.scalar(None, pa.string())), pa.float64())
    numeric = len(present) - as_float.null_count
    if numeric < 0.8 * len(present) or numeric == len(present):
        return None
    bad = pc.filter(present, pc.is_null(as_float))
    examples = [str(v) for v in pc.unique(bad).slice(0, 5).to_pylist()]
    return len(bad), examples
