"""Parquet and the statistics packages' files (SPSS, SAS, Stata).

Value labels (1 = "male", 2 = "female") become categories, so a physician sees the labels they
defined in SPSS or Stata instead of bare codes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import IngestError

__all__ = ["read_parquet", "read_statistics_file"]


def read_parquet(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise IngestError("ingest.corrupt_parquet", detail=type(exc).__name__) from None
    # Nested, binary and dictionary columns are flattened to what a clinical table can hold.
    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type) if not pa.types.is_string(field.type.value_type) else column
        elif pa.types.is_nested(field.type) or pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            raise IngestError("ingest.unsupported_column_type", column=field.name, type=str(field.type))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def read_statistics_file(path: Path, kind: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """A ``.sav``/``.sas7bdat``/``.dta`` file as a frame with labelled columns as categories.

    Returns the frame and the variable labels (column -> description), which the profile shows.
    """
    import pyreadstat

    reader = {
        "sav": pyreadstat.read_sav,
        "sas7bdat": pyreadstat.read_sas7bdat,
        "dta": pyreadstat.read_dta,
    }[kind]
    try:
        if kind == "sas7bdat":
            frame, meta = reader(str(path))
        else:
            frame, meta = reader(str(path), apply_value_formats=True, formats_as_category=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and plain errors
        raise IngestError("ingest.corrupt_statistics_file", kind=kind.upper(), detail=type(exc).__name__) from None
    labels = dict(getattr(meta, "column_names_to_labels", {}) or {})
    return frame, {k: v for k, v in labels.items() if v}
