"""AutoML engine: model families, Optuna search, ensembles, calibration, persistence, recommendations.

Pure ML code (no Streamlit, no database); the workbench runs :func:`run_search` inside a Dask job.
"""

from __future__ import annotations

from pipelines.automl.device import (
    DeviceChoice,
    Notice,
    ProbeResult,
    probe_cuda,
    resolve_device,
)
from pipelines.automl.meta import MetaFeatures, meta_features
from pipelines.automl.metrics import METRICS, default_metric
from pipelines.automl.search import (
    FinalModelInfo,
    FittedModel,
    LeaderboardRow,
    SearchProgress,
    SearchResult,
    TrialRecord,
    run_search,
)
from pipelines.automl.settings import (
    ALL_FAMILIES,
    Overrides,
    SearchSettings,
    parse_overrides,
)

__all__ = [
    "ALL_FAMILIES",
    "METRICS",
    "DeviceChoice",
    "FinalModelInfo",
    "FittedModel",
    "LeaderboardRow",
    "MetaFeatures",
    "Notice",
    "Overrides",
    "ProbeResult",
    "SearchProgress",
    "SearchResult",
    "SearchSettings",
    "TrialRecord",
    "default_metric",
    "meta_features",
    "parse_overrides",
    "probe_cuda",
    "resolve_device",
    "run_search",
]
