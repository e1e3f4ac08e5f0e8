"""The first trial of scikit-learn's histogram boosting and of a forest is capped by time too: the
fit is watched between iterations (a forest grows in batches of trees), the trees are those of a
plain fit, and under a budget too small for the trial it is shortened and says so."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from pipelines.automl import SearchSettings, run_search
from pipelines.automl._schedule import MIN_ROUNDS
from pipelines.automl.models import BuildContext, fit_estimator, get_family
from pipelines.automl.persist import load_model, save_model
from pipelines.automl.wrappers import CalibratedModel
from tests.pipelines.automl.helpers import CPU, make_plan, make_preprocessor

# admission and treatment columns of the readmission table, a few of them categorical
COLUMNS = ["race", "gender", "age", "admission_type_id", "time_in_hospital", "num_lab_procedures",
           "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient",
           "number_diagnoses", "A1Cresult", "insulin", "change", "diabetesMed", "readmitted"]


@pytest.fixture(scope="module")
def readmission(datasets_dir) -> tuple[pd.DataFrame, pd.Series]:
    """The first 20,000 encounters: an uncapped first forest trial (300 trees, three folds and a
    refit) takes minutes on them, histogram boosting's 200 iterations several seconds."""
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False, na_values=[""],
                        low_memory=False, nrows=20_000, usecols=COLUMNS)
    y = (frame.pop("readmitted") == "<30").map({True: "readmitted", False: "not readmitted"})
    return frame, y


def _watched(ctx: BuildContext, rounds: list[int]) -> BuildContext:
    return BuildContext(task=ctx.task, n_classes=ctx.n_classes, seed=ctx.seed, should_stop=lambda: False,
                        on_round=rounds.append)


@pytest.mark.parametrize("family_name, params", [
    ("forest", {"kind": "random", "n_estimators": 40, "min_samples_leaf": 2, "max_features": 0.5,
                "class_weight": "balanced"}),
    ("forest", {"kind": "extra", "n_estimators": 25, "min_samples_leaf": 3, "max_features": 0.7,
                "class_weight": None}),
    ("hist_gb", {"learning_rate": 0.1, "max_iter": 30, "max_leaf_nodes": 15, "min_samples_leaf": 20,
                 "l2_regularization": 1.0, "class_weight": "balanced"}),
])
def test_a_watched_fit_gives_the_model_of_a_plain_fit_and_stores_as_one(family_name, params, breast_cancer,
                                                                        tmp_path):
    X, y = breast_cancer
    X = X.to_numpy(dtype=float)
    y = (y == "malignant").to_numpy(dtype=int)
    family = get_family(family_name)
    ctx = BuildContext(task="binary", n_classes=2, seed=7)
    plain = fit_estimator(family, family.build(dict(params), ctx), X, y, ctx=ctx)
    rounds: list[int] = []
    watched = fit_estimator(family, family.build(dict(params), ctx), X, y, ctx=_watched(ctx, rounds))
    asked = params[family.rounds_param]
    assert rounds and rounds[0] == 0 and rounds[-1] == asked - 1 and rounds == sorted(set(rounds))
    if family_name == "hist_gb":
        assert rounds == list(range(asked))  # every iteration, in order
    assert np.array_equal(plain.predict_proba(X), watched.predict_proba(X))
    assert watched.get_params() == plain.get_params()  # the hook is off the fitted model
    if family_name == "hist_gb":
        assert watched._scorer is None and len(watched.train_score_) == 0 and watched.n_iter_ == asked
    else:
        assert len(watched.estimators_) == asked
    pipeline = make_pipeline_of(watched)
    save_model(pipeline, tmp_path / "model", task="binary", classes=(0, 1))
    loaded = load_model(tmp_path / "model").model
    assert np.array_equal(loaded.predict_proba(pd.DataFrame(X)), plain.predict_proba(X))


def make_pipeline_of(head):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from pipelines.automl.wrappers import ToMatrix

    return Pipeline([("preprocess", FunctionTransformer()), ("to_matrix", ToMatrix()), ("model", head)])


