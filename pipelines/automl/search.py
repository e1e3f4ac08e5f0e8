"""The AutoML search: seeded TPE per model family, cross-validated, within a budget.

Why it is shaped this way:

* One Optuna study per family (not one study with ``family`` as a parameter): each family's TPE
  models only its own space, pruning compares like with like, and a scheduler spends trials where
  the out-of-fold score is best (an upper-confidence rule over the families' best scores).
* Every family's robust default configuration, then the recommended ones, are enqueued as the
  first trials: on small clinical tables a plain penalised logistic regression is often the model
  to beat, and the search must see that before it spends the budget on trees.
* The preprocessor is fitted once per fold (inside the fold: no leakage) and reused by every
  trial, because it is deterministic and refitting it per trial would eat the budget.
* Reproducible: seeded samplers, ``n_jobs=1``, deterministic learners, and decisions that depend
  on scores only. With a trial budget the same inputs give the same leaderboard; a time budget
  can only cut the same sequence of trials shorter.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from pipelines.automl.calibration import choose_calibration, fit_calibration
from pipelines.automl.device import DeviceChoice, Notice, resolve_device
from pipelines.automl.ensemble import select_ensemble
from pipelines.automl.meta import MetaFeatures, meta_features
from pipelines.automl.metrics import Metric, check_task, get_metric
from pipelines.automl.models import (
    REGISTRY,
    BuildContext,
    Space,
    fit_estimator,
    get_family,
)
from pipelines.automl.settings import SearchSettings
from pipelines.automl.wrappers import (
    CalibratedModel,
    ToMatrix,
    WeightedEnsemble,
    predict_matrix,
)
from pipelines.errors import JobCancelled, TrainingError

__all__ = [
    "FinalModelInfo",
    "LeaderboardRow",
    "SearchProgress",
    "SearchResult",
    "TrialRecord",
    "run_search",
]

_BOOSTED_WITH_CALLBACK = ("xgboost", "lightgbm")
_ENSEMBLE_POOL = 20


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the trials table shows it; ``cv_mean``/``cv_sd`` are the metric itself."""

    number: int
    family: str
    params: dict[str, Any]
    state: str  # "complete" | "pruned" | "failed"
    source: str  # "default" | "recommended" | "search"
    cv_mean: float | None
    cv_sd: float | None
    fold_scores: tuple[float, ...]
    device: str
    fit_seconds: float
    error: str = ""


@dataclass(frozen=True)
class LeaderboardRow:
    """The best trial of a family (or the final ensemble), refitted on the whole training part."""

    name: str  # family name, or "ensemble"
    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_sd: float
    test_score: float | None  # None when the budget left no time to refit this row
    device: str
    fit_seconds: float
    trial_number: int | None
    selected: bool


@dataclass(frozen=True)
class FinalModelInfo:
    kind: str  # "single" | "ensemble"
    members: tuple[tuple[int, str, float], ...]  # (trial number, family, weight)
    calibration: str  # "none" | "sigmoid" | "isotonic" | "not applicable"
    calibration_scores: dict[str, float]
    oof_score: float  # metric of the final out-of-fold predictions
    test_score: float | None


@dataclass(frozen=True)
class SearchProgress:
    stage: str  # "preparing" | "search" | "final" | "done"
    trials_done: int
    trials_total: int | None
    best_score: float | None
    best_family: str | None
    elapsed_s: float
    time_budget_s: float | None
    device: str
    last_trial: TrialRecord | None = None


@dataclass(frozen=True)
class SearchResult:
    task: str
    metric: str
    greater_is_better: bool
    classes: tuple[Any, ...]  # probability columns, in order; () for regression
    leaderboard: tuple[LeaderboardRow, ...]
    trials: tuple[TrialRecord, ...]
    model: Pipeline  # preprocess -> to_matrix -> estimator | WeightedEnsemble | CalibratedModel
    final: FinalModelInfo
    oof_predictions: np.ndarray  # train part, row order of plan.train_index (NaN outside folds)
    test_predictions: np.ndarray  # test part, row order of plan.test_index
    train_index: np.ndarray
    test_index: np.ndarray
    y_train: np.ndarray  # encoded 0..k-1 for classification
    y_test: np.ndarray
    meta_features: MetaFeatures
    device: str
    notices: tuple[Notice, ...]
    settings: SearchSettings
    elapsed_s: float


@dataclass
class _FoldData:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    val_pos: np.ndarray


