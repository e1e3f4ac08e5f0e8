"""The AutoML search: seeded TPE per model family, cross-validated, within a budget.

This module runs the loop; the records it returns are in ``_results``, the clock and the
scheduler in ``_schedule``, one trial in ``_trial`` and the final models in ``_finalise``.

Why it is shaped this way:

* One Optuna study per family (not one study with ``family`` as a parameter): each family's TPE
  models only its own space, pruning compares like with like, and a scheduler spends trials where
  the out-of-fold score is best (an upper-confidence rule over the families' best scores).
* Every family's robust default configuration, then the recommended ones, are enqueued as the
  first trials: on small clinical tables a plain penalised logistic regression is often the model
  to beat, and the search must see that before it spends the budget on trees.
* The preprocessor is fitted once per fold (inside the fold: no leakage) and reused by every
  trial, because it is deterministic and refitting it per trial would eat the budget.
* A time budget covers the whole run, the end included (see ``_schedule``); the end refits every
  leaderboard model once and returns it with its predictions (``_finalise``), so a run store
  never refits.
* Reproducible: seeded samplers, ``n_jobs=1``, deterministic learners, and decisions that depend
  on scores only. With a trial budget the same inputs give the same leaderboard; a time budget
  can only cut the same sequence of trials shorter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import TransformerMixin
from threadpoolctl import threadpool_limits

from pipelines.automl._finalise import finalise
from pipelines.automl._results import (
    FinalModelInfo,
    FittedModel,
    LeaderboardRow,
    SearchProgress,
    SearchResult,
    TrialRecord,
)
from pipelines.automl._schedule import (
    Clock,
    initial_queue,
    next_family,
    reserve_seconds,
)
from pipelines.automl._trial import (
    Done,
    make_studies,
    prepare_folds,
    run_trial,
)
from pipelines.automl.device import DeviceChoice, Notice, resolve_device
from pipelines.automl.meta import meta_features
from pipelines.automl.metrics import check_task, get_metric
from pipelines.automl.models import REGISTRY, BuildContext, get_family
from pipelines.automl.settings import SearchSettings
from pipelines.errors import TrainingError

__all__ = [
    "FinalModelInfo",
    "FittedModel",
    "LeaderboardRow",
    "SearchProgress",
    "SearchResult",
    "TrialRecord",
    "run_search",
]


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
    stop_trials_after_s: float | None = None,
) -> SearchResult:
    """Search the families in ``settings`` on the training part of ``plan`` and return the final
    model refitted on the whole training part, scored once on the test part, with every other
    leaderboard model (each family's best) fitted the same way: ``SearchResult.models``.

    ``plan`` is SplitPlan-like: ``train_index``/``test_index`` are row positions in ``X``;
    ``folds`` are ``(train_pos, val_pos)`` positions within the training part. ``positive_label``
    (binary) puts that class last, so ``predict_proba[:, 1]`` is its probability.
    ``device_choice`` lets a caller that already probed (or a test) skip the probe.
    ``stop_trials_after_s`` is a server's limit for a run with a trial budget: once that many
    seconds have passed and a trial has finished, no further trial starts, and a notice says so.
    """
    clock = Clock(time.perf_counter(), settings.time_budget_s, should_stop)  # the budget counts from the call
    # One thread for every native library: reproducible sums, and fair on a shared machine.
    with threadpool_limits(limits=1):
        return _run_search(X=X, y=y, plan=plan, task=task, make_preprocessor=make_preprocessor, settings=settings,
                           groups=groups, on_progress=on_progress, should_stop=should_stop,
                           positive_label=positive_label, device_choice=device_choice, clock=clock,
                           stop_trials_after_s=stop_trials_after_s)


def _run_search(*, X: pd.DataFrame, y: pd.Series, plan: Any, task: str,
                make_preprocessor: Callable[[], TransformerMixin], settings: SearchSettings,
                groups: pd.Series | None, on_progress: Callable[[SearchProgress], None] | None,
                should_stop: Callable[[], bool] | None, positive_label: Any,
                device_choice: DeviceChoice | None, clock: Clock, stop_trials_after_s: float | None) -> SearchResult:
    check_task(task)
    metric = get_metric(settings.metric, task)
    choice = device_choice or resolve_device(settings.device)
    notices = list(choice.notices)
    train_index = np.asarray(plan.train_index, dtype=int)
    test_index = np.asarray(plan.test_index, dtype=int)
    folds = [(np.asarray(tr, dtype=int), np.asarray(va, dtype=int)) for tr, va in plan.folds]
    if len(folds) < 2:
        raise TrainingError("training.too_few_folds", n_folds=len(folds))
    clock.n_folds = len(folds)
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

    def progress(stage: str, done: list[Done], n: int, last: TrialRecord | None = None) -> None:
        if on_progress is None:
            return
        best = max(done, key=lambda d: d.score) if done else None
        on_progress(
            SearchProgress(
                stage=stage,
                trials_done=n,
                trials_total=settings.n_trials,
                # the best model's cross-validated mean, the number its leaderboard row shows
                best_score=None if best is None else best.record.cv_mean,
                best_family=None if best is None else best.record.family,
                elapsed_s=clock.elapsed(),
                time_budget_s=settings.time_budget_s,
                device=choice.device,
                last_trial=last,
            )
        )

    progress("preparing", [], 0)
    fold_data = prepare_folds(X_train_frame, y_train_raw, y_train, folds, make_preprocessor, clock)
    fold_of_row = np.full(len(train_index), -1, dtype=int)
    for i, fd in enumerate(fold_data):
        fold_of_row[fd.val_pos] = i
    n_features = fold_data[0].X_train.shape[1]
    class_counts = tuple(int(np.sum(y_train == k)) for k in range(n_classes)) if task != "regression" else ()

    families = [name for name in REGISTRY if name in settings.families]
    # Fits poll the clock when there is a cancel or a deadline to notice; otherwise nothing polls.
    fit_stop = clock.fit_should_stop if should_stop is not None or settings.time_budget_s is not None else None
    contexts = {
        name: BuildContext(
            task=task, n_classes=n_classes, seed=settings.seed,
            device=choice.device if name == "xgboost" else "cpu",
            class_counts=class_counts, n_rows=len(train_index), n_features=n_features, should_stop=fit_stop,
        )
        for name in families
    }
    studies = make_studies(families, settings, contexts)

    done: list[Done] = []
    records: list[TrialRecord] = []
    queue = initial_queue(families, {name: _waiting(study) for name, study in studies.items()}, len(train_index))
    trial_seconds: dict[str, list[float]] = {f: [] for f in families}
    while True:
        clock.poll()
        if settings.n_trials is not None and len(records) >= settings.n_trials:
            break
        if stop_trials_after_s is not None and done and clock.elapsed() >= stop_trials_after_s:
            notices.append(Notice("training.trials_stopped_at_limit", {
                "limit": int(stop_trials_after_s), "done": len(records), "asked": settings.n_trials or 0}))
            break
        family_name = next_family(queue, families, done, trial_seconds, clock, settings)
        if family_name is None:
            break
        family = get_family(family_name)
        outcome = run_trial(
            family=family, study=studies[family_name], ctx=contexts[family_name], settings=settings,
            metric=metric, fold_data=fold_data, n_train=len(train_index), n_classes=n_classes,
            number=len(records), clock=clock, must_finish=not done, reserve=reserve_seconds(done, clock, settings),
        )
        if outcome is None:  # cut by the time budget; the trial is not counted
            break
        record = outcome.record if isinstance(outcome, Done) else outcome
        records.append(record)
        trial_seconds[family_name].append(record.fit_seconds)
        if isinstance(outcome, Done):
            done.append(outcome)
        progress("search", done, len(records), record)

    if not done:
        failed = [r for r in records if r.state == "failed"]
        raise TrainingError("training.all_trials_failed", error=failed[0].error if failed else "")

    progress("final", done, len(records))
    ranked = sorted(done, key=lambda d: (-d.score, d.record.number))
    final = finalise(
        ranked=ranked, settings=settings, metric=metric, task=task, n_classes=n_classes, contexts=contexts,
        X_train_frame=X_train_frame, y_train_raw=y_train_raw, y_train=y_train,
        X_test_frame=X.iloc[test_index], y_test=y_test, fold_of_row=fold_of_row,
        make_preprocessor=make_preprocessor, clock=clock,
    )
    progress("done", done, len(records))
    return SearchResult(
        task=task,
        metric=metric.name,
        greater_is_better=metric.greater_is_better,
        classes=tuple(classes),
        leaderboard=final.leaderboard,
        trials=tuple(records),
        model=final.model,
        final=final.info,
        oof_predictions=final.oof,
        test_predictions=final.test,
        train_index=train_index,
        test_index=test_index,
        y_train=y_train,
        y_test=y_test,
        meta_features=meta,
        device=choice.device,
        notices=tuple(notices),
        settings=settings,
        elapsed_s=clock.elapsed(),
        models=final.models,
    )


def _waiting(study: optuna.Study) -> int:
    return sum(t.state == optuna.trial.TrialState.WAITING for t in study.get_trials(deepcopy=False))


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
