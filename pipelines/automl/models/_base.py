"""What every model family module provides, and the search-space helper that applies overrides.

A family module declares ``name``, ``tasks``, ``native_format``, ``default_params(task)``,
``search_space(space, ctx)`` and ``build(params, ctx)``. Search spaces ask a :class:`Space` instead
of the Optuna trial directly, so a data scientist's pins and bounds apply to every family without
each family knowing about them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import optuna

from pipelines.errors import TrainingError

__all__ = ["BuildContext", "FamilyModule", "Space", "check_should_stop"]


@dataclass(frozen=True)
class BuildContext:
    """What a family needs to know about the run to build an estimator (never the data itself)."""

    task: str
    n_classes: int
    seed: int
    device: str = "cpu"
    class_counts: tuple[int, ...] = ()
    n_rows: int = 0
    n_features: int = 0
    should_stop: Callable[[], bool] | None = None
    # Called after every boosting round with its 0-based number (the time cap of a run's first
    # trial, ``pipelines.automl._schedule.RoundCap``); it may raise to end the fit.
    on_round: Callable[[int], None] | None = None

    @property
    def imbalance_ratio(self) -> float:
        """Negatives per positive in a binary task (XGBoost's ``scale_pos_weight``)."""
        if self.task != "binary" or len(self.class_counts) != 2 or self.class_counts[1] == 0:
            return 1.0
        return float(self.class_counts[0]) / float(self.class_counts[1])


class Space:
    """Asks the trial for a value unless the user pinned it; applies the user's bounds."""

    def __init__(
        self,
        trial: optuna.Trial | None,
        *,
        family: str,
        pins: dict[str, Any] | None = None,
        bounds: dict[str, tuple[Any, ...]] | None = None,
    ) -> None:
        self.trial = trial
        self.family = family
        self.pins = dict(pins or {})
        self.bounds = dict(bounds or {})
        self.asked: set[str] = set()

    def _key(self, name: str) -> str:
        return name

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.asked.add(name)
        if name in self.pins:
            return float(self.pins[name])
        low, high = self._range(name, low, high, log=log)
        return self.trial.suggest_float(name, float(low), float(high), log=log)

    def int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        self.asked.add(name)
        if name in self.pins:
            return int(self.pins[name])
        low, high = self._range(name, low, high, log=log)
        return self.trial.suggest_int(name, int(low), int(high), log=log)

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.asked.add(name)
        if name in self.pins:
            return self.pins[name]
        if name in self.bounds:
            choices = tuple(self.bounds[name])
        return self.trial.suggest_categorical(name, list(choices))

    def _range(self, name: str, low: float, high: float, *, log: bool) -> tuple[float, float]:
        if name not in self.bounds:
            return low, high
        bound = self.bounds[name]
        ok = len(bound) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bound)
        if not ok or bound[0] > bound[1] or (log and bound[0] <= 0):
            raise TrainingError("training.override_bad_range", family=self.family, param=name)
        return bound[0], bound[1]

    def extra_pins(self) -> dict[str, Any]:
        """Pinned values the search space never asks for (``tree_method``, ``device``...): they
        go straight to the estimator, which rejects names it does not know."""
        return {k: v for k, v in self.pins.items() if k not in self.asked}


class FamilyModule(Protocol):
    name: str
    tasks: tuple[str, ...]
    native_format: str

    def default_params(self, ctx: BuildContext) -> dict[str, Any]: ...

    def search_space(self, space: Space, ctx: BuildContext) -> dict[str, Any]: ...

    def build(self, params: dict[str, Any], ctx: BuildContext) -> Any: ...


def check_should_stop(ctx: BuildContext) -> None:
    """Raise the cooperative-cancel error when the job runner asks us to stop."""
    if ctx.should_stop is not None and ctx.should_stop():
        from pipelines.errors import JobCancelled

        raise JobCancelled("training.cancelled")


def class_weight_choice(space: Space, ctx: BuildContext) -> Any:
    """Balanced class weights are one choice among two for classification, never forced: they
    help ranking on rare outcomes but hurt calibration (which the calibration step can repair)."""
    if ctx.task == "regression":
        return None
    return space.categorical("class_weight", [None, "balanced"])


def as_float_matrix(X: Any) -> np.ndarray:
    return np.asarray(X, dtype=np.float64)