def test_a_forest_cap_decides_after_fewer_trees_than_a_boosting_cap_times_rounds():
    """A tree costs what many boosting rounds do: the forest's cap decides after a few trees (and
    a tenth of a fold's share), where a boosting cap would still be timing its first ten rounds."""
    from pipelines.automl._schedule import Recap, RoundCap

    def clock():  # created at 0, the first tree ends at 0.05 s, every further one takes 0.1 s
        ticks = iter([0.0] + [0.05 + 0.1 * i for i in range(1000)])
        return lambda: next(ticks)

    forest = RoundCap(seconds=10.0, fits=4.725, rounds=300, now=clock(), probe=get_family("forest").probe_rounds)
    boosting = RoundCap(seconds=10.0, fits=4.725, rounds=300, now=clock())
    for iteration in range(3):
        forest(iteration)
    for iteration in range(4):
        boosting(iteration)  # still timing
    with pytest.raises(Recap) as info:
        forest(3)  # 0.3 s timed: more than a tenth of the 2.1 s a fold may take
    # the probe took 0.35 s of the 10; 0.1 s a tree and 15 % for predicting
    assert info.value.rounds == int(((10.0 - 0.35) / 4.725 - 0.05) / (0.1 * 1.15)) == 17


def test_a_watched_fit_stops_when_the_run_asks(breast_cancer):
    from pipelines.errors import JobCancelled

    X, y = breast_cancer
    X = X.to_numpy(dtype=float)
    y = (y == "malignant").to_numpy(dtype=int)
    for name in ("forest", "hist_gb"):
        family = get_family(name)
        polls: list[int] = []

        def stop() -> bool:
            polls.append(1)
            return len(polls) >= 2  # the second poll asks for a cancel

        ctx = BuildContext(task="binary", n_classes=2, seed=0, should_stop=stop)
        estimator = family.build({family.rounds_param: 5_000}, ctx)
        started = time.perf_counter()
        with pytest.raises(JobCancelled):
            fit_estimator(family, estimator, X, y, ctx=ctx)
        assert len(polls) == 2, name
        assert time.perf_counter() - started < 30  # long before 5,000 rounds (a loose bound, not a speed test)


def _search(X, y, family: str, budget: float, n_trials: int | None = None):
    settings = SearchSettings(families=(family,), n_trials=n_trials, time_budget_s=budget, seed=0, ensemble=False)
    return run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                      settings=settings, device_choice=CPU, positive_label="readmitted")


def _head(result):
    head = result.models[0].model.named_steps["model"]
    return head.base if isinstance(head, CalibratedModel) else head


@pytest.mark.slow
@pytest.mark.parametrize("family", ["forest", "hist_gb"])
def test_a_first_trial_too_long_for_the_budget_is_shortened_and_kept(family, readmission):
    """A 1.5 s budget on 15,000 training rows: the default configuration cannot finish in it, so
    its rounds are cut to what fits; the shortened trial is the run's model, refitted as cut."""
    X, y = readmission
    result = _search(X, y, family, budget=1.5)
    first = result.trials[0]
    assert first.state == "complete" and first.time_cut is not None, first
    name = get_family(family).rounds_param
    asked, used = first.time_cut[name]
    assert asked == get_family(family).default_params(BuildContext(task="binary", n_classes=2, seed=0,
                                                                   n_rows=15_000))[name]
    assert MIN_ROUNDS <= used < asked and first.params[name] == used
    if family == "hist_gb":  # fewer iterations, a proportionally higher learning rate
        low, high = first.time_cut["learning_rate"]
        assert high == first.params["learning_rate"] > low
    else:
        assert set(first.time_cut) == {"n_estimators"}  # a forest has nothing else to change
    row = next(r for r in result.leaderboard if r.trial_number == first.number)
    assert row.time_cut == first.time_cut
    head = _head(result)
    assert head.get_params()[name] == used  # the refit has the shortened rounds
    assert (head.n_iter_ if family == "hist_gb" else len(head.estimators_)) == used
    assert result.final.test_score is not None and result.final.test_score > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("family", ["forest", "hist_gb"])
def test_a_normal_budget_cuts_nothing(family, heart_failure):
    X, y = heart_failure
    settings = SearchSettings(families=(family,), n_trials=1, time_budget_s=120, seed=0, ensemble=False)
    result = run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                        settings=settings, device_choice=CPU)
    first = result.trials[0]
    name = get_family(family).rounds_param
    assert first.state == "complete" and first.time_cut is None
    assert _head(result).get_params()[name] == first.params[name] == get_family(family).default_params(
        BuildContext(task="binary", n_classes=2, seed=0, n_rows=224))[name]
