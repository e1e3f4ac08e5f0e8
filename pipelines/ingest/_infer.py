"""Column types a physician would agree with, decided on Arrow arrays.

The reader hands over text where it was unsure (leading zeros, missing-value codes, decimal
commas, dates); this module decides what each column really is. Missing-value codes are only
*proposed*: a numeric column with ``NA`` entries is reported as numeric with ``NA`` proposed, and
stays text in the frame until :func:`apply_missing_codes` applies what the user agreed to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
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

    return _decide_text(name, column, missing_codes=missing_codes, decimal=decimal)


def _decide_text(name: str, column: pa.ChunkedArray, *, missing_codes: tuple[str, ...], decimal: str) -> ColumnDecision:
    """Text columns are judged on their distinct values, then mapped back through the indices.

    Clinical text columns are mostly low-cardinality (sex, ward, drug), so trimming, code
    matching and number/date parsing on the distinct values is far cheaper than on every row.
    """
    warnings: list[tuple[str, dict]] = []
    encoded = pc.dictionary_encode(column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
    values = encoded.dictionary
    indices = encoded.indices
    n_values = len(values)
    counts = np.bincount(indices.fill_null(n_values).to_numpy(zero_copy_only=False), minlength=n_values + 1)[:n_values]
    trimmed = pc.utf8_trim_whitespace(values)
    blank = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
    spellings = code_spellings(missing_codes)
    is_code = (
        pc.is_in(trimmed, value_set=pa.array(spellings, type=pa.string())).to_numpy(zero_copy_only=False)
        if spellings
        else np.zeros(n_values, dtype=bool)
    )
    is_code &= ~blank
    keep = ~blank & ~is_code
    proposed: dict[str, int] = {}
    for value, count in zip(pc.filter(trimmed, pa.array(is_code)).to_pylist(), counts[is_code].tolist()):
        proposed[value] = proposed.get(value, 0) + int(count)
    proposed_missing = tuple(sorted(proposed.items(), key=lambda kv: (-kv[1], kv[0])))
    null_dict = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), trimmed)
    # The column as the frame will hold it (codes still present until the user agrees).
    kept_column = _rebuild(null_dict, indices, changed=bool(blank.any()) or not pc.all(pc.equal(trimmed, values)).as_py())
    present = int(counts[keep].sum())
    if int(counts[~blank].sum()) == 0:
        warnings.append(("ingest.empty_column", {"column": name}))
        return ColumnDecision(kept_column, "free_text", warnings=tuple(warnings))
    if present == 0:
        warnings.append(("ingest.only_missing_codes", {"column": name}))
        return ColumnDecision(kept_column, "free_text", proposed_missing, tuple(warnings))
    remainder_dict = pc.if_else(pa.array(keep), trimmed, pa.scalar(None, pa.string()))
    unique_remainder = pc.drop_null(remainder_dict)
    coerced = coerce_text(pa.chunked_array([remainder_dict]), decimal=decimal)
    if coerced is not None:
        typed_dict, typed = coerced
        full = pa.chunked_array([pc.take(typed_dict.combine_chunks(), indices)])
        if typed in ("integer", "numeric"):
            full, typed = _numeric_type(name, full)
        # Without codes the typed array is the column; with codes the text stays until the user agrees.
        if proposed_missing:
            return ColumnDecision(pa.chunked_array([pc.take(null_dict, indices)]), typed, proposed_missing, tuple(warnings))
        return ColumnDecision(full, typed, proposed_missing, tuple(warnings))
    dates = parse_dates(pa.chunked_array([unique_remainder]))
    if dates is not None and dates[1] is None:
        warnings.append(("ingest.ambiguous_dates", {"column": name}))
    mostly = _mostly_numeric(unique_remainder, counts[keep])
    if mostly is not None:
        warnings.append(("ingest.mostly_numeric", {"column": name, "count": mostly[0], "examples": mostly[1]}))
    distinct = len(pc.unique(unique_remainder))
    typed = _text_type(name, unique_remainder, distinct=distinct, present=present)
    if typed in ("categorical", "binary"):
        column_out = kept_column if pa.types.is_dictionary(kept_column.type) else pa.chunked_array([pc.dictionary_encode(kept_column.combine_chunks())])
    else:
        column_out = kept_column if not pa.types.is_dictionary(kept_column.type) else pa.chunked_array([pc.take(null_dict, indices)])
    return ColumnDecision(column_out, typed, proposed_missing, tuple(warnings))


def _rebuild(null_dict: pa.Array, indices: pa.Array, *, changed: bool) -> pa.ChunkedArray:
    """The text column as a dictionary array over trimmed values (re-encoded if trimming merged values)."""
    if not changed:
        return pa.chunked_array([pa.DictionaryArray.from_arrays(indices, null_dict)])
    return pa.chunked_array([pc.dictionary_encode(pc.take(null_dict, indices))])


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


def _integral(values: pa.ChunkedArray) -> bool:
    if not pc.all(pc.is_finite(values)).as_py():
        return False
    return bool(pc.all(pc.equal(pc.floor(values), values)).as_py())


def _numeric_type(name: str, column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, str]:
    if column.null_count == len(column):
        return column, "numeric"
    integral = pa.types.is_integer(column.type)
    if not integral:
        head = pc.drop_null(column.slice(0, 10_000))
        # Whole-number floats (``63.0``) are integers; checking a prefix first spares the full pass.
        if len(head) == 0 or _integral(head):
            if _integral(pc.drop_null(column)):
                low, high = pc.min_max(column).values()
                if abs(low.as_py()) < 2**53 and abs(high.as_py()) < 2**53:
                    column = pc.cast(column, pa.int64())
                    integral = True
    low, high = (v.as_py() for v in pc.min_max(column).values())
    if low != high:
        two = pc.or_(pc.equal(column, low), pc.equal(column, high))
        if pc.all(two).as_py():
            return column, "binary"
    if integral and is_id_name(name):
        distinct = pc.count_distinct(column).as_py()
        present = len(column) - column.null_count
        if distinct > _CATEGORY_MAX or (distinct == present and present >= 3):
            return column, "identifier"
        return column, "categorical"
    return column, "integer" if integral else "numeric"


def _text_type(name: str, unique_values: pa.Array, *, distinct: int, present: int) -> str:
    if distinct == 2:
        return "binary"
    unique_share = distinct / max(present, 1)
    mean_length = pc.mean(pc.utf8_length(unique_values)).as_py() or 0
    spaces = pc.mean(pc.cast(pc.match_substring(unique_values, " "), pa.float64())).as_py() or 0
    if (is_id_name(name) and unique_share > 0.5) or (
        distinct == present and present >= 20 and mean_length <= 40 and spaces < 0.1
    ):
        return "identifier"
    if distinct <= _CATEGORY_MAX or unique_share <= 0.05:
        return "categorical"
    return "free_text"


def _mostly_numeric(unique_values: pa.Array, counts: np.ndarray) -> tuple[int, list[str]] | None:
    """A lab column like ``5.1, <0.5, 7.2``: numeric but for a few entries the user must decide on."""
    numeric = pc.match_substring_regex(unique_values, _NUMBER.pattern).to_numpy(zero_copy_only=False)
    total = int(counts.sum())
    numeric_rows = int(counts[numeric].sum())
    if numeric_rows < 0.8 * total or numeric_rows == total:
        return None
    bad = pc.filter(unique_values, pa.array(~numeric))
    examples = [str(v) for v in bad.slice(0, 5).to_pylist()]
    return total - numeric_rows, examples
