"""Reading a stored dataset version into pandas, for services that already authorised the caller."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from workbench.context import Workbench
from workbench.db.models import DatasetVersion

__all__ = ["read_dataset_frame"]


def read_dataset_frame(workbench: Workbench, dataset: DatasetVersion) -> pd.DataFrame:
    """The verified Parquet of a version as a DataFrame (preparation and training, not the viewer)."""
    return pq.read_table(workbench.store.verified_path(dataset.parquet_sha256)).to_pandas()
