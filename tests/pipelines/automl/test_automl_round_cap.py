"""Under a time budget the first boosted trial is capped by time: fewer rounds, a proportionally
higher learning rate, and the shortened model kept (and said to be shortened)."""

from __future__ import annotations

import time

import pytest

from pipelines.automl import SearchSettings, run_search
from pipelines.automl._schedule import MIN_ROUNDS, Recap, RoundCap, shortened
from pipelines.automl.settings import Overrides
from pipelines.automl.wrappers import CalibratedModel
from tests.pipelines.automl.helpers import CPU, make_plan, make_preprocessor


def _rounds(before: float, per_round: float):
    """A substituted time source (the cap's arithmetic, not the machine's speed, is under test):
    created at 0, round 0 ends at ``before``, every further round takes ``per_round``."""
    values = iter([0.0] + [before + per_round * i for i in range(100_000)])
    return lambda: next(values)


def test_the_cap_extrapolates_the_first_rounds_to_the_folds_and_the_refit():
    cap = RoundCap(seconds=10.0, fits=4.725, rounds=300, now=_rounds(0.5, 0.02))
    # a fold may take 10 / 4.725 = 2.116 s; the probe lasts 10 rounds and a tenth of that (11 rounds)
    for iteration in range(11):
        cap(iteration)
    with pytest.raises(Recap) as info:
        cap(11)
    # 0.5 s before the first round, then 0.02 s a round and 15 % for predicting; the probe took
    # 0.72 s of the 10 (the fit restarts with fewer rounds)
    assert info.value.rounds == int(((10.0 - 0.72) / 4.725 - 0.5) / (0.02 * 1.15)) == 63
    for iteration in range(12, 20):
        cap(iteration)  # decided once: the restarted fit is not interrupted again


def test_no_cap_when_the_rounds_fit_and_a_floor_when_nothing_does():
    roomy = RoundCap(seconds=100.0, fits=4.725, rounds=300, now=_rounds(0.5, 0.02))
    for iteration in range(300):
        roomy(iteration)  # 891 rounds would fit: the asked 300 stay
    tight = RoundCap(seconds=1.0, fits=4.725, rounds=300, now=_rounds(0.5, 0.02))
    for iteration in range(9):
        tight(iteration)
    with pytest.raises(Recap) as info:
        tight(9)  # at least 10 rounds are timed
    assert info.value.rounds == MIN_ROUNDS


def test_shortened_keeps_rounds_times_learning_rate_up_to_the_space_and_respects_a_pin():
    params = {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 8}
    used, cut = shortened(params, rounds=100, pins={})
    assert used == {"n_estimators": 100, "learning_rate": 0.09, "num_leaves": 8}
    assert cut == {"n_estimators": [300, 100], "learning_rate": [0.03, 0.09]}
    assert shortened(params, rounds=20, pins={})[0]["learning_rate"] == 0.3  # the top of the search space
    used, cut = shortened(params, rounds=100, pins={"learning_rate": 0.03})
    assert used["learning_rate"] == 0.03 and cut == {"n_estimators": [300, 100]}


@pytest.mark.slow
@pytest.mark.parametrize("family", ["lightgbm", "xgboost"])
def test_a_first_trial_too_long_for_the_budget_is_shortened_and_kept(family, heart_failure):
    """50,000 rounds would take minutes; the first trial is cut to what fits in 5 s and is the
    run's model, refitted with the same shortened parameters."""
    X, y = heart_failure
    pinned = Overrides(pins={family: {"n_estimators": 50_000}})
    settings = SearchSettings(families=(family,), n_trials=None, time_budget_s=5, seed=0, overrides=pinned,
                              ensemble=False)
    started = time.perf_counter()
    result = run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                        settings=settings, device_choice=CPU)
    took = time.perf_counter() - started
    # the budget ended it (50,000 rounds take minutes); the budget + 10 % goal is benchmarks/automl.py's
    assert took < 60, took
    first = result.trials[0]
    assert first.state == "complete" and first.time_cut is not None
    asked, used = first.time_cut["n_estimators"]
    assert asked == 50_000 and MIN_ROUNDS <= used < asked and first.params["n_estimators"] == used
    assert first.time_cut["learning_rate"][1] == first.params["learning_rate"] > first.time_cut["learning_rate"][0]
    row = next(r for r in result.leaderboard if r.trial_number == first.number)
    assert row.time_cut == first.time_cut
    assert len(result.trials) == 1  # it took its share of the budget: nothing else fits (the pins apply to all)
    head = result.models[0].model.named_steps["model"]
    head = head.base if isinstance(head, CalibratedModel) else head
    assert head.get_params()["n_estimators"] == used  # the refit has the shortened rounds
    # (LightGBM stops by itself when no leaf can split any more, as on this small table at a high rate)
    rounds = head.booster_.num_trees() if family == "lightgbm" else head.get_booster().num_boosted_rounds()
    assert MIN_ROUNDS <= rounds <= used
    # a working model: judged on the out-of-fold predictions of 239 patients, not on the 60 held out,
    # where a model cut to the rounds a loaded machine fits in 5 s scored 0.597 once (0.749 out of fold)
    assert result.final.test_score is not None and result.final.oof_score > 0.65


def test_the_study_learns_the_parameters_really_used():
    import optuna

    from pipelines.automl._trial import _tell

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"n_estimators": 300, "learning_rate": 0.03})
    trial = study.ask()
    asked = {"n_estimators": trial.suggest_int("n_estimators", 30, 1000, log=True),
             "learning_rate": trial.suggest_float("learning_rate", 0.005, 0.3, log=True)}
    used, _ = shortened(asked, rounds=150, pins={})
    _tell(study, trial, 0.68, used)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    assert study.best_trial.params == {"n_estimators": 150, "learning_rate": 0.06} and study.best_value == 0.68
    trial = study.ask({"n_estimators": optuna.distributions.IntDistribution(30, 1000, log=True)})
    _tell(study, trial, 0.6, {"n_estimators": 12})  # fewer rounds than the space holds: not added
    assert len(study.trials) == 3 and study.trials[-1].state == optuna.trial.TrialState.FAIL
