"""The end of a search: ensemble or best single model, calibration, and the leaderboard models
refitted on the whole training part with their predictions.

Every leaderboard model (each family's best configuration, and the final model) is fitted here
once, on one preprocessor fitted on the whole training part, and handed back with the out-of-fold
predictions the search scored it by and its holdout predictions: whoever stores a run stores
these, and never refits.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.pipeline import Pipeline

from pipelines.automl._results import FinalModelInfo, FittedModel, LeaderboardRow
from pipelines.automl._schedule import (
    ENSEMBLE_POOL,
    ENSEMBLE_ROUNDS,
    Clock,
    family_bests,
    refit_seconds,
)
from pipelines.automl._trial import Done, build, predict
from pipelines.automl.calibration import choose_calibration
from pipelines.automl.ensemble import select_ensemble
from pipelines.automl.metrics import Metric
from pipelines.automl.models import BuildContext, fit_estimator, get_family
from pipelines.automl.settings import SearchSettings
from pipelines.automl.wrappers import (
    CalibratedModel,
    ToMatrix,
    WeightedEnsemble,
    apply_calibration,
    weighted_mean,
)

__all__ = ["Final", "finalise"]


@dataclass(frozen=True)
class Final:
    leaderboard: tuple[LeaderboardRow, ...]
    models: tuple[FittedModel, ...]  # one per leaderboard row, same order
    model: Pipeline
    info: FinalModelInfo
    oof: np.ndarray
    test: np.ndarray


def finalise(*, ranked: list[Done], settings: SearchSettings, metric: Metric, task: str, n_classes: int,
             contexts: dict[str, BuildContext], X_train_frame: pd.DataFrame, y_train_raw: pd.Series,
             y_train: np.ndarray, X_test_frame: pd.DataFrame, y_test: np.ndarray, fold_of_row: np.ndarray,
             make_preprocessor: Callable[[], TransformerMixin], clock: Clock) -> Final:
    covered = fold_of_row >= 0
    n_folds = clock.n_folds
    best = ranked[0]
    bests = family_bests(ranked)
    by_number = {d.record.number: d for d in ranked}
    started = time.perf_counter()
    choice = _choose(ranked=ranked, bests=bests, settings=settings, metric=metric, task=task, y_train=y_train,
                     fold_of_row=fold_of_row, clock=clock)
    kind, members, final_oof = choice.kind, choice.members, choice.oof
    calibration, calibration_scores, calibrator = choice.calibration, choice.scores, choice.calibrator
    clock.end["ensemble_and_calibration"] = time.perf_counter() - started

    clock.poll()
    started = time.perf_counter()
    prep = make_preprocessor()
    to_matrix = ToMatrix()
    X_full = to_matrix.transform(prep.fit_transform(X_train_frame, y_train_raw))
    X_test = to_matrix.transform(prep.transform(X_test_frame)) if len(X_test_frame) else None
    clock.end["preprocess"] = time.perf_counter() - started
    fitted: dict[int, Any] = {}

    def refit(number: int) -> Any:
        if number not in fitted:
            clock.poll()
            d = by_number[number]
            family = get_family(d.record.family)
            ctx = contexts[d.record.family]
            est = build(family, d.record.params, ctx)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_estimator(family, est, X_full, y_train, ctx=ctx, metric=metric.name)
            fitted[number] = est
        return fitted[number]

    raw: dict[int, np.ndarray] = {}

    def on_test(number: int) -> np.ndarray:
        """A refitted trial's test predictions, computed once (the final model reuses them)."""
        if number not in raw:
            raw[number] = (np.empty((0,) if task == "regression" else (0, n_classes)) if X_test is None
                           else predict(refit(number), X_test, task, n_classes))
        return raw[number]

    def scored(pred: np.ndarray) -> tuple[np.ndarray, float | None]:
        return pred, (None if X_test is None else metric.value_or_none(y_test, pred))

    started = time.perf_counter()
    if kind == "single":
        head: Any = refit(best.record.number)
        final_pred = on_test(best.record.number)
    else:
        numbers = list(members)
        weights = [members[n] for n in numbers]
        head = WeightedEnsemble([refit(n) for n in numbers], weights, task, n_classes)
        final_pred = weighted_mean([on_test(n) for n in numbers], weights)
    if calibrator:  # fitted by choose_calibration on the final model's uncalibrated out-of-fold predictions
        head = CalibratedModel(head, calibration, list(calibrator), task, n_classes)
        final_pred = apply_calibration(final_pred, calibration, list(calibrator)) if len(final_pred) else final_pred
    model = Pipeline([("preprocess", prep), ("to_matrix", ToMatrix()), ("model", head)])
    test_pred, final_test = scored(final_pred)
    oof_score = metric.value(y_train[covered], final_oof[covered])
    final_model = FittedModel(
        name="", family="", model=model, oof_predictions=final_oof, test_predictions=test_pred,
        oof_score=float(oof_score), test_score=final_test, calibration=calibration, final=True,
    )

    rows: list[tuple[LeaderboardRow, FittedModel]] = []
    plain_calibration = "not applicable" if task == "regression" else "none"
    for family_name, d in bests.items():
        estimator = refit(d.record.number)
        pred, score = scored(on_test(d.record.number))
        selected = kind == "single" and d.record.number == best.record.number
        row = LeaderboardRow(
            name=family_name, family=family_name, params=d.record.params, cv_mean=float(d.record.cv_mean),
            cv_sd=float(d.record.cv_sd or 0.0), test_score=score, device=d.record.device,
            fit_seconds=d.record.fit_seconds, trial_number=d.record.number, selected=selected,
            time_cut=d.record.time_cut,
        )
        own = FittedModel(
            name=family_name, family=family_name, model=Pipeline([("preprocess", prep), ("to_matrix", ToMatrix()),
                                                                  ("model", estimator)]),
            oof_predictions=d.oof, test_predictions=pred, oof_score=metric.value_or_none(y_train[covered], d.oof[covered]),
            test_score=score, calibration=plain_calibration, final=False,
        )
        rows.append((row, _named(final_model, family_name) if selected else own))
    if kind == "ensemble":
        fold_values = [metric.value(y_train[fold_of_row == f], final_oof[fold_of_row == f]) for f in range(n_folds)]
        row = LeaderboardRow(
            name="ensemble", family="ensemble",
            params={"members": [{"trial": n, "family": by_number[n].record.family, "weight": round(w, 4)}
                                for n, w in members.items()]},
            cv_mean=float(np.mean(fold_values)), cv_sd=float(np.std(fold_values, ddof=1)), test_score=final_test,
            device=",".join(sorted({by_number[n].record.device for n in members})),
            fit_seconds=round(sum(by_number[n].record.fit_seconds for n in members), 4), trial_number=None, selected=True,
        )
        rows.append((row, _named(final_model, "ensemble")))
    clock.end["refit"] = time.perf_counter() - started
    sign = 1 if metric.greater_is_better else -1
    rows.sort(key=lambda pair: (-sign * pair[0].cv_mean, pair[0].name))
    info = FinalModelInfo(
        kind=kind,
        members=tuple((n, by_number[n].record.family, float(w)) for n, w in members.items()),
        calibration=calibration, calibration_scores=calibration_scores, oof_score=float(oof_score), test_score=final_test,
    )
    return Final(leaderboard=tuple(r for r, _ in rows), models=tuple(m for _, m in rows), model=model, info=info,
                 oof=final_oof, test=test_pred)


