"""Optuna studies in shared RDB storage, with trials running side by side on the cluster.

Why it is shaped this way:

* One study per family, as on the single-process path (each TPE models only its own space), each
  family's default configuration and then the recommended ones enqueued first.
* The studies live in an SQLite file under the data folder, not in the workbench database: Optuna
  creates its own tables and its own ``alembic_version`` table, which would collide with the
  workbench's migrations. Only the job that runs the search talks to this file, so it needs no
  network file system; the trials' *training* is what runs on the workers.
* ``n_parallel`` trials are in flight at once, each in a driver thread that asks its study for
  parameters, trains through ``xgboost.dask`` / ``lightgbm.dask`` (which spread the work over every
  worker) and tells the study the score. The storage makes ``ask`` safe across threads and
  processes; with more than one trial in flight the order in which trials finish, and so TPE's
  suggestions, may differ between two runs with the same seed.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from pipelines.automl._schedule import Clock, OutOfTime
from pipelines.automl._trial import _jsonable, _tell
from pipelines.automl.distributed._cap import Paces, TrialCap
from pipelines.automl.metrics import Metric
from pipelines.automl.models import BuildContext, Space, get_family
from pipelines.automl.search import TrialRecord
from pipelines.automl.settings import SearchSettings
from pipelines.errors import JobCancelled, TrainingError

__all__ = ["TrialOutcome", "create_studies", "run_trials", "storage_for"]


@dataclass(frozen=True)
class TrialOutcome:
    record: TrialRecord
    pred: np.ndarray | None  # validation-part predictions, in row order; None unless complete
    score: float  # internal (higher is better); -inf unless complete


def storage_for(data_dir: Path) -> optuna.storages.RDBStorage:
    """The studies' SQLite file under the data folder (WAL, waits instead of failing when busy)."""
    folder = Path(data_dir) / "optuna"
    folder.mkdir(parents=True, exist_ok=True)
    return optuna.storages.RDBStorage(f"sqlite:///{folder / 'studies.db'}",
                                      engine_kwargs={"connect_args": {"timeout": 60}})


