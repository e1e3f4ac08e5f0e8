"""The curves a restricted reader (a collaborator, a reader of someone else's validation) may be shown.

Curves give a small count back although no count is printed on them:

- **Calibration bins.** The bins add up to the patients, and a bin's observed rate with its exact
  (Clopper-Pearson) interval gives the bin's size back, so hiding a bin's count hides nothing. A bin
  of 1 to 4 patients is merged with its smaller neighbour instead
  (:func:`permissions.disclosure.merge_small_bins`): every patient stays on the curve and every count
  shown (the hover text, the calculator's sentence) is at least the threshold.
- **One-vs-rest curves of a multiclass outcome.** A class's ROC curve climbs in steps of one patient
  of that class, and its PR curve's no-skill line is the class's share: a class of 1 to 4 patients in
  the evaluated part can be read off them. Its curve is not drawn, and the classes are one line whose
  total is printed (:func:`permissions.disclosure.complementary_suppression` with
  ``min_hidden_total``): the smallest other classes are left out with it until at least two are out
  and the patients left out add up to the threshold or more, since the printed patients minus the
  drawn classes' shares is their sum, and K times a macro value minus the drawn classes' values is
  the sum of the hidden classes' values.
- **The macro curves.** The average over every class cannot stay beside the drawn ones: K times the
  macro curve minus the drawn curves is the sum of the hidden classes' curves, and a sum of step
  functions whose steps are 1/n of different classes is read back class by class (a class of one
  patient jumps by a whole 1 where the other hidden class of 8 moves by eighths), and its bootstrap
  band jumps there too. A restricted reader's macro ROC and PR are therefore the average of the
  drawn classes (what the reader could average), AUROC and AUPRC the mean of the drawn classes', with
  no band and no interval (those need the patients); the note naming the classes left out says so.
  When no class is left to draw (a part holding two classes, one of them small), there are no curves.
- **The macro measures.** For the same reason the leaderboard, the performance tables, the model card
  and every export give a restricted reader the macro AUROC and AUPRC of the drawn classes, the values
  the macro curves carry (:class:`DrawnClassesMetrics`): named "(drawn classes)", without interval.
  Averaged over every class beside the drawn classes' curves, K times the macro minus the drawn values
  was the hidden classes' sum (one hidden class: its value). Hiding the per-class curves instead
  would take away what the reader may see; the drawn classes' average is what they could work out.

Owners and editors keep every bin and every class. Applying a rule twice changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from permissions.disclosure import complementary_suppression, merge_small_bins
from pipelines import evaluation as ev
from pipelines.evaluation.curves import _clopper_pearson as clopper_pearson
from pipelines.evaluation.curves import _step_tpr
from workbench.services._evaluate import ModelEvaluation, PartResult
from workbench.services._measure_disclosure import reader_threshold_measures

__all__ = ["merged_calibration", "reader_multiclass_curves", "reader_evaluation", "drawn_macro",
           "DrawnClassesMetrics", "reader_multiclass_metrics"]


def _clean_counts(counts: Any, limit: int) -> np.ndarray:
    counts = np.asarray(counts).copy()
    counts[(counts > 0) & (counts < limit)] = 0
    return counts


def merged_calibration(curve: ev.CalibrationCurve | None, *, limit: int) -> ev.CalibrationCurve | None:
    """The curve with every bin of 1 to ``limit - 1`` patients merged into a neighbour, rates and exact
    intervals recomputed from the merged bins' patients and events; the spike histogram's small counts
    zeroed. A curve of fewer than ``limit`` patients keeps no bin at all. ``limit=0``: unchanged."""
    if curve is None or not limit:
        return curve
    counts = np.asarray(curve.counts, dtype=float)
    groups = merge_small_bins(counts, limit=limit) if counts.sum() >= limit else []
    n = np.array([counts[g].sum() for g in groups], dtype=float)
    events = np.array([np.round(curve.observed[g] * counts[g]).sum() for g in groups], dtype=float)
    predicted = np.array([(curve.predicted[g] * counts[g]).sum() for g in groups], dtype=float) / np.maximum(n, 1)
    lower, upper = clopper_pearson(events, n, curve.slope.level)
    return dataclasses.replace(curve, predicted=predicted, observed=events / np.maximum(n, 1), observed_lower=lower,
                               observed_upper=upper, counts=n.astype(int),
                               histogram_events=_clean_counts(curve.histogram_events, limit),
                               histogram_non_events=_clean_counts(curve.histogram_non_events, limit))


def _hidden_classes(sizes: Sequence[int], limit: int) -> np.ndarray:
    """Which classes to leave out: 1 to ``limit - 1`` patients, and complements so that the printed
    patients minus the shown classes give neither a single hidden class nor a hidden sum of 1 to
    ``limit - 1`` back."""
    grid = np.asarray(sizes, dtype=float).reshape(1, -1)
    primary = (grid > 0) & (grid < limit)
    if not primary.any():
        return primary[0]
    return complementary_suppression(grid, primary, column_totals=np.zeros(grid.shape[1], bool),
                                     min_hidden_total=limit)[0]


def _interpolated_precision(curve: ev.PrCurve, at: np.ndarray) -> np.ndarray:
    """The best precision at a recall of ``at`` or beyond (as the macro PR averages it)."""
    envelope = np.maximum.accumulate(np.asarray(curve.precision)[::-1])[::-1]
    return envelope[np.clip(np.searchsorted(curve.recall, at, side="left"), 0, len(envelope) - 1)]


def _no_interval(value: float, level: float) -> ev.Estimate:
    return ev.Estimate(float(value), float("nan"), float("nan"), level)


def drawn_macro(curves: ev.MulticlassCurves) -> tuple[ev.RocCurve, ev.PrCurve]:
    """The macro ROC and PR of the classes ``curves`` draws, from their curves alone (TPRs averaged at
    every false-positive rate, interpolated precisions at every recall, areas averaged), without a
    band or interval: nothing in them that the drawn curves do not hold."""
    roc, pr = curves.macro_roc, curves.macro_pr
    at = np.unique(np.concatenate([c.fpr for c in curves.roc]))
    tpr = np.mean([_step_tpr(c.fpr, c.tpr, at) for c in curves.roc], axis=0)
    grid = np.asarray(pr.grid)
    precision = np.mean([_interpolated_precision(c, grid) for c in curves.pr], axis=0)
    empty = np.zeros(0)
    return (dataclasses.replace(roc, fpr=at, tpr=tpr, grid=empty, tpr_lower=empty, tpr_upper=empty,
                                auroc=_no_interval(np.mean([c.auroc.value for c in curves.roc]), roc.auroc.level)),
            dataclasses.replace(pr, recall=grid.copy(), precision=precision, grid=empty, precision_lower=empty,
                                precision_upper=empty, prevalence=float(np.mean([c.prevalence for c in curves.pr])),
                                auprc=_no_interval(np.mean([c.auprc.value for c in curves.pr]), pr.auprc.level)))


def reader_multiclass_curves(curves: ev.MulticlassCurves | None, sizes: Mapping[str, int], *,
                             limit: int) -> ev.MulticlassCurves | None:
    """The one-vs-rest curves without the classes :func:`_hidden_classes` leaves out (``sizes``: the
    patients of each class in the evaluated part, by label); their labels go to ``suppressed`` and the
    macro curves become the drawn classes' (:func:`drawn_macro`). None when no class is left to draw."""
    if curves is None or not limit:
        return curves
    labels = list(curves.classes)
    hidden = _hidden_classes([int(sizes.get(c, 0)) for c in labels], limit)
    if not hidden.any():
        return curves
    keep = [i for i in range(len(labels)) if not hidden[i]]
    drawn = dataclasses.replace(curves, classes=tuple(labels[i] for i in keep), roc=tuple(curves.roc[i] for i in keep),
                                pr=tuple(curves.pr[i] for i in keep),
                                suppressed=tuple(curves.suppressed) + tuple(labels[i] for i in range(len(labels))
                                                                            if hidden[i]))
    if not keep:  # two classes in the part, one small: the other goes with it, and nothing is left to draw
        return None
    macro_roc, macro_pr = drawn_macro(drawn)
    return dataclasses.replace(drawn, macro_roc=macro_roc, macro_pr=macro_pr)


