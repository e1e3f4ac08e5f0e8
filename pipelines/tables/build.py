"""Builders that turn evaluation results into publication tables (values as journal text)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.errors import EvaluationError
from pipelines.evaluation import BinaryMetrics, Estimate, MulticlassMetrics, RegressionMetrics, SubgroupPerformance, TableOne
from pipelines.figures._style import load_labels
from pipelines.tables._table import Cell, Table, suppress_count

__all__ = ["performance_table", "table_one_table", "hyperparameter_table", "subgroup_table", "format_p"]



def _labels(lang: str, labels: Mapping[str, str] | None) -> Mapping[str, str]:
    return labels if labels is not None else load_labels(lang)


def _t(labels: Mapping[str, str], key: str, **params: Any) -> str:
    text = labels.get(key, key)
    return text.format(**params) if params else text


def format_p(p: float) -> str:
    """``<0.001`` below a thousandth, else three decimals; empty when no test was run."""
    if p is None or not math.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _count(n: int, limit: int) -> Cell:
    return suppress_count(int(n), limit)


def _est(est: Estimate, digits: int, lang: str) -> str:
    return est.format(digits, lang=lang)  # "0.81 (0.76 to 0.86)"; Korean "0.81 (0.76\u20130.86)"


def performance_table(
    models: Mapping[str, BinaryMetrics | RegressionMetrics | MulticlassMetrics],
    *,
    metrics: Sequence[str] | None = None,
    digits: int = 2,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> Table:
    """Metrics as rows, models as columns, every cell "value (lower to upper)"."""
    if not models:
        raise EvaluationError("evaluation.no_models")
    lab = _labels(lang, labels)
    first = next(iter(models.values()))
    names = list(metrics) if metrics is not None else list(first.estimates())
    rows: list[tuple[Cell, ...]] = []
    for name in names:
        cells: list[Cell] = [lab.get(f"figures.metric.{name}", name)]
        for result in models.values():
            est = result.estimates().get(name)
            cells.append(_est(est, digits, lang) if est is not None else "")
        rows.append(tuple(cells))
    if all(isinstance(m, BinaryMetrics) for m in models.values()):
        rows.append((_t(lab, "figures.table.threshold"), *(f"{m.threshold.value:.3f}" for m in models.values())))
        rows.append((_t(lab, "figures.table.n_patients"), *(m.n for m in models.values())))
        rows.append((_t(lab, "figures.table.n_events"), *(m.n_positive for m in models.values())))
    patients = any(getattr(m, "patient_level", False) for m in models.values())
    note = _t(lab, "figures.table.note_ci", n=first.n_resamples, seed=first.seed,
              patients=_t(lab, "figures.table.note_patients") if patients else "")
    return Table(
        title=_t(lab, "figures.table.performance_title"),
        columns=(_t(lab, "figures.table.metric"), *models.keys()),
        rows=tuple(rows),
        notes=(note,),
        name="performance",
    )


_CELL_COUNT = re.compile(r"^(\d+) \((\d+(?:\.\d+)?)\)$")


def _suppress_cell(text: str, limit: int) -> str:
    match = _CELL_COUNT.match(text)
    if limit and match and 0 < int(match.group(1)) < limit:
        return f"<{limit}"
    return text


def table_one_table(
    table: TableOne,
    *,
    suppress_below: int = 0,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> Table:
    """Table 1 as journals print it: one column per outcome level, missing counts, P value and test.

    With ``suppress_below``, the sizes in the header follow the rule of the cells: an outcome group
    of 1 to ``suppress_below - 1`` patients reads "n = <5" (the columns that would give it away are
    the caller's to hide, as for the cells)."""
    lab = _labels(lang, labels)
    columns = (
        _t(lab, "figures.table.variable"),
        _t(lab, "figures.table.overall", n=_count(table.n, suppress_below)),
        *(_t(lab, "figures.table.group", outcome=table.outcome, value=g, n=_count(n, suppress_below))
          for g, n in zip(table.groups, table.group_sizes)),
        _t(lab, "figures.table.missing"),
        _t(lab, "figures.table.p_value"),
        _t(lab, "figures.table.test"),
    )
    rows: list[tuple[Cell, ...]] = []
    for r in table.rows:
        if r.kind == "categorical" and r.level and r.overall and r.missing == 0 and not math.isfinite(r.p_value):
            label = "    " + r.level  # a level under its variable's header line
        elif r.kind == "categorical" and r.level:
            label = f"{r.variable} = {r.level}"
        else:
            label = r.variable
        rows.append((
            label,
            _suppress_cell(r.overall, suppress_below),
            *(_suppress_cell(c, suppress_below) for c in r.by_group),
            _count(r.missing, suppress_below) if (r.level == "" or r.test) else "",
            format_p(r.p_value),
            lab.get(f"figures.test.{r.test}", r.test) if r.test else "",
        ))
    notes = [_t(lab, "figures.table.note_table_one")]
    if suppress_below:
        notes.append(_t(lab, "figures.table.note_suppressed", limit=suppress_below - 1, n=suppress_below))
    return Table(_t(lab, "figures.table.table_one_title"), columns, tuple(rows), tuple(notes), "table_one")


def hyperparameter_table(
    params: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> Table:
    """One row per model and hyperparameter, so reviewers can reproduce the final models."""
    lab = _labels(lang, labels)
    rows: list[tuple[Cell, ...]] = []
    for model, values in params.items():
        for key in sorted(values):
            value = values[key]
            if isinstance(value, float):
                cell: Cell = float(f"{value:.6g}")
            elif isinstance(value, (int, str)) or value is None:
                cell = value if value is not None else "None"
            else:
                cell = str(value)
            rows.append((model, key, cell))
    return Table(
        _t(lab, "figures.table.hyperparameters_title"),
        (_t(lab, "figures.table.model"), _t(lab, "figures.table.parameter"), _t(lab, "figures.table.value")),
        tuple(rows),
        (),
        "hyperparameters",
    )


def subgroup_table(
    result: SubgroupPerformance,
    *,
    digits: int = 2,
    suppress_below: int = 0,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> Table:
    """Subgroup, level, n, events and each metric with its CI; small counts "<5" when asked."""
    lab = _labels(lang, labels)
    columns = (
        _t(lab, "figures.table.subgroup"), _t(lab, "figures.table.level"),
        _t(lab, "figures.table.n"), _t(lab, "figures.table.events"),
        *(lab.get(f"figures.metric.{m}", m) for m in result.metrics),
    )
    missing = _t(lab, "figures.table.not_estimable")

    def line(variable: str, level: str, row) -> tuple[Cell, ...]:
        cells = [_est(row.metrics[m], digits, lang) if m in row.metrics else missing for m in result.metrics]
        return (variable, level, _count(row.n, suppress_below), _count(row.n_positive, suppress_below), *cells)

    rows = [line(_t(lab, "figures.forest.overall"), "", result.overall)]
    rows += [line(r.variable, r.level, r) for r in result.rows]
    notes = [_t(lab, "figures.table.note_ci", n=result.n_resamples, seed=result.seed, patients="")]
    if suppress_below:
        notes.append(_t(lab, "figures.table.note_suppressed", limit=suppress_below - 1, n=suppress_below))
    return Table(_t(lab, "figures.table.subgroups_title"), columns, tuple(rows), tuple(notes), "subgroups")


