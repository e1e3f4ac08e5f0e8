"""Plausible clinical ranges (``pipelines/data/clinical_ranges.csv``), matched by column-name aliases."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["ClinicalRange", "clinical_ranges", "range_for_column", "RANGES_PATH"]

RANGES_PATH = Path(__file__).resolve().parents[1] / "data" / "clinical_ranges.csv"


@dataclass(frozen=True)
class ClinicalRange:
    name: str
    unit: str
    low: float
    high: float
    aliases: tuple[str, ...]


def _normalise(name: str) -> str:
    return re.sub(r"[\s_.\-()/\[\]]+", "", name).casefold()


@cache
def clinical_ranges() -> tuple[ClinicalRange, ...]:
    with RANGES_PATH.open(encoding="utf-8", newline="") as handle:
        return tuple(
            ClinicalRange(
                name=row["name"],
                unit=row["unit"],
                low=float(row["low"]),
                high=float(row["high"]),
                aliases=tuple(a for a in row["aliases"].split("|") if a),
            )
            for row in csv.DictReader(handle)
        )


@cache
def _by_alias() -> dict[str, ClinicalRange]:
    index: dict[str, ClinicalRange] = {}
    for item in clinical_ranges():
        for alias in (item.name, *item.aliases):
            index.setdefault(_normalise(alias), item)
    return index


def range_for_column(column: str) -> ClinicalRange | None:
    """The plausible range for a column called e.g. ``Heart Rate``, ``serum_sodium`` or ``심박수``."""
    return _by_alias().get(_normalise(column))