@dataclass
class _Done:
    record: TrialRecord
    oof: np.ndarray
    score: float  # internal, pooled out-of-fold (higher is better)


@dataclass
class _Clock:
    start: float
    budget: float | None
    stop: Callable[[], bool] | None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return math.inf if self.budget is None else self.budget - self.elapsed()

    def poll(self) -> None:
        if self.stop is not None and self.stop():
            raise JobCancelled("training.cancelled")


def run_search(
    *,
    X: pd.DataFrame,
    y: pd.Series,
    plan: Any,
    task: str,
    make_preprocessor: Callable[[], TransformerMixin],
    settings: SearchSettings,
    groups: pd.Series | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    positive_label: Any = None,
    device_choice: DeviceChoice | None = None,
) -> SearchResult:
    """Search the families in ``settings`` on the training part of ``plan`` and return the final
    model refitted on the whole training part, scored once on the test part.

    ``plan`` is SplitPlan-like: ``train_index``/``test_index`` are row positions in ``X``;
    ``folds`` are ``(train_pos, val_pos)`` positions within the training part. ``positive_label``
    (binary) puts that class last, so ``predict_proba[:, 1]`` is its probability.
    ``device_choice`` lets a caller that already probed (or a test) skip the probe.
    """
    # One thread for every native library: reproducible sums, and fair on a shared machine.
    with threadpool_limits(limits=1):
        return _run_search(X=X, y=y, plan=plan, task=task, make_preprocessor=make_preprocessor, settings=settings,
                           groups=groups, on_progress=on_progress, should_stop=should_stop,
                           positive_label=positive_label, device_choice=device_choice)


