"""The trial history chart numbers its x axis in whole trials: with three trials plotly's own ticks
were 0, 0.5, 1, 1.5, 2 (there is no trial 1.5); with hundreds it still shows about ten ticks."""

from __future__ import annotations

import numpy as np

from pages._results_charts import trials_chart


def _trials(n: int) -> list[dict]:
    values = np.random.default_rng(0).uniform(0.6, 0.8, n)  # the scores do not matter, the trial numbers do
    return [{"number": i, "value": float(v), "family": ("linear", "xgboost")[i % 2], "state": "complete",
             "params": {"C": 1.0}} for i, v in enumerate(values)]


def _ticks(axis, last: int) -> list[float]:
    """The tick values plotly draws for a linear tick mode over trials 0..last."""
    return list(np.arange(axis.tick0, last + axis.dtick, axis.dtick))


def test_few_trials_get_a_tick_per_trial_and_many_about_ten_whole_numbers():
    few = trials_chart(_trials(3), x="Trial", y="AUROC", best="Best so far").layout.xaxis
    assert few.tickmode == "linear" and few.tickformat == "d"
    assert _ticks(few, 2) == [0, 1, 2]
    for n in (12, 40, 300):
        axis = trials_chart(_trials(n), x="Trial", y="AUROC", best="Best so far").layout.xaxis
        ticks = _ticks(axis, n - 1)
        assert all(float(t).is_integer() for t in ticks) and 4 <= len(ticks) <= 11, (n, ticks)


def test_no_finished_trial_still_draws_an_axis():
    axis = trials_chart([{"number": 0, "value": None, "family": "linear", "state": "fail"}], x="Trial", y="AUROC",
                        best="Best so far").layout.xaxis
    assert axis.dtick == 1
