"""A long evaluation can be heard and stopped: every bootstrap resample and every shuffled score of
permutation importance ticks the listener of the thread running it, and a listener that raises stops
the computation there (how a cancelled ``evaluate`` job stops within a second)."""

from __future__ import annotations

import threading

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.evaluation import binary_metrics, choose_threshold, permutation_importance, roc_curve
from pipelines.evaluation.progress import listening


class Stop(Exception):
    pass


def test_the_bootstrap_ticks_once_per_resample_and_a_listener_can_stop_it(hf):
    ticks = []
    with listening(lambda: ticks.append(1)):
        roc_curve(hf.y, hf.p_lr, n_resamples=120, seed=0)
    assert len(ticks) == 120

    def stop_at_150() -> None:
        ticks.append(1)
        if len(ticks) == 150:
            raise Stop

    with pytest.raises(Stop), listening(stop_at_150):
        binary_metrics(hf.y, hf.p_lr, threshold=choose_threshold(hf.y, hf.p_lr), n_resamples=1000, seed=0)
    assert len(ticks) == 150
    roc_curve(hf.y, hf.p_lr, n_resamples=50, seed=0)  # nobody listening any more
    assert len(ticks) == 150


def test_permutation_importance_ticks_per_shuffled_score_and_other_threads_are_not_heard(hf):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(hf.X, hf.y)
    ticks = []
    other = threading.Thread(target=lambda: roc_curve(hf.y, hf.p_hgb, n_resamples=200, seed=1))
    with listening(lambda: ticks.append(1)):
        other.start()
        permutation_importance(model, hf.X, hf.y, n_repeats=3, seed=0)
        other.join()
    # every shuffled score plus the unshuffled one; none of the other thread's 200 resamples
    assert len(ticks) == hf.X.shape[1] * 3 + 1