def _run_search(*, X: pd.DataFrame, y: pd.Series, plan: Any, task: str,
                make_preprocessor: Callable[[], TransformerMixin], settings: SearchSettings,
                groups: pd.Series | None, on_progress: Callable[[SearchProgress], None] | None,
                should_stop: Callable[[], bool] | None, positive_label: Any,
                device_choice: DeviceChoice | None) -> SearchResult:
    clock = _Clock(time.perf_counter(), settings.time_budget_s, should_stop)
    check_task(task)
    metric = get_metric(settings.metric, task)
    choice = device_choice or resolve_device(settings.device)
    notices = list(choice.notices)
    train_index = np.asarray(plan.train_index, dtype=int)
    test_index = np.asarray(plan.test_index, dtype=int)
    folds = [(np.asarray(tr, dtype=int), np.asarray(va, dtype=int)) for tr, va in plan.folds]
    if len(folds) < 2:
        raise TrainingError("training.too_few_folds", n_folds=len(folds))
    if len(X) != len(y):
        raise TrainingError("training.shape_mismatch", n_rows=len(X), n_target=len(y))
    if groups is not None:
        shared = set(groups.iloc[train_index]) & set(groups.iloc[test_index])
        if shared:
            raise TrainingError("training.group_leak", n_groups=len(shared))

    classes, y_all = _encode_target(y, task, positive_label)
    y_train, y_test = y_all[train_index], y_all[test_index]
    n_classes = len(classes)
    if task != "regression":
        missing = sorted(set(range(n_classes)) - set(np.unique(y_train).tolist()))
        if missing:
            raise TrainingError("training.class_missing_in_train", classes=[str(classes[i]) for i in missing])
    X_train_frame = X.iloc[train_index]
    y_train_raw = y.iloc[train_index]
    meta = meta_features(X_train_frame, y_train_raw, task)

    def progress(stage: str, done: list[_Done], n: int, last: TrialRecord | None = None) -> None:
        if on_progress is None:
            return
        best = max(done, key=lambda d: d.score) if done else None
        on_progress(
            SearchProgress(
                stage=stage,
                trials_done=n,
                trials_total=settings.n_trials,
                best_score=None if best is None else _display(best.score, metric),
                best_family=None if best is None else best.record.family,
                elapsed_s=clock.elapsed(),
                time_budget_s=settings.time_budget_s,
                device=choice.device,
                last_trial=last,
            )
        )

    progress("preparing", [], 0)
    fold_data = _prepare_folds(X_train_frame, y_train_raw, y_train, folds, make_preprocessor, clock)
    fold_of_row = np.full(len(train_index), -1, dtype=int)
    for i, fd in enumerate(fold_data):
        fold_of_row[fd.val_pos] = i
    n_features = fold_data[0].X_train.shape[1]
    class_counts = tuple(int(np.sum(y_train == k)) for k in range(n_classes)) if task != "regression" else ()

    families = [name for name in REGISTRY if name in settings.families]
    contexts = {
        name: BuildContext(
            task=task, n_classes=n_classes, seed=settings.seed,
            device=choice.device if name == "xgboost" else "cpu",
            class_counts=class_counts, n_rows=len(train_index), n_features=n_features, should_stop=should_stop,
        )
        for name in families
    }
    studies = _make_studies(families, settings, contexts)

    done: list[_Done] = []
    records: list[TrialRecord] = []
    queue = _initial_queue(families, studies)
    trial_seconds: dict[str, list[float]] = {f: [] for f in families}
    while True:
        clock.poll()
        if settings.n_trials is not None and len(records) >= settings.n_trials:
            break
        family_name = _next_family(queue, families, done, trial_seconds, clock, settings, len(fold_data))
        if family_name is None:
            break
        family = get_family(family_name)
        outcome = _run_trial(
            family=family, study=studies[family_name], ctx=contexts[family_name], settings=settings,
            metric=metric, fold_data=fold_data, n_train=len(train_index), n_classes=n_classes,
            number=len(records), clock=clock, must_finish=not done, reserve=_reserve(done, len(fold_data)),
        )
        if outcome is None:  # cut by the time budget; the trial is not counted
            break
        record, oof, score = outcome
        records.append(record)
        trial_seconds[family_name].append(record.fit_seconds)
        if record.state == "complete":
            done.append(_Done(record, oof, score))
        progress("search", done, len(records), record)

    if not done:
        failed = [r for r in records if r.state == "failed"]
        raise TrainingError("training.all_trials_failed", error=failed[0].error if failed else "")

    progress("final", done, len(records))
    ranked = sorted(done, key=lambda d: (-d.score, d.record.number))
    final = _finalise(
        ranked=ranked, settings=settings, metric=metric, task=task, n_classes=n_classes, contexts=contexts,
        X_train_frame=X_train_frame, y_train_raw=y_train_raw, y_train=y_train,
        X_test_frame=X.iloc[test_index], y_test=y_test, fold_of_row=fold_of_row,
        make_preprocessor=make_preprocessor, clock=clock, n_folds=len(fold_data),
    )
    progress("done", done, len(records))
    return SearchResult(
        task=task,
        metric=metric.name,
        greater_is_better=metric.greater_is_better,
        classes=tuple(classes),
        leaderboard=final["leaderboard"],
        trials=tuple(records),
        model=final["model"],
        final=final["info"],
        oof_predictions=final["oof"],
        test_predictions=final["test"],
        train_index=train_index,
        test_index=test_index,
        y_train=y_train,
        y_test=y_test,
        meta_features=meta,
        device=choice.device,
        notices=tuple(notices),
        settings=settings,
        elapsed_s=clock.elapsed(),
    )


# --------------------------------------------------------------------------- preparation


def _encode_target(y: pd.Series, task: str, positive_label: Any) -> tuple[list[Any], np.ndarray]:
    if y.isna().any():
        raise TrainingError("training.target_missing", n_missing=int(y.isna().sum()))
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise TrainingError("training.target_not_numeric")
        return [], y.to_numpy(dtype=np.float64)
    values = y.to_numpy(dtype=object)
    classes = sorted(pd.unique(values).tolist(), key=lambda v: (str(type(v)), v))
    if task == "binary":
        if len(classes) != 2:
            raise TrainingError("training.binary_needs_two_classes", n_classes=len(classes))
        if positive_label is not None:
            if positive_label not in classes:
                raise TrainingError("training.positive_label_missing", label=str(positive_label))
            classes = [c for c in classes if c != positive_label] + [positive_label]
    elif len(classes) < 3:
        raise TrainingError("training.multiclass_needs_three_classes", n_classes=len(classes))
    lookup = {c: i for i, c in enumerate(classes)}
    return classes, np.array([lookup[v] for v in values], dtype=np.int64)


def _prepare_folds(X_train: pd.DataFrame, y_raw: pd.Series, y_enc: np.ndarray, folds: list,
                   make_preprocessor: Callable[[], TransformerMixin], clock: _Clock) -> list[_FoldData]:
    out = []
    for tr, va in folds:
        clock.poll()
        prep = make_preprocessor()
        to_matrix = ToMatrix()
        Xtr = to_matrix.transform(prep.fit_transform(X_train.iloc[tr], y_raw.iloc[tr]))
        Xva = to_matrix.transform(prep.transform(X_train.iloc[va]))
        out.append(_FoldData(Xtr, y_enc[tr], Xva, y_enc[va], va))
    return out


