"""Training on a Dask cluster for tables too large for one process (issue 9, "Large tables").

The approved dataset version is read as a Dask DataFrame in partitions, the recipe's data-level
steps and its fitted preprocessing run on each partition where it lies, XGBoost and LightGBM train
through ``xgboost.dask`` / ``lightgbm.dask``, and Optuna trials run side by side with their studies
in RDB storage. The result is a :class:`pipelines.automl.SearchResult` like any other run's.
"""

from __future__ import annotations

from pipelines.automl.distributed._partitions import ROW_LOCAL_KINDS, is_row_local, parquet_pieces
from pipelines.automl.distributed._search import (
    DISTRIBUTED_FAMILIES,
    VALIDATION_FOLD,
    DistributedRun,
    FamilyFit,
    run_distributed_search,
)
from pipelines.automl.distributed._study import storage_for

__all__ = [
    "DISTRIBUTED_FAMILIES",
    "ROW_LOCAL_KINDS",
    "VALIDATION_FOLD",
    "DistributedRun",
    "FamilyFit",
    "is_row_local",
    "parquet_pieces",
    "run_distributed_search",
    "storage_for",
]
