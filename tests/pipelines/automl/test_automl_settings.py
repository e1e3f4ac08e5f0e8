"""Settings round-trip through JSON; overrides parse from YAML/JSON, including legacy gpu_hist."""

from __future__ import annotations

import json

import pytest

from pipelines.automl.device import ProbeResult
from pipelines.automl.settings import Overrides, SearchSettings, parse_overrides
from pipelines.errors import TrainingError

NO_GPU = ProbeResult(cuda=False, effective_device="cpu", detail="substituted probe: no GPU")
GPU = ProbeResult(cuda=True, effective_device="cuda:0", detail="substituted probe: GPU")


def test_settings_json_round_trip():
    overrides, _ = parse_overrides('{"xgboost": {"max_depth": 3, "eta": [0.01, 0.2]}}', probe=lambda: NO_GPU)
    settings = SearchSettings(families=("linear", "xgboost"), n_trials=7, time_budget_s=12.5, seed=9,
                              metric="brier", overrides=overrides, device="cpu", calibration=False, ensemble=False,
                              enqueue=({"family": "linear", "params": {"C": 0.3}},))
    text = settings.to_json()
    assert json.loads(text)["overrides"]["bounds"] == {"xgboost": {"eta": [0.01, 0.2]}}
    assert SearchSettings.from_json(text) == settings


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"familes": ["linear"]}, "training.unknown_setting"),
        ({"families": ["svm"]}, "training.unknown_family"),
        ({"families": []}, "training.no_families"),
        ({"n_trials": None, "time_budget_s": None}, "training.no_budget"),
        ({"n_trials": 0}, "training.bad_budget"),
        ({"time_budget_s": -1}, "training.bad_budget"),
        ({"metric": "accuracy"}, "training.unknown_metric"),
        ({"device": "tpu"}, "training.unknown_device"),
        ({"families": ["linear", "linear"]}, "training.duplicate_family"),
    ],
)
def test_bad_settings_are_named(data, key):
    with pytest.raises(TrainingError) as info:
        SearchSettings.from_dict(data)
    assert info.value.key == key


def test_yaml_pins_and_bounds():
    text = """
    xgboost:
      max_depth: 4
      learning_rate: [0.01, 0.1]
      grow_policy: [depthwise, lossguide]
    linear:
      C: {low: 0.1, high: 10}
    """
    overrides, notices = parse_overrides(text, probe=lambda: pytest.fail("probe not needed"))
    assert notices == ()
    assert overrides.pins == {"xgboost": {"max_depth": 4}}
    assert overrides.bounds == {"xgboost": {"learning_rate": (0.01, 0.1), "grow_policy": ("depthwise", "lossguide")},
                                "linear": {"C": (0.1, 10)}}
    assert Overrides.from_dict(overrides.to_dict()) == overrides


def test_legacy_gpu_hist_with_substituted_probe_no_gpu_runs_on_cpu():
    overrides, notices = parse_overrides("xgboost:\n  tree_method: gpu_hist\n", probe=lambda: NO_GPU)
    assert overrides.pins == {"xgboost": {"tree_method": "hist"}}  # device dropped: there is no GPU
    assert [n.key for n in notices] == ["training.gpu_hist_translated", "training.override_gpu_runs_on_cpu"]
    assert notices[0].params == {"family": "xgboost"}


def test_legacy_gpu_hist_with_substituted_probe_gpu_translates_to_cuda():
    overrides, notices = parse_overrides('{"xgboost": {"tree_method": "gpu_hist"}}', probe=lambda: GPU)
    assert overrides.pins == {"xgboost": {"tree_method": "hist", "device": "cuda"}}
    assert [n.key for n in notices] == ["training.gpu_hist_translated"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("xgboost: [unclosed", "training.overrides_unreadable"),
        ("- just\n- a list\n", "training.overrides_not_mapping"),
        ("forestry: {max_depth: 3}", "training.unknown_family"),
        ("xgboost: 3", "training.overrides_family_not_mapping"),
        ("xgboost: {max_depth: [9, 2]}", "training.override_bad_range"),
        ("xgboost: {max_depth: {low: 1}}", "training.override_bad_range"),
        ("xgboost: {max_depth: []}", "training.override_bad_range"),
    ],
)
def test_bad_overrides_are_named(text, key):
    with pytest.raises(TrainingError) as info:
        parse_overrides(text, probe=lambda: NO_GPU)
    assert info.value.key == key


def test_empty_overrides():
    assert parse_overrides("   ", probe=lambda: NO_GPU) == (Overrides(), ())
