"""What the user chose when reading a file; everything else is detected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ReadOptions", "ColumnType", "COLUMN_TYPES", "DEFAULT_MISSING_CODES", "DEFAULT_MAX_BYTES"]

ColumnType = Literal["numeric", "integer", "binary", "categorical", "datetime", "identifier", "free_text"]
COLUMN_TYPES: tuple[str, ...] = (
    "numeric",
    "integer",
    "binary",
    "categorical",
    "datetime",
    "identifier",
    "free_text",
)
DEFAULT_MISSING_CODES: tuple[str, ...] = ("", "NA", "N/A", ".", "-", "?")
DEFAULT_MAX_BYTES = 1024**3  # the upload limit setting's default (1 GiB)


@dataclass(frozen=True)
class ReadOptions:
    """Choices that override detection.

    ``None`` means "detect". ``sheet`` is a sheet name or a 0-based index; ``header_row`` is the
    0-based row that holds the column names (rows above it are skipped, e.g. a report title).
    ``missing_codes`` are only *proposed*: :func:`apply_missing_codes` applies what the user agrees to.
    ``encoding="latin-1"`` is never guessed, because every byte sequence is valid Latin-1 and a wrong
    guess silently garbles Korean text.
    """

    encoding: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None
    delimiter: str | None = None
    decimal: str | None = None
    missing_codes: tuple[str, ...] = field(default=DEFAULT_MISSING_CODES)
    max_bytes: int = DEFAULT_MAX_BYTES