def _make_studies(families: list[str], settings: SearchSettings, contexts: dict[str, BuildContext]) -> dict[str, optuna.Study]:
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
        study.enqueue_trial(family.default_params(contexts[name]), user_attrs={"source": "default"})
        for item in settings.enqueue:
            if item["family"] == name:
                study.enqueue_trial(dict(item["params"]), user_attrs={"source": "recommended"}, skip_if_exists=True)
        studies[name] = study
    return studies


# --------------------------------------------------------------------------- scheduling


def _initial_queue(families: list[str], studies: dict[str, optuna.Study]) -> list[str]:
    """Every family's default first (cheap, interpretable first), then the recommended ones."""
    queue = list(families)
    for name in families:
        waiting = [t for t in studies[name].get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.WAITING]
        queue.extend([name] * (len(waiting) - 1))
    return queue


def _expected_seconds(family: str, trial_seconds: dict[str, list[float]]) -> float:
    own = trial_seconds.get(family) or []
    if own:
        return float(np.median(own))
    every = [s for v in trial_seconds.values() for s in v]
    return float(np.median(every)) if every else 0.0


def _reserve(done: list[_Done], n_folds: int) -> float:
    """Seconds kept for the end: refitting the likely ensemble members and each family's best on
    the whole training part (about 1.3 fold-fits each)."""
    if not done:
        return 0.0
    best_per_family: dict[str, _Done] = {}
    for d in done:
        cur = best_per_family.get(d.record.family)
        if cur is None or d.score > cur.score:
            best_per_family[d.record.family] = d
    top = sorted(done, key=lambda d: -d.score)[:5]
    chosen = {d.record.number: d for d in [*best_per_family.values(), *top]}
    return sum(1.3 * d.record.fit_seconds / n_folds for d in chosen.values()) + 0.5


def _next_family(queue: list[str], families: list[str], done: list[_Done], trial_seconds: dict[str, list[float]],
                 clock: _Clock, settings: SearchSettings, n_folds: int) -> str | None:
    reserve = _reserve(done, n_folds)

    def fits(name: str) -> bool:
        return not done or clock.left() - reserve >= _expected_seconds(name, trial_seconds)

    while queue:
        name = queue.pop(0)
        if fits(name):
            return name
    if not done:
        return None
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for d in done:
        f = d.record.family
        counts[f] = counts.get(f, 0) + 1
        best[f] = max(best.get(f, -math.inf), d.score)
    tried = sum(len(v) for v in trial_seconds.values())
    spread = (max(best.values()) - min(best.values())) if len(best) > 1 else 0.0
    c = 0.5 * spread + 1e-3 * (abs(max(best.values())) + 1e-3)
    ranked = []
    for name in families:
        n = len(trial_seconds[name])
        if name not in best:  # only failures or prunes so far: give it one more chance late
            value = -math.inf if n >= 3 else min(best.values())
        else:
            value = best[name] + c * math.sqrt(math.log(tried + 1) / n)
        ranked.append((value, -families.index(name), name))
    for value, _, name in sorted(ranked, reverse=True):
        if value > -math.inf and fits(name):
            return name
    return None


# --------------------------------------------------------------------------- one trial


