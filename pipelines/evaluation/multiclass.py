"""Multiclass metrics: one-vs-rest per class and their macro averages, with bootstrap CIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.errors import EvaluationError
from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import Estimate, as_groups, bootstrap_rows

__all__ = ["ClassMetrics", "MulticlassMetrics", "multiclass_metrics", "as_class_codes"]

_PER_CLASS = ("auroc", "auprc", "sensitivity", "ppv", "f1")


@dataclass(frozen=True)
class ClassMetrics:
    """One class against the rest; sensitivity/PPV/F1 use the arg-max prediction."""

    label: str
    n: int
    auroc: Estimate
    auprc: Estimate
    sensitivity: Estimate
    ppv: Estimate
    f1: Estimate


@dataclass(frozen=True)
class MulticlassMetrics:
    classes: tuple[str, ...]
    per_class: tuple[ClassMetrics, ...]
    macro_auroc: Estimate
    macro_auprc: Estimate
    macro_f1: Estimate
    accuracy: Estimate
    log_loss: Estimate
    confusion: np.ndarray  # rows observed, columns predicted, in ``classes`` order
    n_resamples: int
    seed: int

    def estimates(self) -> dict[str, Estimate]:
        return {"macro_auroc": self.macro_auroc, "macro_auprc": self.macro_auprc,
                "macro_f1": self.macro_f1, "accuracy": self.accuracy, "log_loss": self.log_loss}


def _metric_rows(C: np.ndarray, PROB: np.ndarray) -> np.ndarray:
    """Every metric of every row: ``C`` resamples x patients (class positions), ``PROB`` resamples x
    patients x classes; per class AUROC, AP, sensitivity, PPV, F1, then macro AUROC, AP and F1,
    accuracy and log loss."""
    rows, k = len(C), PROB.shape[2]
    pred = PROB.argmax(axis=2)
    per = []
    for c in range(k):
        Yc = (C == c).astype(int)
        at = s.threshold_metrics(*s.confusion_rows(Yc, (pred == c).astype(float), 0.5))
        per.append(np.column_stack([s.auroc_rows(Yc, PROB[:, :, c]), s.average_precision_rows(Yc, PROB[:, :, c]),
                                    at["sensitivity"], at["ppv"], at["f1"]]))
    table = np.stack(per, axis=1)  # resamples x classes x measures
    with np.errstate(all="ignore"):
        macro = np.nanmean(table, axis=1)
    q = np.clip(np.take_along_axis(PROB, C[:, :, None], axis=2)[:, :, 0], 1e-15, 1)
    return np.column_stack([table.reshape(rows, -1), macro[:, 0], macro[:, 1], macro[:, 4], np.mean(pred == C, axis=1),
                            -np.mean(np.log(q), axis=1)])


def as_class_codes(y_true: Sequence | np.ndarray, y_prob: np.ndarray,
                   classes: Sequence) -> tuple[np.ndarray, np.ndarray, list]:
    """Checked outcomes as column positions of ``y_prob`` (one column per entry of ``classes``)."""
    prob = np.asarray(y_prob, dtype=float)
    y = np.asarray(y_true)
    labels = list(classes)
    if prob.ndim != 2 or prob.shape[0] != len(y) or prob.shape[1] != len(labels):
        raise EvaluationError("evaluation.shape_mismatch", n_true=len(y), n_pred=int(prob.shape[0]) if prob.ndim else 0)
    if len(labels) < 3:
        raise EvaluationError("evaluation.not_multiclass", n_classes=len(labels))
    index = {c: i for i, c in enumerate(labels)}
    unknown = sorted({str(v) for v in y.tolist() if v not in index})
    if unknown:
        raise EvaluationError("evaluation.unknown_class", labels=unknown[:5])
    return np.array([index[v] for v in y.tolist()], dtype=int), prob, labels


def multiclass_metrics(
    y_true: Sequence | np.ndarray,
    y_prob: np.ndarray,
    *,
    classes: Sequence,
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> MulticlassMetrics:
    """``y_prob`` has one column per entry of ``classes`` (the model's ``classes_`` order)."""
    codes, prob, labels = as_class_codes(y_true, y_prob, classes)
    g = as_groups(groups, len(codes))
    point = _metric_rows(codes[None, :], prob[None, :, :])[0]
    lo, hi = bootstrap_rows(lambda idx: _metric_rows(codes[idx], prob[idx]), strata=codes, n=len(codes), groups=g,
                            n_resamples=n_resamples, seed=seed, level=level, width=prob.shape[1])
    est = [Estimate(float(point[i]), float(lo[i]), float(hi[i]), level) for i in range(len(point))]
    k, w = len(labels), len(_PER_CLASS)
    per_class = tuple(
        ClassMetrics(str(labels[c]), int(np.sum(codes == c)), *est[c * w:(c + 1) * w]) for c in range(k)
    )
    pred = prob.argmax(axis=1)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (codes, pred), 1)
    macro_auroc, macro_auprc, macro_f1, acc, ll = est[k * w:]
    return MulticlassMetrics(tuple(str(c) for c in labels), per_class, macro_auroc, macro_auprc, macro_f1,
                             acc, ll, cm, n_resamples, seed)
