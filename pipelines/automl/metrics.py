"""The metrics a search can optimise, each with its direction.

The search always *maximises* an internal score (losses are negated) so that Optuna, the pruner,
the ensemble selection and the leaderboard share one direction; the leaderboard shows the metric
itself. Predictions are class-probability matrices for classification (one column per class, in
the order of ``classes``) and a vector for regression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from pipelines.errors import TrainingError

__all__ = ["METRICS", "TASKS", "Metric", "check_task", "default_metric", "get_metric"]

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Metric:
    """One selectable metric: its name, the tasks it applies to and whether bigger is better."""

    name: str
    tasks: tuple[str, ...]
    greater_is_better: bool
    function: Callable[[np.ndarray, np.ndarray], float]

    def value(self, y: np.ndarray, pred: np.ndarray) -> float:
        """The metric as a reader knows it (AUROC 0.83, RMSE 12.1)."""
        return float(self.function(np.asarray(y), np.asarray(pred)))

    def value_or_none(self, y: np.ndarray, pred: np.ndarray) -> float | None:
        """``value``, or None for an empty part or one where the metric is undefined (one class: no AUROC)."""
        if len(y) == 0:
            return None
        try:
            return self.value(y, pred)
        except ValueError:
            return None

    def score(self, y: np.ndarray, pred: np.ndarray) -> float:
        """The metric turned so that higher is always better (what the search maximises)."""
        value = self.value(y, pred)
        return value if self.greater_is_better else -value


def _auroc(y: np.ndarray, proba: np.ndarray) -> float:
    if proba.ndim == 2 and proba.shape[1] == 2:
        return skm.roc_auc_score(y, proba[:, 1])
    return skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(proba.shape[1]))


def _auprc(y: np.ndarray, proba: np.ndarray) -> float:
    if proba.ndim == 2 and proba.shape[1] == 2:
        return skm.average_precision_score(y, proba[:, 1])
    onehot = np.eye(proba.shape[1])[y]
    return skm.average_precision_score(onehot, proba, average="macro")


def _log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    return skm.log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15), labels=np.arange(proba.shape[1]))


def _brier(y: np.ndarray, proba: np.ndarray) -> float:
    if proba.shape[1] == 2:
        return float(np.mean((proba[:, 1] - (y == 1)) ** 2))
    onehot = np.eye(proba.shape[1])[y]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def _rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, dtype=float) - pred) ** 2)))


def _mae(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y, dtype=float) - pred)))


_CLASSIFICATION = ("binary", "multiclass")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", _CLASSIFICATION, True, _auroc),
        Metric("average_precision", _CLASSIFICATION, True, _auprc),
        Metric("log_loss", _CLASSIFICATION, False, _log_loss),
        Metric("brier", _CLASSIFICATION, False, _brier),
        Metric("rmse", ("regression",), False, _rmse),
        Metric("mae", ("regression",), False, _mae),
    )
}


def check_task(task: str) -> str:
    if task not in TASKS:
        raise TrainingError("training.unknown_task", task=task, allowed=list(TASKS))
    return task


def default_metric(task: str) -> str:
    """AUROC for classification (what clinical papers report), RMSE for regression."""
    return "rmse" if check_task(task) == "regression" else "roc_auc"


def get_metric(name: str | None, task: str) -> Metric:
    name = name or default_metric(task)
    metric = METRICS.get(name)
    if metric is None:
        raise TrainingError("training.unknown_metric", metric=name, allowed=sorted(METRICS))
    if task not in metric.tasks:
        allowed = sorted(n for n, m in METRICS.items() if task in m.tasks)
        raise TrainingError("training.metric_task_mismatch", metric=name, task=task, allowed=allowed)
    return metric