def _run_trial(*, family: ModuleType, study: optuna.Study, ctx: BuildContext, settings: SearchSettings, metric: Metric,
               fold_data: list[_FoldData], n_train: int, n_classes: int, number: int, clock: _Clock,
               must_finish: bool, reserve: float) -> tuple[TrialRecord, np.ndarray, float] | None:
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
    started = time.perf_counter()
    state, error = "complete", ""
    try:
        for i, fd in enumerate(fold_data):
            clock.poll()
            # Cut a trial whose remaining folds (at the pace of its first ones) would eat the time
            # kept for the final refit; the first trial of a run always finishes.
            per_fold = (time.perf_counter() - started) / i if i else 0.0
            if i > 0 and not must_finish and clock.left() - reserve < per_fold * (len(fold_data) - i):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                return None
            estimator = _build(family, params, ctx)
            watch = trial if (callback_pruning and i == 0) else None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_estimator(family, estimator, fd.X_train, fd.y_train, ctx=ctx, trial=watch,
                              X_val=fd.X_val, y_val=fd.y_val, metric=metric.name)
                pred = _predict(estimator, fd.X_val, ctx.task, n_classes)
            oof[fd.val_pos] = pred
            fold_scores.append(metric.value(fd.y_val, pred))
            if not callback_pruning:
                trial.report(float(np.mean([_internal(s, metric) for s in fold_scores])), i)
                if i < len(fold_data) - 1 and trial.should_prune():
                    raise optuna.TrialPruned()
    except optuna.TrialPruned:
        state = "pruned"
    except (JobCancelled, TrainingError):
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    except Exception as exc:  # noqa: BLE001 - a learner refusing a (pinned or sampled) value: record, go on
        state, error = "failed", f"{type(exc).__name__}: {exc}"[:500]
    seconds = time.perf_counter() - started
    covered = ~np.isnan(oof if oof.ndim == 1 else oof[:, 0])
    score = -math.inf
    if state == "complete":
        score = metric.score(_y_of(fold_data, n_train)[covered], oof[covered])
        study.tell(trial, score)
    else:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED if state == "pruned" else optuna.trial.TrialState.FAIL)
    record = TrialRecord(
        number=number, family=family.name, params=_jsonable(params), state=state, source=source,
        cv_mean=float(np.mean(fold_scores)) if state == "complete" else None,
        cv_sd=float(np.std(fold_scores, ddof=1)) if state == "complete" and len(fold_scores) > 1 else None,
        fold_scores=tuple(float(s) for s in fold_scores), device=device, fit_seconds=round(seconds, 4), error=error,
    )
    return record, oof, score


def _build(family: ModuleType, params: dict[str, Any], ctx: BuildContext) -> Any:
    try:
        return family.build(dict(params), ctx)
    except TypeError as exc:
        raise TrainingError("training.override_unknown_param", family=family.name, error=str(exc)[:200]) from exc


def _y_of(fold_data: list[_FoldData], n_train: int) -> np.ndarray:
    y = np.zeros(n_train)
    for fd in fold_data:
        y[fd.val_pos] = fd.y_val
    return y.astype(fd.y_val.dtype) if fold_data else y


def _predict(estimator: Any, X: np.ndarray, task: str, n_classes: int) -> np.ndarray:
    pred = predict_matrix(estimator, X, task)
    if task == "regression":
        return pred
    seen = np.asarray(getattr(estimator, "classes_", np.arange(pred.shape[1])), dtype=int)
    if pred.shape[1] == n_classes and np.array_equal(seen, np.arange(n_classes)):
        return pred
    full = np.zeros((pred.shape[0], n_classes))
    full[:, seen] = pred
    return full


def _internal(value: float, metric: Metric) -> float:
    return value if metric.greater_is_better else -value


def _display(score: float, metric: Metric) -> float:
    return score if metric.greater_is_better else -score


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


# --------------------------------------------------------------------------- final model


