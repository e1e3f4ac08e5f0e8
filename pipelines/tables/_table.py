"""The table model shared by every builder and writer, and the two safety rules for cells.

A spreadsheet cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is
run as a formula by Excel and LibreOffice; a variable name or category typed by a user could
carry one (OWASP "CSV injection"). Text cells are therefore escaped with a leading apostrophe,
while real numbers stay numbers. Counts from 1 to 4 can be printed as "<5" for tables that leave
the project (the small-cell rule of most data-sharing agreements).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

__all__ = ["Cell", "Table", "safe_text", "suppress_count"]

Cell = Union[str, int, float, None]
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True)
class Table:
    """A titled grid: ``columns`` are the header, each row has one cell per column."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    name: str = "table"  # short machine name: file stem and worksheet name


def safe_text(value: Cell) -> Cell:
    """Neutralise formula triggers in text; numbers (incl. negative ones) are left as numbers."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if not (isinstance(value, float) and math.isnan(value)) else None
    text = str(value)
    if text.startswith(_DANGEROUS):
        return "'" + text
    return text


def suppress_count(n: int, limit: int) -> str | int:
    """``n`` unless it is between 1 and ``limit - 1``; then ``"<limit"``. ``limit=0`` disables."""
    if limit and 0 < n < limit:
        return f"<{limit}"
    return n
