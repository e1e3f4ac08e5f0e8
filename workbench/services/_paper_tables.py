"""The tables of a paper (performance, Table 1, hyperparameters, subgroups) and their files.

Counts below ``SMALL_COUNT`` become "<5" in the collaborator-safe variant (``safe``), with the counts
and measures that would give them away hidden too (``_table_disclosure``, ``_measure_disclosure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipelines import tables as tb
from pipelines.errors import InputError
from workbench.i18n import t
from workbench.services._measure_disclosure import protect_performance_measures, protect_subgroup_measures
from workbench.services._table_disclosure import (
    main_mask,
    protect_performance,
    protect_subgroups,
    protect_table_one,
    subgroup_lines,
)
from workbench.services._evaluate import ModelEvaluation

__all__ = ["TABLES", "SMALL_COUNT", "make_table", "available_tables", "table_bytes", "suppress"]

TABLES = ("performance", "performance_oof", "table_one", "hyperparameters", "subgroups")
SMALL_COUNT = 5


def make_table(name: str, evaluations: Sequence[ModelEvaluation], *, params: Mapping[int, Mapping[str, Any]],
               lang: str = "en", safe: bool = False) -> tb.Table:
    if name not in TABLES:
        raise InputError("export.unknown_table", table=name, allowed=", ".join(TABLES))
    if not evaluations:
        raise InputError("export.no_models")
    first = evaluations[0]
    limit = SMALL_COUNT if safe else 0
    if name in ("performance", "performance_oof"):
        part = "test" if name == "performance" else "train"
        shown = [e for e in evaluations if e.part(part) is not None]
        if not shown:
            raise InputError("export.no_part", part=part)
        table = tb.performance_table({e.label: e.part(part).metrics for e in shown}, lang=lang)
        # the patient and event counts at the bottom of a binary table, small ones and their complements hidden
        table = protect_performance(table, shown, part=part, limit=limit, lang=lang)
        # sensitivity, specificity, PPV, NPV, F1, accuracy beside those counts would give a small cell away
        table = protect_performance_measures(table, shown, part=part, limit=limit, lang=lang)
        return tb.Table(t(f"export.table.{name}", lang), table.columns, table.rows, table.notes, name)
    if name == "table_one":
        if first.table_one is None:
            raise InputError("export.no_table_one")
        table = tb.table_one_table(first.table_one, suppress_below=limit, lang=lang)
        return protect_table_one(table, first.table_one, limit=limit, lang=lang)  # secondary suppression
    if name == "hyperparameters":
        return tb.hyperparameter_table({e.label: params.get(e.model_id, {}) for e in evaluations}, lang=lang)
    if first.subgroups is None:
        raise InputError("export.no_subgroups")
    table = tb.subgroup_table(first.subgroups, suppress_below=limit, lang=lang)
    overall = main_mask(first, limit=limit) if limit else None
    table = protect_subgroups(table, first.subgroups, limit=limit, lang=lang, overall=overall)
    _, masks = subgroup_lines(first.subgroups, limit=limit, overall=overall)
    return protect_subgroup_measures(table, first.subgroups, masks, limit=limit, lang=lang)


def available_tables(evaluations: Sequence[ModelEvaluation]) -> tuple[str, ...]:
    if not evaluations:
        return ()
    first = evaluations[0]
    out = ["performance"] if first.part("test") else []
    if first.part("train"):
        out.append("performance_oof")
    if first.table_one is not None:
        out.append("table_one")
    out.append("hyperparameters")
    if first.subgroups is not None:
        out.append("subgroups")
    return tuple(out)


def table_bytes(table: tb.Table, fmt: str) -> bytes:
    if fmt == "csv":
        return tb.to_csv(table)
    if fmt == "xlsx":
        return tb.to_xlsx([table])
    if fmt == "docx":
        return tb.to_docx([table])
    raise InputError("export.bad_table_format", value=fmt, allowed=", ".join(tb.TABLE_FORMATS))


def suppress(n: int, safe: bool) -> str | int:
    return tb.suppress_count(int(n), SMALL_COUNT if safe else 0)
