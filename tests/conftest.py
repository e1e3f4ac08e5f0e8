from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("WORKBENCH_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The real clinical datasets in ../shared/datasets (see its MANIFEST.md)."""
    if not SHARED_DATASETS.is_dir():
        pytest.fail(f"shared datasets not found at {SHARED_DATASETS}; set WORKBENCH_SHARED_DATASETS")
    return SHARED_DATASETS
