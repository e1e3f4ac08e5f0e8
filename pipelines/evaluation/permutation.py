"""Permutation importance with the model asked once per feature instead of once per shuffle.

scikit-learn's ``permutation_importance`` calls the model ``n_repeats`` times per feature; on a
holdout of a few hundred patients each call is mostly the pipeline's fixed cost (the preprocessing
steps, the model library's own checks), which made importance about 60 % of an evaluation. Here the
``n_repeats`` shuffled copies of the holdout are stacked and predicted in one call (a few at a time
on a large holdout, so memory stays bounded), then scored one copy at a time. A fitted pipeline
predicts each row on its own, so the scores are scikit-learn's, shuffle for shuffle: the same
random numbers, drawn in the same order (tests/pipelines/evaluation/test_eval_permutation.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipelines.errors import EvaluationError
from pipelines.evaluation import _scores
from pipelines.evaluation.explain import FeatureImportance
from pipelines.evaluation.progress import tick

__all__ = ["STACKED_CELLS", "permutation_importance"]

# At most this many cells (rows x columns) per stacked prediction: 5 million is 40 MB of floats
# before the pipeline's own copies; a 300-patient holdout of 30 columns stacks all 10 shuffles at once
STACKED_CELLS = 5_000_000

Scorer = Callable[[np.ndarray, np.ndarray], float]  # (true values, the model's answer) -> score


def _proba(model: Any, X: Any) -> np.ndarray:
    return np.asarray(model.predict_proba(X), dtype=float)


def _values(model: Any, X: Any) -> np.ndarray:
    return np.asarray(model.predict(X), dtype=float)



def _metric(metric: str) -> tuple[Callable[[Any, Any], np.ndarray], Scorer, Scorer]:
    """How to ask the model (probabilities or values, directly: scikit-learn's scorers first ask the
    estimator's type tags, and the workbench's heads declare none), how to score its first answer
    (scikit-learn's metric, which checks the labels and refuses a holdout of one class), and how to
    score each shuffled answer (the same metric; for binary ones the bootstrap's kernels, equal to
    scikit-learn's without a check per call that cost more than the metric)."""
    from sklearn import metrics as m

    def log_loss(y: np.ndarray, p: np.ndarray) -> float:
        return -m.log_loss(y, p, labels=np.arange(p.shape[1]))

    def binary(checked: Scorer, kernel: Scorer, sign: float = 1.0) -> tuple[Callable, Scorer, Scorer]:
        return (_proba, lambda y, p: sign * checked(y, p[:, 1]), lambda y, p: sign * kernel(y, p[:, 1]))

    def same(predict: Callable, score: Scorer) -> tuple[Callable, Scorer, Scorer]:
        return predict, score, score

    table: dict[str, tuple[Callable[[Any, Any], np.ndarray], Scorer, Scorer]] = {
        "roc_auc": binary(m.roc_auc_score, _scores.auroc),
        "average_precision": binary(m.average_precision_score, _scores.average_precision),
        "neg_brier_score": binary(m.brier_score_loss, _scores.brier, -1.0),
        "neg_log_loss": same(_proba, log_loss),
        "accuracy": same(_proba, lambda y, p: float(np.mean(p.argmax(axis=1) == y))),
        "r2": same(_values, m.r2_score),
        "neg_root_mean_squared_error": same(_values, lambda y, v: -m.root_mean_squared_error(y, v)),
        "neg_mean_absolute_error": same(_values, lambda y, v: -m.mean_absolute_error(y, v)),
    }
    if metric not in table:
        raise EvaluationError("evaluation.unknown_metric", metric=metric, allowed=list(table))
    return table[metric]


def _shuffles(n_rows: int, n_repeats: int, seed: int) -> list[np.ndarray]:
    """For each repeat, the original row each shuffled row comes from. scikit-learn draws one seed
    from ``seed`` and restarts a generator from it for every feature (so every feature gets these
    same shuffles), shuffles one index array in place
    per repeat and applies it to the already shuffled column: the shuffles compose."""
    column_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    generator = np.random.RandomState(column_seed)
    order, source, out = np.arange(n_rows), np.arange(n_rows), []
    for _ in range(n_repeats):
        generator.shuffle(order)
        source = source[order]
        out.append(source)
    return out


def _shuffled_scores(predict: Callable, score: Callable, model: Any, X: pd.DataFrame, y: np.ndarray, col: int,
                     shuffles: list[np.ndarray]) -> list[float]:
    n = len(X)
    per_call = max(1, STACKED_CELLS // max(1, n * X.shape[1]))
    scores: list[float] = []
    for start in range(0, len(shuffles), per_call):
        batch = shuffles[start:start + per_call]
        stacked = X.iloc[np.tile(np.arange(n), len(batch))].reset_index(drop=True)
        stacked.isetitem(col, X.iloc[np.concatenate(batch), col].reset_index(drop=True))
        answer = predict(model, stacked)
        for k in range(len(batch)):
            scores.append(float(score(y, answer[k * n:(k + 1) * n])))
            tick()  # one shuffled score: a listening job reports progress and may stop here
    return scores


def permutation_importance(
    model: Any,
    X: pd.DataFrame,
    y: Sequence | np.ndarray,
    *,
    metric: str = "roc_auc",
    n_repeats: int = 10,
    seed: int = 0,
) -> FeatureImportance:
    """Model-agnostic importance on held-out data; works for every model family and for the
    workbench's ensembles and calibrated models, unlike SHAP. Classification metrics read
    ``predict_proba`` (``y`` as 0/1, or class positions for ``accuracy``), regression ``predict``."""
    predict, checked, score = _metric(metric)
    if n_repeats < 2:
        raise EvaluationError("evaluation.bad_repeats", value=n_repeats)
    y = np.asarray(y)
    shuffles = _shuffles(len(X), n_repeats, seed)
    # one native thread, as in training: XGBoost's default of every core is more than twice as slow on a
    # machine whose cores other jobs use
    with threadpool_limits(limits=1):
        baseline = float(checked(y, predict(model, X)))
        tick()
        raw = np.array([[baseline - s for s in _shuffled_scores(predict, score, model, X, y, col, shuffles)]
                        for col in range(X.shape[1])]).reshape(X.shape[1], n_repeats)
    return FeatureImportance(
        features=tuple(str(c) for c in X.columns),
        mean=raw.mean(axis=1),
        std=raw.std(axis=1),
        lower=np.percentile(raw, 2.5, axis=1),
        upper=np.percentile(raw, 97.5, axis=1),
        metric=metric,
        n_repeats=n_repeats,
    )
