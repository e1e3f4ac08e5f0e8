"""Which device a search trains on, decided by asking XGBoost rather than guessing.

``device="cuda"`` does not fail on a machine without a usable GPU: XGBoost logs a warning and
trains on the CPU. So the probe fits a tiny booster with ``device="cuda"`` and reads the device
the learner *actually* used back from its saved configuration. CuPy and cuDF are imported only
after the probe said yes, so a CPU machine never needs them installed.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from pipelines.errors import TrainingError

__all__ = [
    "DEVICES",
    "DeviceChoice",
    "Notice",
    "ProbeResult",
    "enable_cudf_pandas",
    "probe_cuda",
    "resolve_device",
    "to_device_array",
]

# What a user may ask for; "gpu" is the word the settings page uses, "cuda" the one XGBoost uses.
DEVICES = ("auto", "cpu", "cuda", "gpu")


@dataclass(frozen=True)
class Notice:
    """Something the run wants the user to know (a message key for the catalogues + params)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        return cls(str(data["key"]), dict(data.get("params", {})))


@dataclass(frozen=True)
class ProbeResult:
    """What the XGBoost probe saw: the device the booster really used, and why if not CUDA."""

    cuda: bool
    effective_device: str
    detail: str = ""


@dataclass(frozen=True)
class DeviceChoice:
    """The device a run uses and the notices that explain the choice to the user."""

    device: str  # "cpu" | "cuda"
    requested: str
    notices: tuple[Notice, ...] = ()


@cache
def probe_cuda() -> ProbeResult:
    """Fit a 1-round booster on 16 rows with ``device="cuda"`` and read back the device used."""
    import xgboost

    rng = np.random.default_rng(0)
    X = rng.random((16, 2))
    y = (X[:, 0] > 0.5).astype(float)
    detail = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            booster = xgboost.train(
                {"device": "cuda", "tree_method": "hist", "verbosity": 0},
                xgboost.DMatrix(X, label=y),
                num_boost_round=1,
            )
        except xgboost.core.XGBoostError as exc:  # a CUDA build with a broken driver raises
            return ProbeResult(cuda=False, effective_device="cpu", detail=str(exc).splitlines()[0])
    detail = "; ".join(str(w.message).strip() for w in caught)
    config = json.loads(booster.save_config())
    effective = str(config["learner"]["generic_param"].get("device", "cpu"))
    return ProbeResult(cuda=effective.startswith("cuda"), effective_device=effective, detail=detail)


def resolve_device(requested: str, *, probe: Callable[[], ProbeResult] = probe_cuda) -> DeviceChoice:
    """``auto`` takes the GPU when the probe finds one and says so when it does not; an explicit
    ``cuda``/``gpu`` on a machine without one is an error rather than a silent CPU run."""
    requested = (requested or "auto").lower()
    if requested not in DEVICES:
        raise TrainingError("training.unknown_device", device=requested, allowed=list(DEVICES))
    if requested == "cpu":
        return DeviceChoice("cpu", requested)
    result = probe()
    if result.cuda:
        return DeviceChoice("cuda", requested, (Notice("training.device_gpu", {"device": result.effective_device}),))
    if requested == "auto":
        return DeviceChoice("cpu", requested, (Notice("training.device_cpu_no_gpu"),))
    raise TrainingError("training.gpu_unavailable", requested=requested)


def enable_cudf_pandas() -> bool:
    """Route data-level pandas work through cuDF; only ever called after the probe said yes."""
    try:
        import cudf.pandas
    except ImportError:
        return False
    cudf.pandas.install()
    return True


def to_device_array(X: np.ndarray, device: str) -> Any:
    """The matrix XGBoost should see: a CuPy array on a GPU (so it builds its QuantileDMatrix on
    the device), the NumPy array otherwise."""
    if device != "cuda":
        return X
    import cupy  # optional GPU extra, imported only after the probe said yes

    return cupy.asarray(X)
