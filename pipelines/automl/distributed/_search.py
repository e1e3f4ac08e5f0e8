"""The search on a Dask cluster: the same kind of result as :func:`pipelines.automl.run_search`,
for tables too large for one process.

What differs from the single-process search, and why:

* Tuning scores each trial on ONE validation part (the first cross-validation fold of the
  recipe's split, patient-grouped when the split is) instead of k folds: on a table of a million
  rows one fold holds hundreds of thousands of rows, and k distributed fits per trial would spend
  the budget on little extra certainty. The run's settings and notices say so. The preprocessing
  for tuning is fitted on the other folds' rows only.
* Only the families with a distributed learner take part (XGBoost, LightGBM); the others are
  named in a notice. The final model is the best trial refitted on the whole training part (with
  its preprocessing refitted there too), calibrated on the validation part when that helps; no
  ensemble.
* Out-of-fold predictions exist for the validation part only; the other training rows are NaN,
  which the stored predictions and the evaluation already treat as "not predicted".
* A distributed fit cannot be cut half way, so under a time budget each trial's rounds are capped
  before it starts, from a timed probe (:mod:`pipelines.automl.distributed._cap`), with the
  single-process path's arithmetic and records (``time_cut``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from pipelines.automl._schedule import Clock
from pipelines.automl.calibration import choose_calibration, fit_calibration
from pipelines.automl.device import DeviceChoice, Notice, resolve_device
from pipelines.automl.distributed import _lgbm, _xgb
from pipelines.automl.distributed._partitions import (
    LABEL,
    ROLE,
    TEST,
    Partitioned,
    fit_preprocessor,
    matrices,
    read_prepared,
)
from pipelines.automl.distributed._study import TrialOutcome, create_studies, run_trials
from pipelines.automl.metrics import check_task, get_metric
from pipelines.automl.models import BuildContext
from pipelines.automl.search import (
    FinalModelInfo,
    LeaderboardRow,
    SearchProgress,
    SearchResult,
    _encode_target,
)
from pipelines.automl.settings import SearchSettings
from pipelines.automl.wrappers import CalibratedModel, ToMatrix, apply_calibration
from pipelines.errors import TrainingError
from pipelines.recipe import Prepared, Recipe, SplitPlan

__all__ = ["DISTRIBUTED_FAMILIES", "DistributedRun", "FamilyFit", "VALIDATION_FOLD", "run_distributed_search"]

DISTRIBUTED_FAMILIES: dict[str, ModuleType] = {"xgboost": _xgb, "lightgbm": _lgbm}
VALIDATION_FOLD = 0
_CALIBRATION_PARTS = 5  # pseudo-folds over the validation part, to cross-fit the calibrator


@dataclass(frozen=True)
class FamilyFit:
    """A leaderboard model other than the final one, refitted on the training part."""

    row: LeaderboardRow
    model: Pipeline
    oof: np.ndarray  # training part, plan order; NaN outside the validation part
    test: np.ndarray
    oof_score: float | None


@dataclass(frozen=True)
class DistributedRun:
    result: SearchResult
    prepared: Prepared  # metadata; its frame holds only the outcome, patient and time columns
    plan: SplitPlan
    others: tuple[FamilyFit, ...]
    info: dict[str, Any]  # how the run was distributed (for the run's settings)


def run_distributed_search(client: Any, *, recipe: Recipe, source: Path, scratch: Path, storage: Any,
                           study_key: str, settings: SearchSettings, rows_per_partition: int,
                           n_folds: int | None = None, n_parallel: int | None = None,
                           on_progress: Callable[[SearchProgress], None] | None = None,
                           on_prepared: Callable[[Prepared], None] | None = None,
                           should_stop: Callable[[], bool] | None = None,
                           device_choice: DeviceChoice | None = None,
                           stop_trials_after_s: float | None = None) -> DistributedRun:
    """Prepare, split, tune and refit on the cluster behind ``client``; see the module docstring.

    ``on_prepared`` hears the analysis table's metadata (task, outcome) before the first trial.
    ``stop_trials_after_s``: as in :func:`pipelines.automl.run_search`.
    """
    started = time.perf_counter()
    choice = device_choice or resolve_device(settings.device)
    notices = list(choice.notices)
    families = [f for f in DISTRIBUTED_FAMILIES if f in settings.families]
    dropped = [f for f in settings.families if f not in DISTRIBUTED_FAMILIES]
    if not families:
        raise TrainingError("distributed.no_family", families=list(settings.families),
                            allowed=list(DISTRIBUTED_FAMILIES))
    if dropped:
        notices.append(Notice("distributed.families_dropped", {"families": ", ".join(dropped)}))

    def progress(stage: str, done: list[TrialOutcome], last: Any = None) -> None:
        if on_progress is None:
            return
        complete = [o for o in done if o.record.state == "complete"]
        best = max(complete, key=lambda o: o.score) if complete else None
        on_progress(SearchProgress(
            stage=stage, trials_done=len(done), trials_total=settings.n_trials,
            best_score=None if best is None else best.record.cv_mean,
            best_family=None if best is None else best.record.family, elapsed_s=time.perf_counter() - started,
            time_budget_s=settings.time_budget_s, device=choice.device, last_trial=last))

    progress("preparing", [])
    data = read_prepared(client, recipe=recipe, source=source, scratch=scratch, rows_per_partition=rows_per_partition,
                         seed=settings.seed, n_folds=n_folds, encode=_encode_target)
    task = check_task(data.prepared.task)
    if on_prepared is not None:
        on_prepared(data.prepared)
    metric = get_metric(settings.metric, task)
    plan, n_classes = data.plan, len(data.classes)
    _check_parts(data, task)
    y_train = data.y[plan.train_index]
    val_pos = np.asarray(plan.folds[VALIDATION_FOLD][1], dtype=int)
    y_val = y_train[val_pos]
    k = len(plan.folds)
    notices.append(Notice("distributed.holdout_validation", {"fold": VALIDATION_FOLD + 1, "folds": k,
                                                             "rows": int(len(val_pos))}))

    # tuning: preprocessing fitted on the other folds, every partition transformed where it lies
    prep_started = time.perf_counter()
    prep, _ = fit_preprocessor(client, data, recipe=recipe, folds=[f for f in range(k) if f != VALIDATION_FOLD])
    tuned = _Parts(client, matrices(client, data, prep), fit=lambda r: r > VALIDATION_FOLD,
                   score=lambda r: r == VALIDATION_FOLD)
    for family in families:  # LightGBM's arrays now, not inside the first trial's (timed) fits
        tuned.fit_data(family), tuned.score_X(family)
    # the budget's clock, as on the single-process path. The end refits the preprocessing on the whole
    # training part but transforms every partition either way: it costs about what this did (times
    # the clock's margin), not ``clock.scale()`` times as much, hence ``(k - 1) / k``.
    clock = Clock(start=started, budget=settings.time_budget_s, stop=should_stop, n_folds=k,
                  prep_seconds=(time.perf_counter() - prep_started) * (k - 1) / k)
    class_counts = tuple(int(np.sum(y_train == c)) for c in range(n_classes)) if task != "regression" else ()
    contexts = {f: BuildContext(task=task, n_classes=n_classes, seed=settings.seed,
                                device=choice.device if f == "xgboost" else "cpu", class_counts=class_counts,
                                n_rows=len(plan.train_index), n_features=tuned.n_features) for f in families}

    def evaluate(family: str, params: dict[str, Any]) -> np.ndarray:
        learner = DISTRIBUTED_FAMILIES[family]
        model = learner.fit(client, params=params, ctx=contexts[family], **tuned.fit_data(family))
        return _full(np.asarray(learner.predict(model, tuned.score_X(family), task).compute()), task, n_classes)

    names = create_studies(storage, key=study_key, families=families, settings=settings, contexts=contexts)
    outcomes = run_trials(storage=storage, names=names, settings=settings, contexts=contexts, metric=metric,
                          y_val=y_val, evaluate=evaluate, n_parallel=n_parallel or _workers(client),
                          clock=clock, reserve=lambda done: _reserve(done, clock), should_stop=should_stop,
                          on_trial=lambda o, done: progress("search", done, o.record),
                          stop_launching_after_s=stop_trials_after_s)
    if settings.n_trials is not None and len(outcomes) < settings.n_trials and stop_trials_after_s is not None:
        notices.append(Notice("training.trials_stopped_at_limit", {
            "limit": int(stop_trials_after_s), "done": len(outcomes), "asked": settings.n_trials}))
    complete = [o for o in outcomes if o.record.state == "complete"]
    if not complete:
        failed = [o.record for o in outcomes if o.record.state == "failed"]
        raise TrainingError("training.all_trials_failed", error=failed[0].error if failed else "")
    progress("final", outcomes)
    tuned.release()

    # final: preprocessing and models refitted on the whole training part, scored once on the test part
    best_per_family: dict[str, TrialOutcome] = {}
    for o in sorted(complete, key=lambda o: (-o.score, o.record.number)):
        best_per_family.setdefault(o.record.family, o)
    best = next(iter(best_per_family.values()))
    final_prep, meta = fit_preprocessor(client, data, recipe=recipe, folds=list(range(k)))
    full = _Parts(client, matrices(client, data, final_prep), fit=lambda r: r >= 0, score=lambda r: r == TEST)
    n_train = len(plan.train_index)
    fits: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}
    for family, outcome in best_per_family.items():
        learner = DISTRIBUTED_FAMILIES[family]
        model = learner.fit(client, params=outcome.record.params, ctx=contexts[family], **full.fit_data(family))
        test = _full(np.asarray(learner.predict(model, full.score_X(family), task).compute()), task, n_classes) \
            if full.n_score else _empty(task, n_classes)
        oof = np.full((n_train,) if task == "regression" else (n_train, n_classes), np.nan)
        oof[val_pos] = outcome.pred
        fits[family] = (learner.to_local(model, contexts[family]), oof, test)
    full.release()

    head, oof, test = fits[best.record.family]
    calibration, calibration_scores = ("not applicable", {}) if task == "regression" else ("none", {})
    if task != "regression" and settings.calibration:
        pseudo = np.arange(len(val_pos)) % _CALIBRATION_PARTS
        cal = choose_calibration(proba=best.pred, y=y_val, fold_of_row=pseudo, metric=metric)
        calibration, calibration_scores = cal.method, dict(cal.scores)
        if cal.method != "none":
            params = fit_calibration(best.pred, y_val, cal.method)
            head = CalibratedModel(head, cal.method, list(params), task, n_classes)
            oof = oof.copy()
            oof[val_pos] = cal.oof
            test = apply_calibration(test, cal.method, params) if len(test) else test
    y_test = data.y[plan.test_index]
    final_test = metric.value_or_none(y_test, test)
    rows: list[LeaderboardRow] = []
    others: list[FamilyFit] = []
    for family, outcome in best_per_family.items():
        r = outcome.record
        local, f_oof, f_test = fits[family]
        selected = family == best.record.family
        row = LeaderboardRow(name=family, family=family, params=r.params, cv_mean=float(r.cv_mean), cv_sd=0.0,
                             test_score=final_test if selected else metric.value_or_none(y_test, f_test),
                             device=r.device, fit_seconds=r.fit_seconds, trial_number=r.number, selected=selected,
                             time_cut=r.time_cut)
        rows.append(row)
        if not selected:
            others.append(FamilyFit(row=row, model=_pipeline(final_prep, local), oof=f_oof, test=f_test,
                                    oof_score=metric.value_or_none(y_val, f_oof[val_pos])))
    sign = 1 if metric.greater_is_better else -1
    rows.sort(key=lambda r: (-sign * r.cv_mean, r.name))
    info = FinalModelInfo(kind="single", members=((best.record.number, best.record.family, 1.0),),
                          calibration=calibration, calibration_scores=calibration_scores,
                          oof_score=float(metric.value(y_val, oof[val_pos])), test_score=final_test)
    progress("done", outcomes)
    result = SearchResult(
        task=task, metric=metric.name, greater_is_better=metric.greater_is_better, classes=data.classes,
        leaderboard=tuple(rows), trials=tuple(o.record for o in outcomes), model=_pipeline(final_prep, head),
        final=info, oof_predictions=oof, test_predictions=test, train_index=plan.train_index,
        test_index=plan.test_index, y_train=y_train, y_test=y_test, meta_features=meta, device=choice.device,
        notices=tuple(notices), settings=settings, elapsed_s=time.perf_counter() - started)
    run_info = {"path": "dask", "validation": "holdout", "validation_fold": VALIDATION_FOLD + 1, "n_folds": k,
                "validation_rows": int(len(val_pos)), "partitions": data.n_partitions, "workers": _workers(client),
                "parallel_trials": n_parallel or _workers(client), "families": families}
    return DistributedRun(result=result, prepared=data.prepared, plan=plan, others=tuple(others), info=run_info)


class _Parts:
    """The transformed matrix cut into the rows a model is fitted on (with their outcome) and the
    rows it is scored on, persisted on the workers; the full matrix is let go. Features and outcome
    come from ONE persisted collection, so their partitions line up without any re-alignment."""

    def __init__(self, client: Any, frame: Any, *, fit: Callable[[Any], Any], score: Callable[[Any], Any]) -> None:
        self.columns = [c for c in frame.columns if c.startswith("f")]
        self.n_features = len(self.columns)
        self.fitted, self.scored = client.persist([frame[fit(frame[ROLE])][self.columns + [LABEL]],
                                                   frame[score(frame[ROLE])][self.columns]])
        self.n_score = int(client.compute(self.scored.shape[0], sync=True))
        self.client = client
        self._arrays: dict[str, Any] = {}

    def _array(self, name: str) -> Any:
        if name not in self._arrays:
            source = self.fitted if name == "fitted" else self.scored
            lengths = self.client.compute(source.map_partitions(len), sync=True)  # through this client
            self._arrays[name] = self.client.persist(source.to_dask_array(lengths=[int(n) for n in lengths]))
        return self._arrays[name]

    def fit_data(self, family: str) -> dict[str, Any]:
        if family == "lightgbm":  # arrays: no column name reaches LightGBM
            both = self._array("fitted")
            return {"X": both[:, :self.n_features], "y": both[:, self.n_features]}
        return {"X": self.fitted[self.columns], "y": self.fitted[LABEL]}

    def score_X(self, family: str) -> Any:
        return self._array("scored") if family == "lightgbm" else self.scored

    def release(self) -> None:
        self.fitted = self.scored = None
        self._arrays.clear()


def _check_parts(data: Partitioned, task: str) -> None:
    plan, groups = data.plan, data.prepared.group_column
    if groups:
        g = data.prepared.frame[groups].to_numpy()
        shared = set(g[plan.train_index]) & set(g[plan.test_index])
        if shared:
            raise TrainingError("training.group_leak", n_groups=len(shared))
    if task != "regression":
        missing = sorted(set(range(len(data.classes))) - set(np.unique(data.y[plan.train_index]).tolist()))
        if missing:
            raise TrainingError("training.class_missing_in_train", classes=[str(data.classes[i]) for i in missing])


def _pipeline(prep: Any, head: Any) -> Pipeline:
    return Pipeline([("preprocess", prep), ("to_matrix", ToMatrix()), ("model", head)])


def _full(pred: np.ndarray, task: str, n_classes: int) -> np.ndarray:
    pred = np.asarray(pred, dtype=np.float64)
    if task == "regression":
        return pred.reshape(-1)
    return pred.reshape(len(pred), n_classes)


def _empty(task: str, n_classes: int) -> np.ndarray:
    return np.empty((0,) if task == "regression" else (0, n_classes))



def _reserve(done: list[TrialOutcome], clock: Clock) -> float:
    """Seconds kept for the end: the preprocessing refitted on the whole training part, and each
    family's best refitted there (more than one trial of it: the training part is larger than the
    tuning part, ``clock.scale()``)."""
    best: dict[str, float] = {}
    for o in done:
        if o.record.state == "complete":
            best[o.record.family] = max(best.get(o.record.family, 0.0), o.record.fit_seconds)
    if not best:
        return 0.0
    return clock.prep_seconds * clock.scale() + sum(clock.scale() * s for s in best.values()) + 5.0


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