@dataclass(frozen=True)
class _Choice:
    kind: str  # "single" | "ensemble"
    members: dict[int, float]  # trial number -> weight
    oof: np.ndarray  # the final model's out-of-fold predictions (calibrated, cross-fitted, when calibrated)
    calibration: str
    scores: dict[str, float]
    calibrator: tuple[dict[str, Any], ...]  # fitted on the uncalibrated out-of-fold predictions


def _choose(*, ranked: list[Done], bests: dict[str, Done], settings: SearchSettings, metric: Metric, task: str,
            y_train: np.ndarray, fold_of_row: np.ndarray, clock: Clock) -> _Choice:
    """Best single trial or greedy ensemble, whichever validates better; then the calibration that
    validates best. Decided on out-of-fold predictions only, before anything is refitted."""
    covered = fold_of_row >= 0
    best = ranked[0]
    by_number = {d.record.number: d for d in ranked}
    kind, members, oof = "single", {best.record.number: 1.0}, best.oof
    if settings.ensemble and len(ranked) > 1:
        pool = _affordable_pool(ranked, bests, clock)
        must_keep = clock.prep_seconds * clock.scale() + sum(refit_seconds(d, clock) for d in pool.values())
        choice = select_ensemble(candidates={n: d.oof[covered] for n, d in pool.items()}, y=y_train[covered],
                                 metric=metric, rounds=ENSEMBLE_ROUNDS, stop=lambda: clock.left() < must_keep)
        if len(choice.weights) > 1 and choice.score > best.score + 1e-9:
            total = float(sum(choice.weights.values()))
            kind, members = "ensemble", {n: w / total for n, w in choice.weights.items()}
            oof = sum(w * by_number[n].oof for n, w in members.items())
    if task == "regression":
        return _Choice(kind, members, oof, "not applicable", {}, ())
    if not settings.calibration:
        return _Choice(kind, members, oof, "none", {}, ())
    cal = choose_calibration(proba=oof[covered], y=y_train[covered], fold_of_row=fold_of_row[covered], metric=metric)
    if cal.method == "none":
        return _Choice(kind, members, oof, "none", dict(cal.scores), ())
    calibrated = oof.copy()
    calibrated[covered] = cal.oof
    return _Choice(kind, members, calibrated, cal.method, dict(cal.scores), cal.parameters)


def _affordable_pool(ranked: list[Done], bests: dict[str, Done], clock: Clock) -> dict[int, Done]:
    """The ensemble's candidates: the best trials, best first, as long as refitting them fits in
    what the budget leaves after the family bests (refitted anyway) and the selection itself.
    Without a time budget, simply the best :data:`ENSEMBLE_POOL` trials."""
    candidates = ranked[:ENSEMBLE_POOL]
    free = {d.record.number for d in bests.values()}
    slack = clock.left() - clock.prep_seconds * clock.scale() - 0.5 - sum(refit_seconds(d, clock) for d in bests.values()) \
        - ENSEMBLE_ROUNDS * len(candidates) * clock.score_seconds
    pool = {}
    for d in candidates:
        if d.record.number not in free:
            cost = refit_seconds(d, clock)
            if cost > slack:
                continue
            slack -= cost
        pool[d.record.number] = d
    return pool


def _named(model: FittedModel, name: str) -> FittedModel:
    return FittedModel(name=name, family=name, model=model.model, oof_predictions=model.oof_predictions,
                       test_predictions=model.test_predictions, oof_score=model.oof_score,
                       test_score=model.test_score, calibration=model.calibration, final=True)
