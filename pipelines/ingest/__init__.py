"""Ingestion: any hospital export in (CSV/TSV, Excel, Parquet, SPSS, SAS, Stata), a typed frame out.

The upload page, ``workbench inspect`` and the benchmark call :func:`read_table`; the user then
agrees to missing-value codes (:func:`apply_missing_codes`), corrects types (:func:`override_types`)
and decides on each identifier flag before :func:`profile` is stored with the dataset version.
"""

from __future__ import annotations

from ._formats import FORMATS
from ._identifiers import PHI_CATEGORIES, IdentifierFlag, detect_identifiers
from ._options import (
    COLUMN_TYPES,
    DEFAULT_MAX_BYTES,
    DEFAULT_MISSING_CODES,
    ColumnType,
    ReadOptions,
)
from ._profile import ColumnProfile, DatasetProfile, Histogram, RangeCheck, profile
from ._pseudonymise import pseudonymise
from ._ranges import ClinicalRange, clinical_ranges, range_for_column
from ._read import (
    ColumnInfo,
    IngestResult,
    IngestWarning,
    apply_missing_codes,
    infer_frame_types,
    override_types,
    read_table,
)
from ._store import profile_and_write

__all__ = [
    "COLUMN_TYPES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MISSING_CODES",
    "FORMATS",
    "PHI_CATEGORIES",
    "ClinicalRange",
    "ColumnInfo",
    "ColumnProfile",
    "ColumnType",
    "DatasetProfile",
    "Histogram",
    "IdentifierFlag",
    "IngestResult",
    "IngestWarning",
    "RangeCheck",
    "ReadOptions",
    "apply_missing_codes",
    "clinical_ranges",
    "detect_identifiers",
    "infer_frame_types",
    "override_types",
    "profile",
    "profile_and_write",
    "pseudonymise",
    "range_for_column",
    "read_table",
]
