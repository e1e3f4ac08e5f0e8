"""Evaluation results as JSON and back: the stored form of "computed once".

The evaluation dataclasses hold NumPy arrays, tuples and nested dataclasses. They are written as
plain JSON with small tags (``{"__type__": "RocCurve", ...}``, ``{"__nd__": [...]}``) and read back
only into the classes listed here, so a stored file can never make the reader build anything
else (no pickle anywhere).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from pipelines import evaluation as ev

__all__ = ["dumps", "loads", "register"]

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        ev.Estimate, ev.BinaryMetrics, ev.ConfusionMatrix, ev.ThresholdChoice, ev.RocCurve, ev.PrCurve,
        ev.CalibrationCurve, ev.ThresholdCurve, ev.DecisionCurve, ev.DeLongTest, ev.Contributions,
        ev.FeatureImportance, ev.ClassMetrics, ev.MulticlassMetrics, ev.RegressionMetrics,
        ev.SubgroupPerformance, ev.SubgroupRow, ev.TableOne, ev.TableOneRow, ev.MulticlassCurves,
    )
}


def register(cls: type) -> type:
    """Allow one more (frozen) dataclass in stored results; used as a class decorator."""
    _TYPES[cls.__name__] = cls
    return cls


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {"__float__": repr(value)}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"__type__": type(value).__name__}
        for field in dataclasses.fields(value):
            out[field.name] = _encode(getattr(value, field.name))
        return out
    if isinstance(value, np.ndarray):
        return {"__nd__": _encode(value.tolist()), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {"__map__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__nd__" in value:
        data = _decode(value["__nd__"])
        return np.array(data, dtype=np.dtype(value["dtype"])) if data else np.array([], dtype=np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__map__" in value:
        return {_decode(k): _decode(v) for k, v in value["__map__"]}
    if "__type__" in value:
        cls = _TYPES.get(value["__type__"])
        if cls is None:
            raise ValueError(f"unknown stored type {value['__type__']!r}")
        return cls(**{k: _decode(v) for k, v in value.items() if k != "__type__"})
    return {k: _decode(v) for k, v in value.items()}


def dumps(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys), so equal results give the same artifact digest."""
    return json.dumps(_encode(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> Any:
    return _decode(json.loads(data.decode("utf-8")))
