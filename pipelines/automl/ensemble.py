"""Greedy ensemble selection (Caruana et al. 2004) over the trials' out-of-fold predictions.

Members are added with replacement, each time the one that most improves the out-of-fold score of
the running average; the result is a weight per trial. Whether the ensemble replaces the best
single model is decided by the caller on the same out-of-fold score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from pipelines.automl.metrics import Metric

__all__ = ["EnsembleChoice", "mix_scorer", "select_ensemble"]


@dataclass(frozen=True)
class EnsembleChoice:
    weights: dict[int, int]  # trial number -> times chosen
    score: float  # internal (higher is better) out-of-fold score of the weighted average
    oof: np.ndarray


def select_ensemble(*, candidates: dict[int, np.ndarray], y: np.ndarray, metric: Metric, rounds: int = 25,
                    stop: Callable[[], bool] | None = None) -> EnsembleChoice:
    """``candidates`` maps trial number to out-of-fold predictions, best first (ties broken by
    that order, so the result is deterministic). ``stop`` (polled after each round) ends the
    selection early with the best weights so far, when a time budget runs out."""
    order = list(candidates)
    scorer = mix_scorer(metric, y, candidates[order[0]]) if order else metric.score
    total = None
    weights: dict[int, int] = {}
    best_score = -np.inf
    best_state: tuple[dict[int, int], np.ndarray] | None = None
    for count in range(1, rounds + 1):  # count = members after this round
        round_best = None
        for number in order:
            trial_pred = candidates[number]
            mix = trial_pred if total is None else (total + trial_pred) / count
            score = scorer(y, mix)
            if round_best is None or score > round_best[0] + 1e-12:
                round_best = (score, number)
        score, number = round_best
        total = candidates[number] * 1.0 if total is None else total + candidates[number]
        weights[number] = weights.get(number, 0) + 1
        if score > best_score + 1e-12:
            best_score = score
            best_state = (dict(weights), total / count)
        if stop is not None and stop():
            break
    assert best_state is not None
    return EnsembleChoice(best_state[0], float(best_score), best_state[1])


def mix_scorer(metric: Metric, y: np.ndarray, example: np.ndarray) -> Callable[[np.ndarray, np.ndarray], float]:
    """The metric's score; for a binary AUROC the rank (Mann-Whitney) form of the same number,
    without the input checks that make each call cost milliseconds: selection scores hundreds
    of mixes at the end of every run, inside its time budget."""
    if metric.name != "roc_auc" or example.ndim != 2 or example.shape[1] != 2:
        return metric.score
    positive = np.asarray(y) == 1
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return metric.score  # undefined: let the metric say so

    def auroc(_: np.ndarray, mix: np.ndarray) -> float:
        ranks = rankdata(mix[:, 1])
        return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))

    return auroc
