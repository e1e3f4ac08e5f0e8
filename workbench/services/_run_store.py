"""Turning a finished search into the stored run format, and reading it back.

The format is a contract with the results dashboard and the paper pack: one ``Run`` row, one
``ModelRow`` per leaderboard model (rank 1 is the final model chosen by validation), a ZIP of each
model's ``persist.save_model`` directory and one Parquet file of out-of-fold and holdout
predictions for every stored model. The search returns only the final model and its predictions,
so every other leaderboard model (the best configuration of each family) is refitted here with
the same folds, preprocessor and seed: deterministic learners make its out-of-fold predictions the
ones the search scored.
"""

from __future__ import annotations

import io
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from pipelines.automl import SearchResult
from pipelines.automl.metrics import get_metric
from pipelines.automl.models import BuildContext, fit_estimator, get_family
from pipelines.automl.persist import LoadedModel, load_model, save_model
from pipelines.automl.wrappers import ToMatrix, predict_matrix
from pipelines.errors import TrainingError
from workbench.artifacts import ArtifactStore

__all__ = ["StoredModel", "leaderboard_models", "model_zip", "load_model_zip", "predictions_frame",
           "predictions_parquet", "library_versions", "plain"]

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


def leaderboard_models(*, result: SearchResult, X: pd.DataFrame, y: pd.Series,
                       make_preprocessor: Callable[[], Any], folds: tuple[tuple[np.ndarray, np.ndarray], ...],
                       should_stop: Callable[[], bool] | None = None) -> list[StoredModel]:
    """The final model first, then the best model of every other family, in leaderboard order."""
    metric = get_metric(result.metric, result.task)
    final_row = next(r for r in result.leaderboard if r.selected)
    final = StoredModel(
        name=final_row.name, family=final_row.family, params=plain(final_row.params), cv_mean=final_row.cv_mean,
        cv_sd=final_row.cv_sd, test_score=result.final.test_score, oof_score=result.final.oof_score,
        device=final_row.device, fit_seconds=final_row.fit_seconds, trial_number=final_row.trial_number, final=True,
        calibration=result.final.calibration, model=result.model, oof=result.oof_predictions,
        test=result.test_predictions,
    )
    others = [r for r in result.leaderboard if not r.selected and r.family != "ensemble"]
    if not others:
        return [final]
    refit = _Refitter(result=result, X=X, y=y, make_preprocessor=make_preprocessor, folds=folds,
                      should_stop=should_stop)
    out = [final]
    for row in others:
        model, oof, test = refit.model_for(row.family, row.params, row.device)
        covered = ~np.isnan(oof if oof.ndim == 1 else oof[:, 0])
        test_score = _score(metric, result.y_test, test)
        out.append(StoredModel(
            name=row.name, family=row.family, params=plain(row.params), cv_mean=row.cv_mean, cv_sd=row.cv_sd,
            test_score=test_score, oof_score=_score(metric, result.y_train[covered], oof[covered]),
            device=row.device, fit_seconds=row.fit_seconds, trial_number=row.trial_number, final=False,
            calibration="none" if result.task != "regression" else "not applicable", model=model, oof=oof, test=test,
        ))
    return out


def _score(metric: Any, y: np.ndarray, pred: np.ndarray) -> float | None:
    if len(y) == 0:
        return None
    try:
        return float(metric.value(y, pred))
    except ValueError:  # one class only in this part: no AUROC
        return None


class _Refitter:
    """Fits one family's configuration per fold (out-of-fold predictions) and on the whole
    training part (the stored model), exactly as the search did: preprocessor inside the fold."""

    def __init__(self, *, result: SearchResult, X: pd.DataFrame, y: pd.Series, make_preprocessor: Callable[[], Any],
                 folds: tuple[tuple[np.ndarray, np.ndarray], ...], should_stop: Callable[[], bool] | None) -> None:
        self.result = result
        self.task = result.task
        self.n_classes = len(result.classes)
        self.make_preprocessor = make_preprocessor
        self.should_stop = should_stop
        self.X_train = X.iloc[result.train_index]
        self.y_raw = y.iloc[result.train_index]
        self.X_test = X.iloc[result.test_index]
        self.folds = folds
        self._fold_matrices: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._full: tuple[Any, np.ndarray, np.ndarray | None] | None = None

    def _context(self, family: str, device: str, n_features: int) -> BuildContext:
        y = self.result.y_train
        counts = tuple(int(np.sum(y == k)) for k in range(self.n_classes)) if self.task != "regression" else ()
        return BuildContext(task=self.task, n_classes=self.n_classes, seed=self.result.settings.seed,
                            device=device if family == "xgboost" else "cpu", class_counts=counts,
                            n_rows=len(self.result.train_index), n_features=n_features, should_stop=self.should_stop)

    def _matrices(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._fold_matrices is None:
            out = []
            for tr, va in self.folds:
                prep = self.make_preprocessor()
                Xtr = ToMatrix().transform(prep.fit_transform(self.X_train.iloc[tr], self.y_raw.iloc[tr]))
                Xva = ToMatrix().transform(prep.transform(self.X_train.iloc[va]))
                out.append((Xtr, Xva))
            self._fold_matrices = out
        return self._fold_matrices

    def _full_matrices(self) -> tuple[Any, np.ndarray, np.ndarray | None]:
        if self._full is None:
            prep = self.make_preprocessor()
            X_full = ToMatrix().transform(prep.fit_transform(self.X_train, self.y_raw))
            X_test = ToMatrix().transform(prep.transform(self.X_test)) if len(self.X_test) else None
            self._full = (prep, X_full, X_test)
        return self._full

    def _fit(self, family: str, params: dict[str, Any], device: str, X: np.ndarray, y: np.ndarray) -> Any:
        module = get_family(family)
        ctx = self._context(family, device, X.shape[1])
        estimator = module.build(dict(params), ctx)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            fit_estimator(module, estimator, X, y, ctx=ctx, metric=self.result.metric)
        return estimator

    def _predict(self, estimator: Any, X: np.ndarray) -> np.ndarray:
        pred = predict_matrix(estimator, X, self.task)
        if self.task == "regression":
            return pred
        seen = np.asarray(getattr(estimator, "classes_", np.arange(pred.shape[1])), dtype=int)
        if pred.shape[1] == self.n_classes and np.array_equal(seen, np.arange(self.n_classes)):
            return pred
        full = np.zeros((pred.shape[0], self.n_classes))
        full[:, seen] = pred
        return full

    def model_for(self, family: str, params: dict[str, Any], device: str) -> tuple[Pipeline, np.ndarray, np.ndarray]:
        y = self.result.y_train
        n = len(self.result.train_index)
        oof = np.full((n,) if self.task == "regression" else (n, self.n_classes), np.nan)
        for (tr, va), (Xtr, Xva) in zip(self.folds, self._matrices()):
            estimator = self._fit(family, params, device, Xtr, y[tr])
            oof[va] = self._predict(estimator, Xva)
        prep, X_full, X_test = self._full_matrices()
        estimator = self._fit(family, params, device, X_full, y)
        if X_test is None:
            test = np.empty((0,) if self.task == "regression" else (0, self.n_classes))
        else:
            test = self._predict(estimator, X_test)
        model = Pipeline([("preprocess", prep), ("to_matrix", ToMatrix()), ("model", estimator)])
        return model, oof, test


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
