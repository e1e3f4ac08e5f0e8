"""Units of the clinical plausible ranges (pipelines/data/clinical_ranges.csv) as a reader of the screen's
language writes them: symbols stay ("mg/dL", "mmHg", "°C"), words are translated ("years" is 세)."""

from __future__ import annotations

from typing import Any

from workbench.i18n import t

__all__ = ["unit_name"]

_WORDS = {"years": "data.unit.years", "points": "data.unit.points", "beats/min": "data.unit.beats_per_min",
          "breaths/min": "data.unit.breaths_per_min"}


def unit_name(ctx: Any, unit: str | None) -> str:
    if not unit:
        return ""
    return t(_WORDS[unit], ctx.lang) if unit in _WORDS else unit
