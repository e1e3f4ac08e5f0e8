"""The profile and the Parquet version are made side by side: same results as one after the other."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.ingest import profile, profile_and_write, read_table
from workbench.artifacts import ArtifactStore


def test_side_by_side_gives_the_profile_and_the_parquet_of_one_after_the_other(datasets_dir: Path) -> None:
    result = read_table(datasets_dir / "whas500.csv", filename="whas500.csv")
    sink = io.BytesIO()
    stored = profile_and_write(result.frame, types=result.types, flags=result.identifier_flags, sink=sink)
    assert stored == profile(result.frame, types=result.types, flags=result.identifier_flags)
    parquet = pq.ParquetFile(io.BytesIO(sink.getvalue()))
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    pd.testing.assert_frame_equal(parquet.read().to_pandas(), result.frame)


class _FailingSink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError("disk full")


def test_a_failed_write_is_raised_and_leaves_no_artifact(datasets_dir: Path, tmp_path: Path) -> None:
    result = read_table(datasets_dir / "heart_failure_clinical_records.csv", filename="hf.csv")
    with pytest.raises(OSError, match="disk full"):
        profile_and_write(result.frame, types=result.types, flags=(), sink=_FailingSink())
    store = ArtifactStore(tmp_path / "artifacts")
    with pytest.raises(ZeroDivisionError), store.writer() as (handle, _finish):
        profile_and_write(result.frame, types=result.types, flags=(), sink=handle)
        1 / 0  # anything failing after the write, before the version is committed
    assert store.digests() == [] and list(store.tmp.glob("part-*")) == []