@dataclasses.dataclass(frozen=True)
class DrawnClassesMetrics(ev.MulticlassMetrics):
    """A restricted reader's multiclass measures when classes are left out: ``macro_auroc`` and
    ``macro_auprc`` are the means over the drawn classes, without interval, and are named so
    (``macro_auroc_drawn``, ``macro_auprc_drawn``) wherever measures are listed."""

    left_out: tuple[str, ...] = ()

    def estimates(self) -> dict[str, ev.Estimate]:
        return {"macro_auroc_drawn": self.macro_auroc, "macro_auprc_drawn": self.macro_auprc,
                "macro_f1": self.macro_f1, "accuracy": self.accuracy, "log_loss": self.log_loss}


def reader_multiclass_metrics(metrics: Any, *, limit: int) -> Any:
    """Multiclass ``metrics`` with the macro AUROC and AUPRC over the classes the curves draw (those
    :func:`_hidden_classes` keeps); unchanged when no class is left out, for other tasks, or ``limit=0``."""
    per_class = getattr(metrics, "per_class", None)
    if not limit or not per_class or isinstance(metrics, DrawnClassesMetrics):
        return metrics  # (a second time: already the drawn classes')
    hidden = _hidden_classes([int(c.n) for c in per_class], limit)
    if not hidden.any():
        return metrics
    drawn = [c for c, h in zip(per_class, hidden) if not h]

    def mean(name: str) -> ev.Estimate:
        values = [getattr(c, name).value for c in drawn if np.isfinite(getattr(c, name).value)]
        return _no_interval(np.mean(values) if values else float("nan"), getattr(metrics, f"macro_{name}").level)

    fields = {f.name: getattr(metrics, f.name) for f in dataclasses.fields(ev.MulticlassMetrics)}
    return DrawnClassesMetrics(**{**fields, "macro_auroc": mean("auroc"), "macro_auprc": mean("auprc")},
                               left_out=tuple(c.label for c, h in zip(per_class, hidden) if h))


def _part(part: PartResult, limit: int) -> PartResult:
    curves = part.multiclass_curves
    if curves is not None:
        sizes = {str(c.label): int(c.n) for c in getattr(part.metrics, "per_class", ())}
        curves = reader_multiclass_curves(curves, sizes, limit=limit)
    return dataclasses.replace(part, calibration=merged_calibration(part.calibration, limit=limit),
                               multiclass_curves=curves, metrics=reader_threshold_measures(
                                   reader_multiclass_metrics(part.metrics, limit=limit), limit=limit))


def reader_evaluation(evaluation: ModelEvaluation, *, limit: int) -> ModelEvaluation:
    """The evaluation as a restricted reader gets it: every part's calibration bins merged, its
    per-class curves of small classes left out, its macro measures over the drawn classes and its
    multiclass measures at the threshold withheld where a confusion cell is small (``_measure_disclosure``).
    ``limit=0``: unchanged."""
    if not limit:
        return evaluation
    return dataclasses.replace(evaluation, parts=tuple(_part(p, limit) for p in evaluation.parts))
