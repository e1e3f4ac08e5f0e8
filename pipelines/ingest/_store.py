"""Profile a typed frame and write its Parquet at the same time.

Both spend most of their time in Arrow's C++ code with the GIL released (the profile's counts and
quantiles, the Parquet encoder and zstd), so on two cores the write costs almost no wall time
beside the profile. The Parquet goes straight to the caller's file handle: the upload path writes
into the artifact store's hashing writer, with no in-memory copy of the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._identifiers import IdentifierFlag
from ._profile import DatasetProfile, profile

__all__ = ["profile_and_write"]


def profile_and_write(
    frame: pd.DataFrame, *, types: Mapping[str, str], flags: Iterable[IdentifierFlag], sink: BinaryIO | str
) -> DatasetProfile:
    """The stored profile of ``frame``; its Parquet (zstd) is written to ``sink`` meanwhile."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-write") as pool:
        written = pool.submit(pq.write_table, table, sink, compression="zstd")
        try:
            summary = profile(frame, types=types, flags=tuple(flags))
        finally:
            written.result()  # the file is complete (or its error raised) before the caller moves on
    return summary