def _finalise(*, ranked: list[_Done], settings: SearchSettings, metric: Metric, task: str, n_classes: int,
              contexts: dict[str, BuildContext], X_train_frame: pd.DataFrame, y_train_raw: pd.Series,
              y_train: np.ndarray, X_test_frame: pd.DataFrame, y_test: np.ndarray, fold_of_row: np.ndarray,
              make_preprocessor: Callable[[], TransformerMixin], clock: _Clock, n_folds: int) -> dict[str, Any]:
    covered = fold_of_row >= 0
    best = ranked[0]
    members: dict[int, float] = {best.record.number: 1.0}
    final_oof = best.oof
    kind = "single"
    if settings.ensemble and len(ranked) > 1:
        pool = {d.record.number: d.oof[covered] for d in ranked[:_ENSEMBLE_POOL]}
        choice = select_ensemble(candidates=pool, y=y_train[covered], metric=metric)
        if len(choice.weights) > 1 and choice.score > best.score + 1e-9:
            kind = "ensemble"
            total = float(sum(choice.weights.values()))
            members = {n: w / total for n, w in choice.weights.items()}
            by_number = {d.record.number: d for d in ranked}
            final_oof = sum(w * by_number[n].oof for n, w in members.items())

    calibration, calibration_scores = "not applicable", {}
    if task != "regression":
        calibration = "none"
        if settings.calibration:
            cal = choose_calibration(proba=final_oof[covered], y=y_train[covered], fold_of_row=fold_of_row[covered],
                                     metric=metric)
            calibration, calibration_scores = cal.method, dict(cal.scores)
            if cal.method != "none":
                final_oof = final_oof.copy()
                final_oof[covered] = cal.oof

    clock.poll()
    prep = make_preprocessor()
    to_matrix = ToMatrix()
    X_full = to_matrix.transform(prep.fit_transform(X_train_frame, y_train_raw))
    X_test = to_matrix.transform(prep.transform(X_test_frame)) if len(X_test_frame) else None
    by_number = {d.record.number: d for d in ranked}
    fitted: dict[int, Any] = {}

    def refit(number: int) -> Any:
        if number not in fitted:
            clock.poll()
            d = by_number[number]
            family = get_family(d.record.family)
            ctx = contexts[d.record.family]
            est = _build(family, d.record.params, ctx)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_estimator(family, est, X_full, y_train, ctx=ctx, metric=metric.name)
            fitted[number] = est
        return fitted[number]

    if kind == "single":
        head: Any = refit(best.record.number)
    else:
        numbers = list(members)
        head = WeightedEnsemble([refit(n) for n in numbers], [members[n] for n in numbers], task, n_classes)
    if task != "regression" and calibration not in ("none", "not applicable"):
        params = fit_calibration(_final_oof_uncalibrated(best, members, by_number, covered, kind), y_train[covered], calibration)
        head = CalibratedModel(head, calibration, list(params), task, n_classes)
    model = Pipeline([("preprocess", prep), ("to_matrix", ToMatrix()), ("model", head)])

    def test_score_of(estimator: Any) -> tuple[np.ndarray, float | None]:
        if X_test is None:
            return np.empty((0,) if task == "regression" else (0, n_classes)), None
        pred = _predict(estimator, X_test, task, n_classes) if not isinstance(estimator, (WeightedEnsemble, CalibratedModel)) \
            else predict_matrix(estimator, X_test, task)
        try:
            return pred, metric.value(y_test, pred)
        except ValueError:  # a test part with one class has no AUROC
            return pred, None

    test_pred, final_test = test_score_of(head)
    oof_score = metric.value(y_train[covered], final_oof[covered])

    rows: list[LeaderboardRow] = []
    best_per_family: dict[str, _Done] = {}
    for d in ranked:
        best_per_family.setdefault(d.record.family, d)
    for family_name, d in best_per_family.items():
        score = None
        est_seconds = 1.3 * d.record.fit_seconds / n_folds
        if d.record.number in fitted or clock.left() >= est_seconds:
            _, score = test_score_of(refit(d.record.number))
        selected = kind == "single" and d.record.number == best.record.number
        rows.append(LeaderboardRow(
            name=family_name, family=family_name, params=d.record.params, cv_mean=float(d.record.cv_mean),
            cv_sd=float(d.record.cv_sd or 0.0), test_score=score, device=d.record.device,
            fit_seconds=d.record.fit_seconds, trial_number=d.record.number, selected=selected,
        ))
    if kind == "ensemble":
        fold_values = [metric.value(y_train[fold_of_row == f], final_oof[fold_of_row == f]) for f in range(n_folds)]
        rows.append(LeaderboardRow(
            name="ensemble", family="ensemble",
            params={"members": [{"trial": n, "family": by_number[n].record.family, "weight": round(w, 4)} for n, w in members.items()]},
            cv_mean=float(np.mean(fold_values)), cv_sd=float(np.std(fold_values, ddof=1)), test_score=final_test,
            device=",".join(sorted({by_number[n].record.device for n in members})),
            fit_seconds=round(sum(by_number[n].record.fit_seconds for n in members), 4), trial_number=None, selected=True,
        ))
    sign = 1 if metric.greater_is_better else -1
    rows.sort(key=lambda r: (-sign * r.cv_mean, r.name))
    info = FinalModelInfo(
        kind=kind,
        members=tuple((n, by_number[n].record.family, float(w)) for n, w in members.items()),
        calibration=calibration, calibration_scores=calibration_scores, oof_score=float(oof_score), test_score=final_test,
    )
    return {"leaderboard": tuple(rows), "model": model, "info": info, "oof": final_oof, "test": test_pred}


def _final_oof_uncalibrated(best: _Done, members: dict[int, float], by_number: dict[int, _Done], covered: np.ndarray,
                           kind: str) -> np.ndarray:
    """The final model's out-of-fold probabilities before calibration (what the calibrator maps)."""
    if kind == "single":
        return best.oof[covered]
    return sum(w * by_number[n].oof for n, w in members.items())[covered]
