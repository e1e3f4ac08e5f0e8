"""Search settings and hyperparameter overrides, as frozen values that round-trip through JSON.

A run stores its settings next to its results, so they must be plain data: the same JSON gives
the same search. Overrides are what a data scientist types (YAML or JSON): per family, a scalar
*pins* a hyperparameter, a ``[low, high]`` pair or ``{low, high}`` *bounds* a numeric range and a
list restricts a categorical one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import yaml

from pipelines.automl.device import DEVICES, Notice, ProbeResult, probe_cuda
from pipelines.automl.metrics import METRICS
from pipelines.errors import TrainingError

__all__ = ["ALL_FAMILIES", "Overrides", "SearchSettings", "parse_overrides"]

# Kept here (not imported from the registry) so settings stay importable without the ML stack.
ALL_FAMILIES = ("linear", "forest", "xgboost", "lightgbm", "hist_gb")
_JSONScalar = str | int | float | bool | None


@dataclass(frozen=True)
class Overrides:
    """Per family: ``pins`` fix a value, ``bounds`` narrow (or widen) what the search may try.

    A bound is ``(low, high)`` for a numeric hyperparameter or a tuple of allowed values for a
    categorical one; which it is, the family's search space decides when it asks for the value.
    """

    pins: dict[str, dict[str, _JSONScalar]] = field(default_factory=dict)
    bounds: dict[str, dict[str, tuple[Any, ...]]] = field(default_factory=dict)

    def for_family(self, family: str) -> tuple[dict[str, _JSONScalar], dict[str, tuple[Any, ...]]]:
        return dict(self.pins.get(family, {})), dict(self.bounds.get(family, {}))

    def applied(self, family: str, params: dict[str, Any]) -> dict[str, Any]:
        """A configuration tried first (a family's default, a recommended one) kept inside the bounds.

        Optuna runs an enqueued value outside the range it is asked for (it only warns), so a number
        outside a ``(low, high)`` bound is moved to the nearer end, and a value a bound does not list
        is left out for the search to choose. Pins need nothing here: the space never asks for them.
        """
        out = dict(params)
        for name, bound in self.bounds.get(family, {}).items():
            if name not in out or out[name] in bound:
                continue
            value = out[name]
            numeric = len(bound) == 2 and all(_is_number(v) for v in (*bound, value))
            if numeric:
                out[name] = type(value)(min(max(value, bound[0]), bound[1]))
            else:
                del out[name]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "pins": {f: dict(p) for f, p in self.pins.items()},
            "bounds": {f: {k: list(v) for k, v in b.items()} for f, b in self.bounds.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Overrides:
        data = data or {}
        unknown = set(data) - {"pins", "bounds"}
        if unknown:
            raise TrainingError("training.unknown_setting", names=sorted(unknown))
        pins = {str(f): dict(p) for f, p in (data.get("pins") or {}).items()}
        bounds = {str(f): {str(k): tuple(v) for k, v in b.items()} for f, b in (data.get("bounds") or {}).items()}
        for family in set(pins) | set(bounds):
            _check_family(family)
        return cls(pins=pins, bounds=bounds)


@dataclass(frozen=True)
class SearchSettings:
    """Everything the search needs besides the data and the split (folds come from the plan).

    ``enqueue`` holds ``{"family": ..., "params": {...}}`` configurations tried first, in order:
    the recommended ones from similar tables.
    """

    families: tuple[str, ...] = ALL_FAMILIES
    n_trials: int | None = None
    time_budget_s: float | None = 60.0
    seed: int = 0
    metric: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    device: str = "auto"
    calibration: bool = True
    ensemble: bool = True
    enqueue: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not self.families:
            raise TrainingError("training.no_families", allowed=list(ALL_FAMILIES))
        for family in self.families:
            _check_family(family)
        if len(set(self.families)) != len(self.families):
            raise TrainingError("training.duplicate_family", families=list(self.families))
        if self.n_trials is None and self.time_budget_s is None:
            raise TrainingError("training.no_budget")
        if self.n_trials is not None and (not isinstance(self.n_trials, int) or self.n_trials < 1):
            raise TrainingError("training.bad_budget", name="n_trials", value=self.n_trials)
        if self.time_budget_s is not None and not (
            isinstance(self.time_budget_s, (int, float)) and math.isfinite(self.time_budget_s) and self.time_budget_s > 0
        ):
            raise TrainingError("training.bad_budget", name="time_budget_s", value=self.time_budget_s)
        if self.metric is not None and self.metric not in METRICS:
            raise TrainingError("training.unknown_metric", metric=self.metric, allowed=sorted(METRICS))
        if self.device not in DEVICES:
            raise TrainingError("training.unknown_device", device=self.device, allowed=list(DEVICES))
        for item in self.enqueue:
            if not isinstance(item, dict) or set(item) != {"family", "params"}:
                raise TrainingError("training.bad_enqueue", item=str(item)[:200])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "overrides":
                value = value.to_dict()
            elif f.name == "families":
                value = list(value)
            elif f.name == "enqueue":
                value = [{"family": i["family"], "params": dict(i["params"])} for i in value]
            out[f.name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise TrainingError("training.unknown_setting", names=sorted(unknown))
        kwargs = dict(data)
        if "families" in kwargs:
            kwargs["families"] = tuple(kwargs["families"])
        if "overrides" in kwargs:
            kwargs["overrides"] = Overrides.from_dict(kwargs["overrides"])
        if "enqueue" in kwargs:
            kwargs["enqueue"] = tuple({"family": i["family"], "params": dict(i["params"])} for i in kwargs["enqueue"])
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> SearchSettings:
        return cls.from_dict(json.loads(text))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_family(name: str) -> None:
    if name not in ALL_FAMILIES:
        raise TrainingError("training.unknown_family", family=name, allowed=list(ALL_FAMILIES))


def parse_overrides(
    text: str, *, probe: Callable[[], ProbeResult] = probe_cuda
) -> tuple[Overrides, tuple[Notice, ...]]:
    """Read a YAML or JSON mapping ``{family: {param: value | [low, high] | {low, high}}}``.

    The legacy ``tree_method: gpu_hist`` (removed in XGBoost 3.1) is accepted and translated to
    ``device: cuda, tree_method: hist`` with a notice; a CUDA pin on a machine whose probe finds no
    GPU is kept off the run (it trains on the CPU) and a notice says so.
    """
    if not text or not text.strip():
        return Overrides(), ()
    try:
        data = yaml.safe_load(text)  # JSON is YAML, so one parser reads both
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TrainingError("training.overrides_unreadable", line=(mark.line + 1) if mark else 0) from exc
    if data is None:
        return Overrides(), ()
    if not isinstance(data, dict):
        raise TrainingError("training.overrides_not_mapping")
    pins: dict[str, dict[str, Any]] = {}
    bounds: dict[str, dict[str, tuple[Any, ...]]] = {}
    notices: list[Notice] = []
    for family, params in data.items():
        family = str(family)
        _check_family(family)
        if params is None:
            continue
        if not isinstance(params, dict):
            raise TrainingError("training.overrides_family_not_mapping", family=family)
        for name, value in params.items():
            name = str(name)
            if isinstance(value, dict):
                if set(value) != {"low", "high"}:
                    raise TrainingError("training.override_bad_range", family=family, param=name)
                value = [value["low"], value["high"]]
            if isinstance(value, list):
                if not value:
                    raise TrainingError("training.override_bad_range", family=family, param=name)
                numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                if numeric and len(value) == 2 and value[0] > value[1]:
                    raise TrainingError("training.override_bad_range", family=family, param=name)
                bounds.setdefault(family, {})[name] = tuple(value)
            elif isinstance(value, (str, int, float, bool)) or value is None:
                pins.setdefault(family, {})[name] = value
            else:
                raise TrainingError("training.override_bad_value", family=family, param=name)
        family_pins = pins.get(family, {})
        if family_pins.get("tree_method") == "gpu_hist":
            family_pins["tree_method"] = "hist"
            family_pins["device"] = "cuda"
            notices.append(Notice("training.gpu_hist_translated", {"family": family}))
        device = family_pins.get("device")
        if isinstance(device, str) and device.startswith(("cuda", "gpu")):
            if device.startswith("gpu"):
                family_pins["device"] = "cuda"
            if not probe().cuda:
                del family_pins["device"]
                notices.append(Notice("training.override_gpu_runs_on_cpu", {"family": family}))
    pins = {f: p for f, p in pins.items() if p}
    return Overrides(pins=pins, bounds=bounds), tuple(notices)
