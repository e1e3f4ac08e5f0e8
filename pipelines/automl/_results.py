"""What a search returns: frozen records of trials, leaderboard rows, the final model and every
leaderboard model fitted on the whole training part with its predictions.

Compute, then show: the trials table, the leaderboard, the run store and the results pages all
read these records; nothing here refits or rescores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from pipelines.automl.device import Notice
from pipelines.automl.meta import MetaFeatures
from pipelines.automl.settings import SearchSettings

__all__ = ["FinalModelInfo", "FittedModel", "LeaderboardRow", "SearchProgress", "SearchResult", "TrialRecord"]


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the trials table shows it; ``cv_mean``/``cv_sd`` are the metric itself."""

    number: int
    family: str
    params: dict[str, Any]
    state: str  # "complete" | "pruned" | "failed"
    source: str  # "default" | "recommended" | "search"
    cv_mean: float | None
    cv_sd: float | None
    fold_scores: tuple[float, ...]
    device: str
    fit_seconds: float
    error: str = ""
    # What the time budget shortened, ``{param: [asked, used]}`` (``params`` holds the used values):
    # the first trial of a run, when it alone would overrun the budget (see ``_schedule``); on the
    # Dask path also a later trial, capped to what the budget leaves (``distributed._cap``).
    time_cut: dict[str, list[Any]] | None = None


@dataclass(frozen=True)
class LeaderboardRow:
    """The best trial of a family (or the final ensemble), refitted on the whole training part."""

    name: str  # family name, or "ensemble"
    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_sd: float
    test_score: float | None  # None when the test part cannot be scored (empty, or one class for AUROC)
    device: str
    fit_seconds: float
    trial_number: int | None
    selected: bool
    time_cut: dict[str, list[Any]] | None = None  # the trial's, when the time budget shortened it


@dataclass(frozen=True)
class FittedModel:
    """One leaderboard model as a store keeps it: fitted on the whole training part, with the
    out-of-fold predictions the search scored it by and its predictions on the test part.

    The selected row's model is the final model itself (ensemble and calibration included); every
    other row is its family's best configuration, uncalibrated.
    """

    name: str  # the LeaderboardRow.name it belongs to
    family: str
    model: Pipeline  # preprocess -> to_matrix -> estimator | WeightedEnsemble | CalibratedModel
    oof_predictions: np.ndarray  # train part, row order of plan.train_index (NaN outside folds)
    test_predictions: np.ndarray  # test part, row order of plan.test_index
    oof_score: float | None  # the metric of oof_predictions on the rows the folds cover
    test_score: float | None
    calibration: str  # "none" | "sigmoid" | "isotonic" | "not applicable"
    final: bool


@dataclass(frozen=True)
class FinalModelInfo:
    kind: str  # "single" | "ensemble"
    members: tuple[tuple[int, str, float], ...]  # (trial number, family, weight)
    calibration: str  # "none" | "sigmoid" | "isotonic" | "not applicable"
    calibration_scores: dict[str, float]
    oof_score: float  # metric of the final out-of-fold predictions
    test_score: float | None


@dataclass(frozen=True)
class SearchProgress:
    stage: str  # "preparing" | "search" | "final" | "done"
    trials_done: int
    trials_total: int | None
    best_score: float | None
    best_family: str | None
    elapsed_s: float
    time_budget_s: float | None
    device: str
    last_trial: TrialRecord | None = None


@dataclass(frozen=True)
class SearchResult:
    task: str
    metric: str
    greater_is_better: bool
    classes: tuple[Any, ...]  # probability columns, in order; () for regression
    leaderboard: tuple[LeaderboardRow, ...]
    trials: tuple[TrialRecord, ...]
    model: Pipeline  # preprocess -> to_matrix -> estimator | WeightedEnsemble | CalibratedModel
    final: FinalModelInfo
    oof_predictions: np.ndarray  # train part, row order of plan.train_index (NaN outside folds)
    test_predictions: np.ndarray  # test part, row order of plan.test_index
    train_index: np.ndarray
    test_index: np.ndarray
    y_train: np.ndarray  # encoded 0..k-1 for classification
    y_test: np.ndarray
    meta_features: MetaFeatures
    device: str
    notices: tuple[Notice, ...]
    settings: SearchSettings
    elapsed_s: float
    # One per leaderboard row, in leaderboard order (empty from a search that fitted only the final model).
    models: tuple[FittedModel, ...] = ()

    def fitted(self) -> tuple[FittedModel, ...]:
        """Every leaderboard model with its predictions, the final model first. Without per-row
        models (an engine that fits only the final one) that is the final model alone."""
        if self.models:
            return tuple(sorted(self.models, key=lambda m: not m.final))
        row = next((r for r in self.leaderboard if r.selected), None)
        calibration = self.final.calibration
        return (FittedModel(
            name=row.name if row else self.final.kind, family=row.family if row else self.final.kind, model=self.model,
            oof_predictions=self.oof_predictions, test_predictions=self.test_predictions,
            oof_score=self.final.oof_score, test_score=self.final.test_score, calibration=calibration, final=True,
        ),)
