"""Device selection, tested with the probe substituted (named as such), plus the real probe."""

from __future__ import annotations

import pytest

from pipelines.automl.device import ProbeResult, probe_cuda, resolve_device
from pipelines.errors import TrainingError

NO_GPU = ProbeResult(cuda=False, effective_device="cpu", detail="substituted probe")
GPU = ProbeResult(cuda=True, effective_device="cuda:0", detail="substituted probe")


def test_auto_with_substituted_probe_gpu_picks_cuda():
    choice = resolve_device("auto", probe=lambda: GPU)
    assert choice.device == "cuda"
    assert [n.key for n in choice.notices] == ["training.device_gpu"]


def test_auto_with_substituted_probe_no_gpu_falls_back_and_says_so():
    choice = resolve_device("auto", probe=lambda: NO_GPU)
    assert choice.device == "cpu"
    assert [n.key for n in choice.notices] == ["training.device_cpu_no_gpu"]


@pytest.mark.parametrize("requested", ["gpu", "cuda", "GPU"])
def test_explicit_gpu_with_substituted_probe_no_gpu_is_a_clear_error(requested):
    with pytest.raises(TrainingError) as info:
        resolve_device(requested, probe=lambda: NO_GPU)
    assert info.value.key == "training.gpu_unavailable"


def test_explicit_gpu_with_substituted_probe_gpu():
    assert resolve_device("gpu", probe=lambda: GPU).device == "cuda"


def test_cpu_never_probes():
    choice = resolve_device("cpu", probe=lambda: pytest.fail("cpu must not probe"))
    assert choice.device == "cpu" and choice.notices == ()


def test_unknown_device():
    with pytest.raises(TrainingError) as info:
        resolve_device("tpu", probe=lambda: NO_GPU)
    assert info.value.key == "training.unknown_device"


def test_real_probe_reads_the_effective_device_from_the_booster():
    result = probe_cuda()
    assert result.effective_device == "cpu" or result.effective_device.startswith("cuda")
    assert result.cuda == result.effective_device.startswith("cuda")
    assert resolve_device("auto").device == ("cuda" if result.cuda else "cpu")


def test_mock_gpu_routes_only_xgboost_to_cuda(heart_failure, monkeypatch):
    """With the device choice substituted (mock GPU) and the CuPy transfer replaced by a recorder,
    XGBoost trains with device="cuda" (falling back inside XGBoost on this CPU machine) and every
    other family stays on the CPU; the trials table says which device each trial used."""
    import numpy as np

    from pipelines.automl import SearchSettings, run_search
    from pipelines.automl.device import DeviceChoice
    from pipelines.automl.models import xgb
    from tests.pipelines.automl.helpers import make_plan, make_preprocessor

    transfers = []

    def recording_transfer(X, device):
        transfers.append(device)
        return np.asarray(X)

    monkeypatch.setattr(xgb, "to_device_array", recording_transfer)
    X, y = heart_failure
    settings = SearchSettings(families=("linear", "xgboost"), n_trials=3, time_budget_s=None)
    result = run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                        settings=settings, device_choice=DeviceChoice("cuda", "auto"))
    devices = {(t.family, t.device) for t in result.trials}
    assert devices == {("linear", "cpu"), ("xgboost", "cuda")}
    assert all(t.state == "complete" for t in result.trials)
    assert transfers and set(transfers) == {"cuda"}
    assert result.device == "cuda"
