"""One trial: ask a family's study for a configuration, fit it fold by fold, score the pooled
out-of-fold predictions, tell the study.

The preprocessor is fitted once per fold (inside the fold: no leakage) and the matrices reused by
every trial, because it is deterministic and refitting it per trial would eat the budget.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import TransformerMixin

from pipelines.automl._results import TrialRecord
from pipelines.automl._schedule import (
    MIN_ROUNDS,
    Clock,
    OutOfTime,
    Recap,
    RoundCap,
    shortened,
)
from pipelines.automl.ensemble import mix_scorer
from pipelines.automl.metrics import Metric
from pipelines.automl.models import BuildContext, Space, fit_estimator, get_family
from pipelines.automl.settings import SearchSettings
from pipelines.automl.wrappers import ToMatrix, predict_matrix
from pipelines.errors import JobCancelled, TrainingError

__all__ = ["Done", "FoldData", "build", "internal", "make_studies", "predict", "prepare_folds", "run_trial"]

_BOOSTED_WITH_CALLBACK = ("xgboost", "lightgbm")


@dataclass
class FoldData:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    val_pos: np.ndarray


@dataclass
class Done:
    """A complete trial, with what the end of the run needs: its out-of-fold predictions and the
    measured seconds per fold (what refitting it on the whole training part will cost)."""

    record: TrialRecord
    oof: np.ndarray
    score: float  # internal, pooled out-of-fold (higher is better)
    fold_seconds: float


def prepare_folds(X_train: pd.DataFrame, y_raw: pd.Series, y_enc: np.ndarray, folds: list,
                  make_preprocessor: Callable[[], TransformerMixin], clock: Clock) -> list[FoldData]:
    """Fit the preprocessor inside each fold; the mean seconds per fold go to ``clock.prep_seconds``
    (the final preprocessing, on the whole training part, is reserved from it)."""
    out = []
    seconds = []
    for tr, va in folds:
        clock.poll()
        started = time.perf_counter()
        prep = make_preprocessor()
        to_matrix = ToMatrix()
        Xtr = to_matrix.transform(prep.fit_transform(X_train.iloc[tr], y_raw.iloc[tr]))
        Xva = to_matrix.transform(prep.transform(X_train.iloc[va]))
        out.append(FoldData(Xtr, y_enc[tr], Xva, y_enc[va], va))
        seconds.append(time.perf_counter() - started)
    clock.prep_seconds = float(np.mean(seconds)) if seconds else 0.0
    return out


def make_studies(families: list[str], settings: SearchSettings, contexts: dict[str, BuildContext]) -> dict[str, optuna.Study]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    studies = {}
    for i, name in enumerate(families):
        family = get_family(name)
        callback_pruning = name in _BOOSTED_WITH_CALLBACK and contexts[name].task != "regression"
        pruner = optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=60 if callback_pruning else 1, interval_steps=10 if callback_pruning else 1
        )
        sampler = optuna.samplers.TPESampler(seed=settings.seed * 1000 + i, n_startup_trials=6)
        study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner, study_name=name)
        fit = settings.overrides.applied  # the user's bounds hold for the configurations tried first
        study.enqueue_trial(fit(name, family.default_params(contexts[name])), user_attrs={"source": "default"})
        for item in settings.enqueue:
            if item["family"] == name:
                study.enqueue_trial(fit(name, item["params"]), user_attrs={"source": "recommended"}, skip_if_exists=True)
        studies[name] = study
    return studies


def run_trial(*, family: ModuleType, study: optuna.Study, ctx: BuildContext, settings: SearchSettings, metric: Metric,
              fold_data: list[FoldData], n_train: int, n_classes: int, number: int, clock: Clock,
              must_finish: bool, reserve: float) -> Done | TrialRecord | None:
    """A :class:`Done` when the trial completed, its :class:`TrialRecord` when it was pruned or
    failed, ``None`` when the time budget cut it (then it is not counted)."""
    pins, bounds = settings.overrides.for_family(family.name)
    trial = study.ask()
    source = str(trial.user_attrs.get("source", "search"))
    space = Space(trial, family=family.name, pins=pins, bounds=bounds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = family.search_space(space, ctx)
    params = {**params, **space.extra_pins()}
    device = str(params.get("device", ctx.device)) if family.name == "xgboost" else "cpu"
    oof = np.full((n_train,) if ctx.task == "regression" else (n_train, n_classes), np.nan)
    fold_scores: list[float] = []
    callback_pruning = family.name in _BOOSTED_WITH_CALLBACK and ctx.task != "regression"
    # The first trial of a run under a time budget: its boosting rounds are capped by time, and it
    # is not watched for pruning (it cannot be pruned, and evaluating every round costs time).
    timed = must_finish and clock.budget is not None
    cap = _round_cap(family, params, clock) if timed else None
    time_cut: dict[str, list[Any]] | None = None
    started = time.perf_counter()
    state, error = "complete", ""
    # Boosted fits poll the clock between rounds: past this point they stop, and the trial is cut.
    clock.deadline = None if must_finish else time.perf_counter() + max(0.0, clock.left() - reserve)
    try:
        for i, fd in enumerate(fold_data):
            clock.poll()
            # Cut a trial whose remaining folds (at the pace of its first ones) would eat the time
            # kept for the end of the run; the first trial of a run always finishes.
            per_fold = (time.perf_counter() - started) / i if i else 0.0
            if i > 0 and not must_finish and clock.left() - reserve < per_fold * (len(fold_data) - i):
                raise OutOfTime()
            watch = trial if (callback_pruning and i == 0 and not timed) else None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    estimator = _fit(family, params, ctx if cap is None or i else replace(ctx, on_round=cap), fd, watch, metric)
                except Recap as recap:  # the pace of the first rounds says: fewer rounds, or overrun the budget
                    params, time_cut = shortened(params, rounds=recap.rounds, pins=pins, name=family.rounds_param)
                    started = time.perf_counter()
                    estimator = _fit(family, params, ctx, fd, watch, metric)
                pred = predict(estimator, fd.X_val, ctx.task, n_classes)
            oof[fd.val_pos] = pred
            fold_scores.append(metric.value(fd.y_val, pred))
            if not callback_pruning:
                trial.report(float(np.mean([internal(s, metric) for s in fold_scores])), i)
                if i < len(fold_data) - 1 and trial.should_prune():
                    raise optuna.TrialPruned()
    except optuna.TrialPruned:
        state = "pruned"
    except OutOfTime:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return None
    except (JobCancelled, TrainingError):
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    except Exception as exc:  # noqa: BLE001 - a learner refusing a (pinned or sampled) value: record, go on
        state, error = "failed", f"{type(exc).__name__}: {exc}"[:500]
    finally:
        clock.deadline = None
    seconds = time.perf_counter() - started
    score = -math.inf
    if state == "complete":
        covered = ~np.isnan(oof if oof.ndim == 1 else oof[:, 0])
        y_covered = _y_of(fold_data, n_train)[covered]
        score = metric.score(y_covered, oof[covered])
        scoring = time.perf_counter()  # what one score of ensemble selection costs, for the reserve
        mix_scorer(metric, y_covered, oof[covered])(y_covered, oof[covered])
        clock.score_times.append(time.perf_counter() - scoring)
        _tell(study, trial, score, params if time_cut else None)
    else:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED if state == "pruned" else optuna.trial.TrialState.FAIL)
    record = TrialRecord(
        number=number, family=family.name, params=_jsonable(params), state=state, source=source,
        cv_mean=float(np.mean(fold_scores)) if state == "complete" else None,
        cv_sd=float(np.std(fold_scores, ddof=1)) if state == "complete" and len(fold_scores) > 1 else None,
        fold_scores=tuple(float(s) for s in fold_scores), device=device, fit_seconds=round(seconds, 4), error=error,
        time_cut=_jsonable(time_cut) if time_cut else None,
    )
    if state != "complete":
        return record
    return Done(record, oof, score, fold_seconds=seconds / len(fold_data))


def _round_cap(family: ModuleType, params: dict[str, Any], clock: Clock) -> RoundCap | None:
    """The time cap of a family's rounds (boosting rounds, or a forest's trees): the families that
    name their ``rounds_param`` and call ``on_round``."""
    name = getattr(family, "rounds_param", None)
    rounds = params.get(name) if name else None
    if not isinstance(rounds, (int, np.integer)) or rounds <= MIN_ROUNDS:
        return None
    probe = getattr(family, "probe_rounds", None)
    return RoundCap.for_first_trial(clock, int(rounds), **({"probe": probe} if probe else {}))


def _fit(family: ModuleType, params: dict[str, Any], ctx: BuildContext, fd: FoldData, watch: Any, metric: Metric) -> Any:
    estimator = build(family, params, ctx)
    fit_estimator(family, estimator, fd.X_train, fd.y_train, ctx=ctx, trial=watch, X_val=fd.X_val, y_val=fd.y_val,
                  metric=metric.name)
    return estimator


def _tell(study: optuna.Study, trial: optuna.Trial, score: float, used: dict[str, Any] | None) -> None:
    """Tell the study the score; for a time-shortened trial, of the parameters really used (as a
    trial of their own, when the search space holds them), so TPE learns nothing false."""
    if used is None:
        study.tell(trial, score)
        return
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    distributions = trial.distributions
    values = {k: v for k, v in used.items() if k in distributions}
    try:
        study.add_trial(optuna.trial.create_trial(params=values, distributions=distributions, value=score))
    except ValueError:  # a value outside the space (fewer rounds than it allows): the study does without
        pass


def build(family: ModuleType, params: dict[str, Any], ctx: BuildContext) -> Any:
    try:
        return family.build(dict(params), ctx)
    except TypeError as exc:
        raise TrainingError("training.override_unknown_param", family=family.name, error=str(exc)[:200]) from exc


def predict(estimator: Any, X: np.ndarray, task: str, n_classes: int) -> np.ndarray:
    """Predictions with one column per class of the run, even when a fold's training rows missed one."""
    pred = predict_matrix(estimator, X, task)
    if task == "regression":
        return pred
    seen = np.asarray(getattr(estimator, "classes_", np.arange(pred.shape[1])), dtype=int)
    if pred.shape[1] == n_classes and np.array_equal(seen, np.arange(n_classes)):
        return pred
    full = np.zeros((pred.shape[0], n_classes))
    full[:, seen] = pred
    return full


def internal(value: float, metric: Metric) -> float:
    return value if metric.greater_is_better else -value


def _y_of(fold_data: list[FoldData], n_train: int) -> np.ndarray:
    y = np.zeros(n_train)
    for fd in fold_data:
        y[fd.val_pos] = fd.y_val
    return y.astype(fd.y_val.dtype) if fold_data else y


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out
