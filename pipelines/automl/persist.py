"""Saving and loading a final model in native, safe formats (never pickle, never joblib).

A model directory holds ``manifest.json`` and one file per part: the fitted preprocessor and any
scikit-learn estimator through ``skops.io``, XGBoost boosters as ``.ubj``, LightGBM boosters as
text. The manifest records the model's structure (single, ensemble, calibrated), the class labels,
the library versions and the SHA-256 of every file. Loading checks every hash first and refuses a
skops file that holds a type outside an explicit allowlist, because loading an arbitrary type can
run arbitrary code.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import skops.io as sio
import xgboost
from sklearn.pipeline import Pipeline

from pipelines.automl.wrappers import (
    CalibratedModel,
    NativeLightGBM,
    ToMatrix,
    WeightedEnsemble,
)
from pipelines.errors import TrainingError

__all__ = ["FORMAT", "TRUSTED_TYPES", "LoadedModel", "load_model", "save_model", "trusted_types"]

FORMAT = "clinical-ml-workbench/model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# Types a saved skops file may hold beyond skops' own defaults (which cover scikit-learn's public
# estimators): the internals of the families' fitted trees and our own matrix step. Found by
# ``skops.io.get_untrusted_types`` on every family's fitted estimator; anything else is refused.
TRUSTED_TYPES: tuple[str, ...] = (
    "pipelines.automl.wrappers.ToMatrix",
    "pipelines.automl.models._impute.MedianImputer",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.compose._column_transformer.make_column_selector",
    "numpy.dtype",
)

_XGB_CLASSES = {"XGBClassifier": xgboost.XGBClassifier, "XGBRegressor": xgboost.XGBRegressor}


@dataclass(frozen=True)
class LoadedModel:
    model: Pipeline
    task: str
    classes: tuple[Any, ...]
    manifest: dict[str, Any]


def trusted_types(extra: Iterable[str] = ()) -> frozenset[str]:
    """Our allowlist, the recipe's custom transformers (when that package provides them), and
    whatever the caller adds explicitly."""
    names = set(TRUSTED_TYPES) | set(extra)
    try:
        from pipelines.recipe import (
            TRUSTED_TYPES as recipe_types,  # the preprocessor's own steps
        )
    except ImportError:
        recipe_types = ()
    names.update(recipe_types)
    return frozenset(names)


def save_model(model: Pipeline, directory: str | Path, *, task: str, classes: Iterable[Any] = (),
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``model`` (a final model from :func:`run_search`) into an empty or new directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise TrainingError("training.model_dir_not_empty", path=str(directory))
    steps = dict(model.steps)
    if set(steps) != {"preprocess", "to_matrix", "model"}:
        raise TrainingError("training.model_unknown_structure", steps=list(steps))
    files: list[str] = []
    sio.dump(steps["preprocess"], directory / "preprocess.skops")
    files.append("preprocess.skops")
    head = _save_node(steps["model"], directory, "model", files)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": task,
        "classes": [_plain(c) for c in classes],
        "preprocess": "preprocess.skops",
        "head": head,
        "files": {name: _sha256(directory / name) for name in files},
        "libraries": _versions(),
        "extra": extra or {},
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return manifest


def load_model(directory: str | Path, *, extra_trusted: Iterable[str] = ()) -> LoadedModel:
    """Read a model directory back, refusing changed files and untrusted types."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise TrainingError("training.model_manifest_missing", path=str(directory))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TrainingError("training.model_manifest_unreadable", path=str(path)) from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise TrainingError("training.model_format_unknown", found=str(manifest.get("format")))
    for name, digest in manifest["files"].items():
        file = directory / name
        if Path(name).name != name or not file.is_file() or _sha256(file) != digest:
            raise TrainingError("training.model_file_changed", file=name)
    allowed = trusted_types(extra_trusted)
    task = manifest["task"]
    n_classes = len(manifest["classes"])
    preprocess = _load_skops(directory / manifest["preprocess"], allowed)
    head = _load_node(manifest["head"], directory, allowed, task, n_classes, set(manifest["files"]))
    model = Pipeline([("preprocess", preprocess), ("to_matrix", ToMatrix()), ("model", head)])
    return LoadedModel(model=model, task=task, classes=tuple(manifest["classes"]), manifest=manifest)


def _save_node(node: Any, directory: Path, stem: str, files: list[str]) -> dict[str, Any]:
    if isinstance(node, CalibratedModel):
        return {"kind": "calibrated", "method": node.method, "parameters": list(node.parameters),
                "base": _save_node(node.base, directory, stem + "_base", files)}
    if isinstance(node, WeightedEnsemble):
        return {"kind": "ensemble", "weights": [float(w) for w in node.weights],
                "members": [_save_node(m, directory, f"{stem}_{i}", files) for i, m in enumerate(node.estimators)]}
    if isinstance(node, xgboost.XGBModel):
        name = stem + ".ubj"
        node.save_model(directory / name)
        files.append(name)
        return {"kind": "xgboost", "class": type(node).__name__, "file": name}
    if isinstance(node, (lightgbm.LGBMModel, NativeLightGBM)):
        name = stem + ".lgbm.txt"
        booster = node.booster_ if isinstance(node, lightgbm.LGBMModel) else node.booster
        booster.save_model(str(directory / name))
        files.append(name)
        return {"kind": "lightgbm", "file": name}
    name = stem + ".skops"
    sio.dump(node, directory / name)
    files.append(name)
    return {"kind": "skops", "file": name}


def _load_node(node: dict[str, Any], directory: Path, allowed: frozenset[str], task: str, n_classes: int,
               listed: set[str]) -> Any:
    kind = node.get("kind")
    if kind == "calibrated":
        base = _load_node(node["base"], directory, allowed, task, n_classes, listed)
        return CalibratedModel(base, node["method"], list(node["parameters"]), task, n_classes)
    if kind == "ensemble":
        members = [_load_node(m, directory, allowed, task, n_classes, listed) for m in node["members"]]
        return WeightedEnsemble(members, list(node["weights"]), task, n_classes)
    if node.get("file") not in listed:  # every file read must be one whose hash was checked
        raise TrainingError("training.model_file_changed", file=str(node.get("file")))
    path = directory / node["file"]
    if kind == "xgboost":
        cls = _XGB_CLASSES.get(node.get("class", ""))
        if cls is None:
            raise TrainingError("training.model_untrusted_types", types=[str(node.get("class"))])
        estimator = cls()
        estimator.load_model(path)
        return estimator
    if kind == "lightgbm":
        return NativeLightGBM(lightgbm.Booster(model_file=str(path)), task, n_classes)
    if kind == "skops":
        return _load_skops(path, allowed)
    raise TrainingError("training.model_format_unknown", found=str(kind))


def _load_skops(path: Path, allowed: frozenset[str]) -> Any:
    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise TrainingError("training.model_untrusted_types", types=refused)
    return sio.load(path, trusted=list(untrusted))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("scikit-learn", "xgboost", "lightgbm", "skops", "numpy", "pandas", "optuna"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