def create_studies(storage: optuna.storages.BaseStorage, *, key: str, families: list[str], settings: SearchSettings,
                   contexts: dict[str, BuildContext]) -> dict[str, str]:
    """A new study per family named ``<key>-<family>``, defaults and recommendations enqueued."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = {}
    for name in families:
        study = optuna.create_study(storage=storage, study_name=f"{key}-{name}", direction="maximize")
        fit = settings.overrides.applied  # the user's bounds hold for the configurations tried first
        study.enqueue_trial(fit(name, get_family(name).default_params(contexts[name])), user_attrs={"source": "default"})
        for item in settings.enqueue:
            if item["family"] == name:
                study.enqueue_trial(fit(name, item["params"]), user_attrs={"source": "recommended"}, skip_if_exists=True)
        names[name] = study.study_name
    return names


class _Scheduler:
    """Which family the next trial belongs to: queued ones first, then round robin, favouring the
    family with the better score when one has had more trials."""

    def __init__(self, families: list[str], storage: Any, names: dict[str, str]) -> None:
        self.families = families
        self.queue = list(families)
        for name in families:
            waiting = optuna.load_study(study_name=names[name], storage=storage).get_trials(
                deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
            self.queue.extend([name] * (len(waiting) - 1))
        self.counts = {f: 0 for f in families}
        self.best = {f: -math.inf for f in families}

    def next(self) -> str:
        if self.queue:
            name = self.queue.pop(0)
        else:
            name = min(self.families, key=lambda f: (self.counts[f] - (0.5 if self.best[f] == max(self.best.values())
                                                                        else 0.0), self.families.index(f)))
        self.counts[name] += 1
        return name

    def seen(self, outcome: TrialOutcome) -> None:
        family = outcome.record.family
        self.best[family] = max(self.best[family], outcome.score)


def run_trials(*, storage: optuna.storages.BaseStorage, names: dict[str, str], settings: SearchSettings,
               contexts: dict[str, BuildContext], metric: Metric, y_val: np.ndarray,
               evaluate: Callable[[str, dict[str, Any]], np.ndarray], n_parallel: int, clock: Clock,
               reserve: Callable[[list[TrialOutcome]], float], should_stop: Callable[[], bool] | None,
               on_trial: Callable[[TrialOutcome, list[TrialOutcome]], None],
               stop_launching_after_s: float | None = None) -> list[TrialOutcome]:
    """Trials until the trial budget is used or the next one would not end within the time budget
    (keeping ``reserve(done)`` seconds for the final refit); at least one trial always runs.
    Under a time budget (``clock.budget``) every trial's rounds are capped by time
    (:mod:`pipelines.automl.distributed._cap`), and until a trial has completed no other starts
    beside it (a distributed fit cannot be cut, and nothing says yet what a trial costs).
    ``stop_launching_after_s`` (a server's limit for a trial budget): no trial starts after that
    many seconds once one has completed (as on the single-process path: a failed trial does not
    count, the run must end with a model); the trials in flight then finish."""
    families = list(names)
    scheduler = _Scheduler(families, storage, names)
    outcomes: list[TrialOutcome] = []
    lock = threading.Lock()
    paces = Paces()
    out_of_time = threading.Event()  # a trial found that not even its fewest rounds fit: no more start
    started = clock.start

    def one(family: str, number: int, cap: TrialCap | None) -> TrialOutcome | None:
        sampler = optuna.samplers.TPESampler(seed=settings.seed * 1000 + families.index(family) * 100 + number,
                                             n_startup_trials=6)
        study = optuna.load_study(study_name=names[family], storage=storage, sampler=sampler)
        outcome = _trial(study, family=family, number=number, ctx=contexts[family], settings=settings,
                         metric=metric, y_val=y_val, evaluate=evaluate, cap=cap)
        if outcome is None:
            out_of_time.set()
        elif outcome.record.state == "complete" and cap is not None:
            rounds_param = getattr(get_family(family), "rounds_param", "")
            paces.observe(family, outcome.record.params.get(rounds_param), outcome.record.fit_seconds)
        return outcome

    def cap_for(family: str) -> TrialCap | None:
        if clock.budget is None:
            return None
        with lock:
            done = list(outcomes)
        complete = [o for o in done if o.record.state == "complete"]
        in_flight = len(pending)
        return TrialCap(clock=clock, paces=paces, evaluate=evaluate, first=not complete,
                        allowed=lambda: (clock.left() - reserve(done)) / (1 + in_flight),
                        refit=not any(o.record.family == family for o in complete))

    def expected() -> float:
        seconds = [o.record.fit_seconds for o in outcomes]
        return float(np.median(seconds)) if seconds else 0.0

    def may_launch(launched: int) -> bool:
        if settings.n_trials is not None and launched >= settings.n_trials:
            return False
        if (stop_launching_after_s is not None and time.perf_counter() - started >= stop_launching_after_s
                and any(o.record.state == "complete" for o in outcomes)):
            return False
        if launched == 0 or settings.time_budget_s is None:
            return True
        if out_of_time.is_set():
            return False
        if not any(o.record.state == "complete" for o in outcomes):  # the must-finish trial runs alone
            return not pending and clock.left() - reserve(outcomes) >= expected()
        return clock.left() - reserve(outcomes) >= expected() * (1 + len(pending))

    launched = 0
    pending: set[Future] = set()
    with ThreadPoolExecutor(max_workers=max(1, n_parallel), thread_name_prefix="wb-trial") as pool:
        try:
            while True:
                if should_stop is not None and should_stop():
                    raise JobCancelled("training.cancelled")
                while len(pending) < max(1, n_parallel) and may_launch(launched):
                    family = scheduler.next()
                    pending.add(pool.submit(one, family, launched, cap_for(family)))
                    launched += 1
                if not pending:
                    break
                finished, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome = future.result()
                    if outcome is None:  # cut before it started: the budget is used
                        continue
                    with lock:
                        outcomes.append(outcome)
                        scheduler.seen(outcome)
                    on_trial(outcome, outcomes)
        finally:
            for future in pending:
                future.cancel()
    return sorted(outcomes, key=lambda o: o.record.number)


def _trial(study: optuna.Study, *, family: str, number: int, ctx: BuildContext, settings: SearchSettings,
           metric: Metric, y_val: np.ndarray, evaluate: Callable[[str, dict[str, Any]], np.ndarray],
           cap: TrialCap | None = None) -> TrialOutcome | None:
    """The trial's outcome; None when the time budget left no room for it (then it is not counted)."""
    module = get_family(family)
    pins, bounds = settings.overrides.for_family(family)
    trial = study.ask()
    source = str(trial.user_attrs.get("source", "search"))
    space = Space(trial, family=family, pins=pins, bounds=bounds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params = {**module.search_space(space, ctx), **space.extra_pins()}
    except TrainingError:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    device = str(params.get("device", ctx.device)) if family == "xgboost" else "cpu"
    started = time.perf_counter()
    pred, value, error, state, time_cut = None, None, "", "complete", None
    try:
        if cap is not None:
            params, time_cut = cap(family, params, pins)
            started = time.perf_counter()  # the probe's seconds are not the trial's (its refit costs these)
        pred = evaluate(family, params)
        value = metric.value(y_val, pred)
    except OutOfTime:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return None
    except (JobCancelled, TrainingError):
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    except Exception as exc:  # noqa: BLE001 - a learner refusing a (pinned or sampled) value: record, go on
        state, error, pred = "failed", f"{type(exc).__name__}: {exc}"[:500], None
    seconds = time.perf_counter() - started
    score = -math.inf
    if state == "complete":
        score = value if metric.greater_is_better else -value
        _tell(study, trial, score, params if time_cut else None)
    else:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    record = TrialRecord(number=number, family=family, params={k: (v.item() if isinstance(v, np.generic) else v)
                                                                 for k, v in params.items()},
                         state=state, source=source, cv_mean=value, cv_sd=None,
                         fold_scores=() if value is None else (float(value),), device=device,
                         fit_seconds=round(seconds, 4), error=error,
                         time_cut=_jsonable(time_cut) if time_cut else None)
    return TrialOutcome(record=record, pred=pred, score=score)
