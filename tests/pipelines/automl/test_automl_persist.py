"""Saving a searched model (ensemble / calibrated) and loading it back safely."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer

from pipelines.automl import SearchSettings, run_search
from pipelines.automl.persist import _sha256, load_model, save_model
from pipelines.errors import TrainingError
from tests.pipelines.automl.helpers import CPU, make_plan, make_preprocessor


@pytest.fixture(scope="module")
def searched(heart_failure):
    X, y = heart_failure
    settings = SearchSettings(families=("linear", "lightgbm", "xgboost"), n_trials=4,
                              time_budget_s=None, seed=0)
    return run_search(X=X, y=y, plan=make_plan(y), task="binary", make_preprocessor=make_preprocessor,
                      settings=settings, device_choice=CPU)


def test_round_trip_gives_identical_predictions(searched, heart_failure, tmp_path):
    X, _ = heart_failure
    manifest = save_model(searched.model, tmp_path / "model", task="binary", classes=searched.classes,
                          extra={"metric": searched.metric})
    assert manifest["libraries"]["xgboost"] and manifest["libraries"]["scikit-learn"]
    assert all(len(h) == 64 for h in manifest["files"].values())
    assert not any(p.suffix in {".pkl", ".joblib", ".pickle"} for p in (tmp_path / "model").iterdir())
    loaded = load_model(tmp_path / "model")
    assert loaded.classes == searched.classes and loaded.task == "binary"
    assert np.array_equal(loaded.model.predict_proba(X), searched.model.predict_proba(X))
    assert loaded.manifest["head"]["kind"] in {"calibrated", "ensemble", "xgboost", "lightgbm", "skops"}


def test_refuses_to_overwrite(searched, tmp_path):
    save_model(searched.model, tmp_path, task="binary", classes=searched.classes)
    with pytest.raises(TrainingError) as info:
        save_model(searched.model, tmp_path, task="binary", classes=searched.classes)
    assert info.value.key == "training.model_dir_not_empty"


def test_changed_file_is_refused(searched, tmp_path):
    save_model(searched.model, tmp_path / "m", task="binary", classes=searched.classes)
    target = tmp_path / "m" / "preprocess.skops"
    target.write_bytes(target.read_bytes() + b"\0")
    with pytest.raises(TrainingError) as info:
        load_model(tmp_path / "m")
    assert info.value.key == "training.model_file_changed" and info.value.params["file"] == "preprocess.skops"
    with pytest.raises(TrainingError) as info:
        load_model(tmp_path / "nothing-here")
    assert info.value.key == "training.model_manifest_missing"


def test_untrusted_type_is_refused_even_with_a_matching_hash(searched, tmp_path):
    model_dir = tmp_path / "m"
    save_model(searched.model, model_dir, task="binary", classes=searched.classes)
    # An attacker swaps the preprocessor for one that calls an arbitrary function, and fixes the hash.
    sio.dump(FunctionTransformer(func=shutil.rmtree), model_dir / "preprocess.skops")
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["files"]["preprocess.skops"] = _sha256(model_dir / "preprocess.skops")
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TrainingError) as info:
        load_model(model_dir)
    assert info.value.key == "training.model_untrusted_types"
    assert any("rmtree" in t for t in info.value.params["types"])


def test_a_manifest_cannot_point_outside_the_folder(searched, tmp_path):
    model_dir = tmp_path / "m"
    save_model(searched.model, model_dir, task="binary", classes=searched.classes)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["files"]["../elsewhere.skops"] = "0" * 64
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TrainingError) as info:
        load_model(model_dir)
    assert info.value.key == "training.model_file_changed"


def test_nested_calibrated_ensemble_round_trip(searched, heart_failure, tmp_path):
    from sklearn.pipeline import Pipeline

    from pipelines.automl.wrappers import CalibratedModel, ToMatrix, WeightedEnsemble

    X, _ = heart_failure
    head = searched.model.named_steps["model"]
    nested = CalibratedModel(WeightedEnsemble([head, head], [0.25, 0.75], "binary", 2), "isotonic",
                             [{"x": [0.0, 0.3, 1.0], "y": [0.05, 0.4, 0.9]}], "binary", 2)
    model = Pipeline([("preprocess", searched.model.named_steps["preprocess"]), ("to_matrix", ToMatrix()),
                      ("model", nested)])
    manifest = save_model(model, tmp_path / "m", task="binary", classes=searched.classes)
    assert manifest["head"]["kind"] == "calibrated" and manifest["head"]["base"]["kind"] == "ensemble"
    loaded = load_model(tmp_path / "m")
    assert np.array_equal(loaded.model.predict_proba(X), model.predict_proba(X))
