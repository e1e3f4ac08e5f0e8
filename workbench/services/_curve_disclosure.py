"""The curves a restricted reader (a collaborator, a reader of someone else's validation) may be shown.

Two curves give a small count back although no count is printed on them:

- **Calibration bins.** The bins add up to the patients, and a bin's observed rate with its exact
  (Clopper-Pearson) interval gives the bin's size back, so hiding a bin's count hides nothing. A bin
  of 1 to 4 patients is merged with its smaller neighbour instead
  (:func:`permissions.disclosure.merge_small_bins`): every patient stays on the curve and every count
  shown (the hover text, the calculator's sentence) is at least the threshold.
- **One-vs-rest curves of a multiclass outcome.** A class's ROC curve climbs in steps of one patient
  of that class, and its PR curve's no-skill line is the class's share: a class of 1 to 4 patients in
  the evaluated part can be read off them. Its curve is not drawn, nor, when the shown classes would
  add up to the rest of the printed patients, the smallest other class's
  (:func:`permissions.disclosure.complementary_suppression`, the classes as one line whose total is
  printed); the macro average stays, with a note naming the classes left out.

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
from workbench.services._evaluate import ModelEvaluation, PartResult

__all__ = ["merged_calibration", "reader_multiclass_curves", "reader_evaluation"]


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
    patients minus the shown classes give no single hidden class back."""
    grid = np.asarray(sizes, dtype=float).reshape(1, -1)
    primary = (grid > 0) & (grid < limit)
    if not primary.any():
        return primary[0]
    return complementary_suppression(grid, primary, column_totals=np.zeros(grid.shape[1], bool))[0]


def reader_multiclass_curves(curves: ev.MulticlassCurves | None, sizes: Mapping[str, int], *,
                             limit: int) -> ev.MulticlassCurves | None:
    """The one-vs-rest curves without the classes :func:`_hidden_classes` leaves out (``sizes``: the
    patients of each class in the evaluated part, by label); their labels go to ``suppressed``."""
    if curves is None or not limit:
        return curves
    labels = list(curves.classes)
    hidden = _hidden_classes([int(sizes.get(c, 0)) for c in labels], limit)
    if not hidden.any():
        return curves
    keep = [i for i in range(len(labels)) if not hidden[i]]
    return dataclasses.replace(curves, classes=tuple(labels[i] for i in keep), roc=tuple(curves.roc[i] for i in keep),
                               pr=tuple(curves.pr[i] for i in keep),
                               suppressed=tuple(curves.suppressed) + tuple(labels[i] for i in range(len(labels))
                                                                           if hidden[i]))


def _part(part: PartResult, limit: int) -> PartResult:
    curves = part.multiclass_curves
    if curves is not None:
        sizes = {str(c.label): int(c.n) for c in getattr(part.metrics, "per_class", ())}
        curves = reader_multiclass_curves(curves, sizes, limit=limit)
    return dataclasses.replace(part, calibration=merged_calibration(part.calibration, limit=limit),
                               multiclass_curves=curves)


def reader_evaluation(evaluation: ModelEvaluation, *, limit: int) -> ModelEvaluation:
    """The evaluation as a restricted reader gets it: every part's calibration bins merged and its
    per-class curves of small classes left out. ``limit=0``: unchanged."""
    if not limit:
        return evaluation
    return dataclasses.replace(evaluation, parts=tuple(_part(p, limit) for p in evaluation.parts))
