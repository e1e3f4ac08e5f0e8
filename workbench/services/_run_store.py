"""Turning a finished search into the stored run format, and reading it back.

The format is a contract with the results dashboard and the paper pack: one ``Run`` row, one
``ModelRow`` per leaderboard model (rank 1 is the final model chosen by validation), a ZIP of each
model's ``persist.save_model`` directory and one Parquet file of out-of-fold and holdout
predictions for every stored model. The search hands back every leaderboard model (the final
one and the best configuration of each family) fitted on the whole training part, with the
out-of-fold predictions it scored and its holdout predictions, so nothing is refitted here.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.pipeline import Pipeline

from pipelines.automl import SearchResult
from pipelines.automl.persist import LoadedModel, load_model, save_model
from pipelines.errors import TrainingError
from workbench.artifacts import ArtifactStore

__all__ = [
    "StoredModel",
    "leaderboard_models",
    "library_versions",
    "load_model_zip",
    "model_zip",
    "plain",
    "predictions_frame",
    "predictions_parquet",
]

_LIBRARIES = ("scikit-learn", "xgboost", "lightgbm", "optuna", "skops", "numpy", "pandas", "pyarrow")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same model directory gives the same ZIP digest


@dataclass(frozen=True)
class StoredModel:
    """One leaderboard model with everything the run format keeps about it."""

    name: str  # family name, or "ensemble"
    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_sd: float
    test_score: float | None
    oof_score: float | None
    device: str
    fit_seconds: float
    trial_number: int | None
    final: bool
    calibration: str
    model: Pipeline
    oof: np.ndarray  # train part, plan order
    test: np.ndarray  # test part, plan order


def plain(value: Any) -> Any:
    """A JSON-ready value (NumPy scalars become Python ones)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def library_versions() -> dict[str, str]:
    out = {}
    for dist in _LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def leaderboard_models(*, result: SearchResult) -> list[StoredModel]:
    """The final model first, then the best model of every other family, in leaderboard order:
    the models the search fitted, with the predictions it scored them by (nothing is refitted)."""
    rows = {r.name: r for r in result.leaderboard}
    out = []
    for fitted in result.fitted():
        row = rows.get(fitted.name)
        out.append(StoredModel(
            name=fitted.name, family=fitted.family, params=plain(row.params) if row else {},
            cv_mean=row.cv_mean if row else float(fitted.oof_score), cv_sd=row.cv_sd if row else 0.0,
            test_score=fitted.test_score, oof_score=fitted.oof_score, device=row.device if row else result.device,
            fit_seconds=row.fit_seconds if row else 0.0, trial_number=row.trial_number if row else None,
            final=fitted.final, calibration=fitted.calibration, model=fitted.model, oof=fitted.oof_predictions,
            test=fitted.test_predictions,
        ))
    return out


def model_zip(model: Pipeline, *, task: str, classes: tuple[Any, ...], extra: dict[str, Any]) -> bytes:
    """The ``persist.save_model`` directory of ``model`` as ZIP bytes (sorted names, fixed times)."""
    with tempfile.TemporaryDirectory(prefix="wb-model-") as scratch:
        directory = Path(scratch) / "model"
        save_model(model, directory, task=task, classes=[plain(c) for c in classes], extra=extra)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(directory.iterdir()):
                info = zipfile.ZipInfo(path.name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        return buffer.getvalue()


def load_model_zip(store: ArtifactStore, digest: str) -> LoadedModel:
    """Unpack a stored model ZIP into a private folder and load it (hashes and types checked)."""
    path = store.verified_path(digest)
    with tempfile.TemporaryDirectory(prefix="wb-model-") as scratch:
        directory = Path(scratch)
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if Path(info.filename).name != info.filename or info.is_dir() or info.filename.startswith("."):
                    raise TrainingError("training.model_file_changed", file=info.filename[:200])
                (directory / info.filename).write_bytes(archive.read(info))
        return load_model(directory)


def predictions_frame(*, models: list[tuple[int, StoredModel]], result: SearchResult,
                      fold_of_row: np.ndarray) -> pd.DataFrame:
    """One row per (model, prepared-frame row): out-of-fold for the training part, holdout for the test part.

    ``y_true`` is 0/1 (1 = the positive class) for a binary outcome, the class label for a
    multiclass one, and the value for regression; ``probability`` is P(positive), ``p_<class>``
    one column per class, ``prediction`` the predicted value.
    """
    task = result.task
    y_train, y_test = _labels(result.y_train, result), _labels(result.y_test, result)
    parts = []
    for model_id, stored in models:
        for part, rows, folds, y, pred in (
            ("train", result.train_index, fold_of_row, y_train, stored.oof),
            ("test", result.test_index, np.full(len(result.test_index), -1), y_test, stored.test),
        ):
            if len(rows) == 0:
                continue
            frame = pd.DataFrame({"model_id": np.full(len(rows), model_id, dtype=np.int64),
                                  "row": np.asarray(rows, dtype=np.int64), "part": part,
                                  "fold": np.asarray(folds, dtype=np.int64), "y_true": y})
            if task == "regression":
                frame["prediction"] = np.asarray(pred, dtype=np.float64)
            elif task == "binary":
                frame["probability"] = np.asarray(pred, dtype=np.float64)[:, 1]
            else:
                for k, label in enumerate(result.classes):
                    frame[f"p_{label}"] = np.asarray(pred, dtype=np.float64)[:, k]
            parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _labels(encoded: np.ndarray, result: SearchResult) -> np.ndarray:
    if result.task == "regression":
        return np.asarray(encoded, dtype=np.float64)
    if result.task == "binary":
        return np.asarray(encoded, dtype=np.int64)
    labels = [plain(c) for c in result.classes]
    values = [labels[int(k)] for k in encoded]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels):
        return np.asarray(values)
    return np.asarray([str(v) for v in values], dtype=object)


def predictions_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()
