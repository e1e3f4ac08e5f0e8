"""Which measures at the threshold, and which confusion-matrix cells, a restricted viewer gets.

Printed beside a line's patients and events, sensitivity (TP / events) and specificity
(TN / non-events) give back every cell of the confusion matrix at the threshold, and PPV, NPV, F1 and
accuracy follow from the same cells (two of them give even a hidden event count back). So for a
restricted viewer the measures at the threshold of a line (a model's part in a performance table,
the model card, the methods text; a subgroup or the overall line of the subgroup table) are shown
only when that line's n and events are printed as they are and none of its four cells holds 1 to 4
patients (:func:`permissions.disclosure.threshold_measures_safe`); otherwise they read "suppressed"
with a note. Among the levels of one subgrouping variable, whose matrices add up to the overall
line's, a single suppressed level would be the overall minus the others, so a second level (the
smallest) is suppressed with it when the first one hides a small cell.

The confusion matrix figure hides the other cell of a row with a small cell, and a whole row whose
total (non-events or events) is hidden in the tables, with no percentage in such a row
(:func:`permissions.disclosure.confusion_suppression`). What the hidden cells of a line must hold
together (its printed total minus its shown cells) bounds nothing either: a hidden row of 6 events
reading "<5" and "x" would be 1 and 5 (``x`` is 0 or at least 5), so such a row reads "x" twice; a
multiclass matrix hides more cells until a reader working in whole numbers across rows, columns and
the diagonal narrows no "<5" below 1 to 4 (:func:`permissions.disclosure.table_suppression`). Owners
and editors keep every number.

A multiclass part has the same kind of measures at the threshold: macro F1 and accuracy (and per class
sensitivity, PPV and F1). A reader who knows the class sizes and the predicted counts (the rows and
columns of its confusion matrix, as the matrix's own protection assumes) gets from accuracy the
diagonal's sum and from macro F1 one more equation on the diagonal cells (each class's F1 is twice its
diagonal cell over its class size plus its predicted count); together with the whole numbers of the
matrix figure they pinned a hidden cell of 3 on real data. So for a restricted viewer they are shown
only where no cell of that part's matrix holds 1 to 4 patients (:func:`part_measures_shown`), and the
reader's copy of the evaluation carries them as :class:`WithheldEstimate` ("suppressed", no value:
:func:`reader_threshold_measures`), which every listing of measures (leaderboard, tables, model card)
prints as it is. Ranking measures (macro AUROC and AUPRC of the drawn classes) and log loss stay.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from permissions.disclosure import (
    confusion_from_rates,
    confusion_suppression,
    has_small_cell,
    table_suppression,
    threshold_measures_safe,
)
from pipelines import evaluation as ev
from pipelines import tables as tb
from pipelines.evaluation import SubgroupPerformance
from pipelines.evaluation.binary import AT_THRESHOLD as BINARY_AT_THRESHOLD
from workbench.i18n import t
from workbench.services._codec import register
from workbench.services._evaluate import ModelEvaluation
from workbench.services._table_disclosure import COMPLEMENT_LABEL, part_lines

__all__ = ["AT_THRESHOLD", "MULTICLASS_AT_THRESHOLD", "WithheldEstimate", "reader_threshold_measures",
           "measure_suppressed_label", "measures_note", "multiclass_measures_note", "multiclass_measures_shown",
           "part_measures_shown",
           "subgroup_measures_shown", "confusion_cells", "confusion_note", "multiclass_confusion_cells",
           "multiclass_confusion_note", "protect_performance_measures", "protect_subgroup_measures"]


MULTICLASS_AT_THRESHOLD = ("macro_f1", "accuracy")  # of a multiclass part; per class: sensitivity, PPV, F1
_PER_CLASS_AT_THRESHOLD = ("sensitivity", "ppv", "f1")
# every measure at the threshold a listing of measures may hold, binary or multiclass
AT_THRESHOLD = tuple(dict.fromkeys(BINARY_AT_THRESHOLD + MULTICLASS_AT_THRESHOLD))


def measure_suppressed_label(lang: str) -> str:
    return t("figures.table.metric_suppressed", lang)


def measures_note(lang: str, limit: int) -> str:
    return t("figures.table.note_metric_suppressed", lang, label=measure_suppressed_label(lang), limit=limit - 1)


def multiclass_measures_note(lang: str, limit: int) -> str:
    return t("figures.table.note_metric_suppressed_multiclass", lang, label=measure_suppressed_label(lang),
             limit=limit - 1)


def confusion_note(lang: str, limit: int) -> str:
    return t("figures.confusion.note_hidden", lang, n=limit, limit=limit - 1, label=COMPLEMENT_LABEL)


def _multiclass(metrics: Any) -> bool:
    return isinstance(metrics, ev.MulticlassMetrics)


def multiclass_measures_shown(metrics: Any, *, limit: int) -> bool:
    """May a restricted viewer see a multiclass part's measures at the threshold? Only when no cell of
    its confusion matrix holds 1 to ``limit - 1`` patients (True for other tasks and the full view)."""
    return not (limit and _multiclass(metrics) and has_small_cell(np.asarray(metrics.confusion), limit))


def part_measures_shown(evaluation: ModelEvaluation, *, limit: int) -> dict[str, bool]:
    """Per part: may its measures at the threshold be shown? (Always for the full view and regression;
    a multiclass part: :func:`multiclass_measures_shown`.)"""
    lines = part_lines(evaluation, limit=limit) if limit else {}
    out: dict[str, bool] = {}
    for part in evaluation.parts:
        if part.part not in lines:
            out[part.part] = multiclass_measures_shown(part.metrics, limit=limit)
            continue
        _, mask = lines[part.part]
        out[part.part] = threshold_measures_safe(part.metrics.confusion.table, counts_printed=not mask[:2].any(),
                                                 limit=limit)
    return out


@register
@dataclasses.dataclass(frozen=True)
class WithheldEstimate(ev.Estimate):
    """A measure a restricted viewer does not get: no value and no interval (NaN), printed as the
    translated "suppressed" wherever an estimate is formatted."""

    def format(self, digits: int = 2, *, percent: bool = False, lang: str = "en") -> str:
        return measure_suppressed_label(lang)


def _withheld(estimate: ev.Estimate) -> WithheldEstimate:
    return WithheldEstimate(float("nan"), float("nan"), float("nan"), estimate.level)


def reader_threshold_measures(metrics: Any, *, limit: int) -> Any:
    """Multiclass ``metrics`` as a restricted viewer gets them: where :func:`multiclass_measures_shown`
    refuses, macro F1, accuracy and each class's sensitivity, PPV and F1 withheld; unchanged otherwise
    (other tasks, ``limit=0``). The confusion matrix stays: its figure hides its own cells."""
    if multiclass_measures_shown(metrics, limit=limit) or isinstance(metrics.macro_f1, WithheldEstimate):
        return metrics  # (a second time: already withheld)
    per_class = tuple(dataclasses.replace(c, **{name: _withheld(getattr(c, name)) for name in _PER_CLASS_AT_THRESHOLD})
                      for c in metrics.per_class)
    return dataclasses.replace(metrics, per_class=per_class,
                               **{name: _withheld(getattr(metrics, name)) for name in MULTICLASS_AT_THRESHOLD})


def _confusion(row) -> np.ndarray | None:
    sensitivity, specificity = row.metrics.get("sensitivity"), row.metrics.get("specificity")
    if sensitivity is None or specificity is None:
        return None
    return confusion_from_rates(row.n, row.n_positive, sensitivity.value, specificity.value)


def subgroup_measures_shown(source: SubgroupPerformance, masks: np.ndarray, *, limit: int) -> list[bool]:
    """The overall line's, then each row's: may its measures at the threshold be shown? ``masks`` are
    the (n, events, non-events) masks of the same lines (``subgroup_lines``)."""
    lines = (source.overall, *source.rows)
    if not limit:
        return [True] * len(lines)
    confusions = [_confusion(r) for r in lines]
    shown = [bool(r.metrics) and threshold_measures_safe(c, counts_printed=not m[:2].any(), limit=limit)
             for r, c, m in zip(lines, confusions, masks)]
    if not shown[0]:
        return shown
    by_variable: dict[str, list[int]] = {}
    for i, row in enumerate(source.rows, start=1):
        by_variable.setdefault(row.variable, []).append(i)
    for rows in by_variable.values():
        hidden = [i for i in rows if not shown[i]]
        if len(hidden) != 1:
            continue
        # the overall line minus the shown levels is the hidden one's matrix (and its events)
        rest = confusions[0] - sum((confusions[i] for i in rows if i != hidden[0]), np.zeros((2, 2), int))
        if not has_small_cell(rest, limit) and not masks[hidden[0]][:2].any():
            continue
        candidates = [i for i in rows if shown[i]]
        if candidates:
            shown[min(candidates, key=lambda i: (lines[i].n, i))] = False
    return shown


def confusion_cells(evaluation: ModelEvaluation, *, limit: int) -> list[list[str]] | None:
    """The confusion matrix figure's four cells as a restricted viewer sees them ("<5", ``x`` or the
    count, no percentage in a row with a hidden cell); None for the full view."""
    if not limit:
        return None
    table = evaluation.main.metrics.confusion.table
    _, mask = part_lines(evaluation, limit=limit)[evaluation.main.part]
    # rows: observed no event (the non-events of the tables), observed event (the events)
    primary, hidden = confusion_suppression(table, limit=limit, rows_shown=(not mask[2], not mask[1]))
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    cells = []
    for r in range(2):
        row = []
        for c in range(2):
            if primary[r, c]:
                row.append(f"<{limit}")
            elif hidden[r, c]:
                row.append(COMPLEMENT_LABEL)
            else:
                row.append(f"{int(table[r, c])}\n({100 * shares[r, c]:.1f}%)")
        cells.append(row)
    return cells


def multiclass_confusion_cells(evaluation: ModelEvaluation, *, limit: int) -> list[list[str]] | None:
    """A multiclass confusion matrix's cells as a restricted viewer sees them; None for the full view.

    Its rows add up to the classes' sizes and its columns to the predicted counts, either of which a
    reader may know (Table 1 prints the classes), so a cell of 1 to 4 is hidden with complements in its
    row and column until no hidden cell follows from the totals and no "<5" can be narrowed down in whole
    numbers (:func:`permissions.disclosure.table_suppression`: a few seconds at most on busy cores, once
    per matrix); a row with a hidden cell gets no percentages."""
    if not limit:
        return None
    table = np.asarray(evaluation.main.metrics.confusion, dtype=float)
    counts = tuple(map(tuple, table.astype(int).tolist()))
    primary, hidden = (np.array(mask, dtype=bool) for mask in _grid_masks(counts, limit))
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    cells = []
    for r in range(table.shape[0]):
        plain = not hidden[r].any()
        cells.append([f"<{limit}" if primary[r, c] else COMPLEMENT_LABEL if hidden[r, c]
                      else f"{int(table[r, c])}\n({100 * shares[r, c]:.1f}%)" if plain else str(int(table[r, c]))
                      for c in range(table.shape[1])])
    return cells


@functools.lru_cache(maxsize=512)
def _grid_masks(table: tuple[tuple[int, ...], ...], limit: int) -> tuple[tuple[tuple[bool, ...], ...], ...]:
    """:func:`table_suppression` of a matrix (the diagonal's sum known: accuracy x n), remembered by its
    counts: it takes seconds, and the Export page redraws the figure on every rerun. The key is the
    matrix the reader is about to see in part, and the answer only which cells to hide, so the memo
    gives nobody anything they could not compute from what they are shown."""
    small, hidden = table_suppression(np.asarray(table, dtype=float), limit=limit, diagonal_total=True)
    return tuple(map(tuple, small.tolist())), tuple(map(tuple, hidden.tolist()))


def multiclass_confusion_note(lang: str, limit: int) -> str:
    return t("figures.confusion.note_hidden_multiclass", lang, n=limit, limit=limit - 1, label=COMPLEMENT_LABEL)


def _suppress(rows: list[list], names: Sequence[str], column: int, label: str) -> bool:
    """Write ``label`` over the measures at the threshold in ``column`` (row ``i`` holds ``names[i]``)."""
    hit = False
    for i, name in enumerate(names):
        if name in AT_THRESHOLD:
            rows[i][column] = label
            hit = True
    return hit


def _with_note(table: tb.Table, rows: Sequence[list], hit: bool, lang: str, limit: int, *,
               multiclass: bool = False) -> tb.Table:
    note = multiclass_measures_note(lang, limit) if multiclass else measures_note(lang, limit)
    notes = table.notes + ((note,) if hit else ())
    return tb.Table(table.title, table.columns, tuple(tuple(r) for r in rows), notes, table.name)


def protect_performance_measures(table: tb.Table, evaluations: Sequence[ModelEvaluation], *, part: str, limit: int,
                                 lang: str = "en") -> tb.Table:
    """A binary or multiclass performance table (metrics as rows in ``estimates()`` order, models as
    columns) with the measures at the threshold suppressed in each column where they would give a small
    cell away."""
    if not limit or not evaluations or not hasattr(evaluations[0].part(part).metrics, "confusion"):
        return table
    rows = [list(r) for r in table.rows]
    names = list(evaluations[0].part(part).metrics.estimates())
    label, hit = measure_suppressed_label(lang), False
    for j, evaluation in enumerate(evaluations, start=1):
        if not part_measures_shown(evaluation, limit=limit).get(part, True):
            hit |= _suppress(rows, names, j, label)
    return _with_note(table, rows, hit, lang, limit, multiclass=_multiclass(evaluations[0].part(part).metrics))


def protect_subgroup_measures(table: tb.Table, source: SubgroupPerformance, masks: np.ndarray, *, limit: int,
                              lang: str = "en") -> tb.Table:
    """The subgroup table (row 0 the overall line, metrics from the fifth column) with the measures at
    the threshold suppressed on the lines :func:`subgroup_measures_shown` refuses."""
    if not limit:
        return table
    rows = [list(r) for r in table.rows]
    label, hit = measure_suppressed_label(lang), False
    keep = t("figures.table.not_estimable", lang)
    for k, shown in enumerate(subgroup_measures_shown(source, masks, limit=limit)):
        if not shown:
            for c, name in enumerate(source.metrics, start=4):
                if name in AT_THRESHOLD and rows[k][c] != keep:
                    rows[k][c] = label
                    hit = True
    return _with_note(table, rows, hit, lang, limit)
