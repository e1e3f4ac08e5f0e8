"""Pseudonymising an identifier column the user chose to keep in a usable form.

Values become keyed HMAC-SHA256 tokens: the same patient number always maps to the same token
within a project (so joins, patient-level splits and duplicate checks still work), but the token
cannot be reversed or recomputed without the project's secret. Dates keep only their year, which
is what HIPAA Safe Harbor allows.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from pipelines.errors import IngestError

__all__ = ["pseudonymise"]

_MIN_SECRET = 16


def pseudonymise(frame: pd.DataFrame, column: str, *, secret: bytes, prefix: str = "P") -> pd.DataFrame:
    """A copy of ``frame`` whose ``column`` holds tokens (or years, for dates) instead of identifiers.

    ``secret`` must be project-specific and at least 16 bytes; the workbench stores it with the
    project, never with the dataset. Missing values stay missing.
    """
    if column not in frame.columns:
        raise IngestError("ingest.unknown_column", column=column)
    if len(secret) < _MIN_SECRET:
        raise IngestError("ingest.weak_secret", minimum=_MIN_SECRET)
    out = frame.copy()
    series = out[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out[column] = series.dt.year.astype("Int64")
        return out
    present = series.notna()
    text = series.astype("string")
    unique = pd.unique(text[present])
    tokens = {value: f"{prefix}-{hmac.new(secret, str(value).encode('utf-8'), hashlib.sha256).hexdigest()[:16]}" for value in unique}
    mapped = text.map(tokens)
    out[column] = mapped.where(present, pd.NA).astype("string")
    return out
