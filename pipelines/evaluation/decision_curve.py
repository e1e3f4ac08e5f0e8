"""Decision curve analysis (Vickers & Elkin, Med Decis Making 2006).

Net benefit weighs true positives against false positives at the exchange rate a clinician
accepts at each risk threshold ``pt``: ``NB = TP/n - FP/n * pt / (1 - pt)``. A model is useful
only where its curve lies above both "treat all" and "treat none" (zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.errors import EvaluationError
from pipelines.evaluation._estimate import as_binary_arrays

__all__ = ["DecisionCurve", "decision_curve"]


@dataclass(frozen=True)
class DecisionCurve:
    label: str
    thresholds: np.ndarray
    net_benefit: np.ndarray
    treat_all: np.ndarray
    prevalence: float

    @property
    def treat_none(self) -> np.ndarray:
        return np.zeros_like(self.thresholds)


def decision_curve(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    *,
    label: str = "",
    thresholds: Sequence[float] | np.ndarray | None = None,
) -> DecisionCurve:
    y, p = as_binary_arrays(y_true, y_prob)
    t = np.round(np.arange(0.01, 1.0, 0.01), 2) if thresholds is None else np.asarray(thresholds, dtype=float)
    if np.any(t <= 0) or np.any(t >= 1):
        raise EvaluationError("evaluation.bad_dca_thresholds", low=float(t.min()), high=float(t.max()))
    n = len(y)
    odds = t / (1 - t)
    pred = p[None, :] >= t[:, None]
    tp = (pred & (y[None, :] == 1)).sum(axis=1)
    fp = (pred & (y[None, :] == 0)).sum(axis=1)
    prevalence = float(y.mean())
    return DecisionCurve(
        label=label,
        thresholds=t,
        net_benefit=tp / n - fp / n * odds,
        treat_all=prevalence - (1 - prevalence) * odds,
        prevalence=prevalence,
    )
