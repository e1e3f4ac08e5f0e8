"""Per-column and whole-table summaries computed by DuckDB over the stored Parquet file.

Every result is an aggregate (counts, quantiles, bins, correlations), so the panels built from
them can be drawn without pulling rows into the app.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from pipelines.errors import InputError
from pipelines.ingest._ranges import range_for_column

from ._sql import check_columns, connect, quote_identifier, schema

__all__ = [
    "ColumnSummary",
    "MissingnessMap",
    "CorrelationMatrix",
    "DuplicateRows",
    "column_summary",
    "missingness_map",
    "correlation",
    "duplicate_rows",
]

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE")
_BINS = 30
_TOP = 20
MAX_CORRELATION_COLUMNS = 80
CORRELATION_SAMPLE_ROWS = 200_000


def _is_numeric(kind: str) -> bool:
    return kind.upper() in _NUMERIC or kind.upper().startswith("DECIMAL")


@dataclass(frozen=True)
class ColumnSummary:
    """What the per-column panel shows; ``histogram`` for numbers, ``top_values`` otherwise."""

    name: str
    sql_type: str
    rows: int
    missing_count: int
    missing_pct: float
    unique_count: int
    minimum: float | str | None
    median: float | None
    maximum: float | str | None
    histogram_edges: tuple[float, ...] = ()
    histogram_counts: tuple[int, ...] = ()
    top_values: tuple[tuple[str, int], ...] = ()
    range_name: str | None = None
    range_unit: str | None = None
    range_low: float | None = None
    range_high: float | None = None
    below_range: int = 0
    above_range: int = 0


@dataclass(frozen=True)
class MissingnessMap:
    """Share of missing values per column (rows) and block of consecutive rows (columns of the map)."""

    columns: tuple[str, ...]
    row_starts: tuple[int, ...]
    fractions: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class CorrelationMatrix:
    columns: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    rows_used: int = 0


@dataclass(frozen=True)
class DuplicateRows:
    """``duplicate_rows`` rows repeat an earlier row exactly, in ``groups`` distinct repeated rows."""

    duplicate_rows: int
    groups: int
    total_rows: int


def column_summary(path: str | os.PathLike[str], column: str) -> ColumnSummary:
    con = connect()
    try:
        known = schema(con, path)
        check_columns([column], known)
        kind = known[column]
        q = quote_identifier(column)
        src = "read_parquet(?)"
        rows, present, unique = con.execute(
            f"SELECT count(*), count({q}), count(DISTINCT {q}) FROM {src}", [str(path)]
        ).fetchall()[0]
        missing = rows - present
        base = dict(
            name=column,
            sql_type=kind,
            rows=rows,
            missing_count=missing,
            missing_pct=round(100.0 * missing / rows, 3) if rows else 0.0,
            unique_count=unique,
        )
        if _is_numeric(kind) and present:
            low, median, high = con.execute(
                f"SELECT min({q})::DOUBLE, median({q})::DOUBLE, max({q})::DOUBLE FROM {src}", [str(path)]
            ).fetchall()[0]
            edges, counts = _histogram(con, path, q, low, high)
            extra: dict = {}
            clinical = range_for_column(column)
            if clinical is not None:
                below, above = con.execute(
                    f"SELECT count(*) FILTER (WHERE {q} < $2), count(*) FILTER (WHERE {q} > $3) FROM read_parquet($1)",
                    [str(path), clinical.low, clinical.high],
                ).fetchall()[0]
                extra = dict(range_name=clinical.name, range_unit=clinical.unit, range_low=clinical.low,
                             range_high=clinical.high, below_range=int(below), above_range=int(above))
            return ColumnSummary(**base, minimum=low, median=median, maximum=high,
                                 histogram_edges=edges, histogram_counts=counts, **extra)
        if present and ("TIMESTAMP" in kind.upper() or kind.upper() == "DATE"):
            low, high = con.execute(f"SELECT min({q})::VARCHAR, max({q})::VARCHAR FROM {src}", [str(path)]).fetchall()[0]
        else:
            low = high = None
        top = con.execute(
            f"SELECT CAST({q} AS VARCHAR) AS v, count(*) AS n FROM {src} WHERE {q} IS NOT NULL "
            f"GROUP BY v ORDER BY n DESC, v LIMIT {_TOP}",
            [str(path)],
        ).fetchall()
        return ColumnSummary(**base, minimum=low, median=None, maximum=high,
                             top_values=tuple((str(v), int(n)) for v, n in top))
    finally:
        con.close()


def _histogram(con, path, q: str, low: float, high: float) -> tuple[tuple[float, ...], tuple[int, ...]]:
    if low is None or high is None:
        return (), ()
    bins = _BINS if high > low else 1
    width = (high - low) / bins if high > low else 1.0
    rows = con.execute(
        f"SELECT least(CAST(floor(({q} - $2) / $3) AS BIGINT), $4 - 1) AS b, count(*) FROM read_parquet($1) "
        f"WHERE {q} IS NOT NULL AND isfinite({q}::DOUBLE) GROUP BY b ORDER BY b",
        [str(path), low, width, bins],
    ).fetchall()
    counts = [0] * bins
    for b, n in rows:
        counts[int(b)] += int(n)
    edges = tuple(low + i * width for i in range(bins + 1))
    return edges, tuple(counts)


def missingness_map(path: str | os.PathLike[str], *, bins: int = 100, columns: Sequence[str] | None = None) -> MissingnessMap:
    """Missing share per column in ``bins`` blocks of consecutive rows (the map a heatmap draws)."""
    if bins < 1 or bins > 1000:
        raise InputError("viewer.bad_bins")
    con = connect()
    try:
        known = schema(con, path)
        names = list(columns) if columns is not None else list(known)
        check_columns(names, known)
        total = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
        if total == 0 or not names:
            return MissingnessMap(tuple(names), (), tuple(() for _ in names))
        bins = min(bins, total)
        shares = ", ".join(f"avg(CASE WHEN {quote_identifier(c)} IS NULL THEN 1.0 ELSE 0.0 END)" for c in names)
        rows = con.execute(
            f"SELECT CAST(floor(file_row_number * $2 / $3) AS BIGINT) AS b, min(file_row_number), {shares} "
            f"FROM read_parquet($1, file_row_number = true) GROUP BY b ORDER BY b",
            [str(path), bins, total],
        ).fetchall()
    finally:
        con.close()
    starts = tuple(int(r[1]) for r in rows)
    fractions = tuple(tuple(round(float(r[2 + i]), 4) for r in rows) for i in range(len(names)))
    return MissingnessMap(columns=tuple(names), row_starts=starts, fractions=fractions)


def correlation(
    path: str | os.PathLike[str], *, columns: Sequence[str] | None = None, max_rows: int = CORRELATION_SAMPLE_ROWS
) -> CorrelationMatrix:
    """Pearson correlations between numeric columns (pairwise complete rows).

    Above ``max_rows`` rows a fixed-seed reservoir sample is used (``rows_used`` says how many):
    a heatmap does not change at the second decimal, and 700 column pairs over a million rows
    would otherwise take many seconds.
    """
    con = connect()
    try:
        known = schema(con, path)
        if columns is None:
            names = [c for c, k in known.items() if _is_numeric(k)]
        else:
            names = list(columns)
            check_columns(names, known)
            wrong = [c for c in names if not _is_numeric(known[c])]
            if wrong:
                raise InputError("viewer.not_numeric", columns=wrong)
        if len(names) > MAX_CORRELATION_COLUMNS:
            raise InputError("viewer.too_many_columns", count=len(names), limit=MAX_CORRELATION_COLUMNS)
        if not names:
            return CorrelationMatrix((), (), 0)
        select = ", ".join(f"{quote_identifier(c)}::DOUBLE" for c in names)
        total = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
        share = 100.0 * max_rows / total if total else 100.0
        sample = f" USING SAMPLE {share:.6f} PERCENT (bernoulli, 7)" if total > max_rows else ""
        table = con.sql(f"SELECT {select} FROM read_parquet(?){sample}", params=[str(path)]).to_arrow_table()
    finally:
        con.close()
    data = np.column_stack([table.column(i).to_numpy(zero_copy_only=False).astype("float64") for i in range(len(names))])
    # One BLAS thread: on a small shared server, OpenBLAS's default thread count thrashes (10x slower).
    with threadpool_limits(1):
        matrix = _pairwise_pearson(data)
    values = tuple(
        tuple(None if not np.isfinite(matrix[i, j]) else round(float(matrix[i, j]), 6) for j in range(len(names)))
        for i in range(len(names))
    )
    return CorrelationMatrix(columns=tuple(names), values=values, rows_used=int(data.shape[0]))


def _pairwise_pearson(data: np.ndarray) -> np.ndarray:
    """Pearson r over pairwise-complete rows, as a handful of matrix products (no Python loop)."""
    present = np.isfinite(data)
    x = np.where(present, data, 0.0)
    m = present.astype("float64")
    n = m.T @ m
    sx = x.T @ m  # sx[i, j]: sum of column i over rows where j is present (and i too)
    sxx = (x * x).T @ m
    sxy = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = n * sxy - sx * sx.T
        var_i = n * sxx - sx * sx
        var_j = var_i.T
        r = cov / np.sqrt(var_i * var_j)
    r[n < 3] = np.nan
    np.fill_diagonal(r, np.where(np.diag(n) >= 3, 1.0, np.nan))
    return np.clip(r, -1.0, 1.0)


def duplicate_rows(path: str | os.PathLike[str]) -> DuplicateRows:
    """Exact duplicate rows: candidates by a row hash first, then exact grouping of the candidates only."""
    con = connect()
    try:
        known = schema(con, path)
        cols = ", ".join(quote_identifier(c) for c in known)
        total = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
        extra, groups = con.execute(
            f"WITH hashed AS (SELECT hash({cols}) AS h, * FROM read_parquet($1)), "
            f"candidates AS (SELECT h FROM hashed GROUP BY h HAVING count(*) > 1) "
            f"SELECT coalesce(sum(n - 1), 0), count(*) FILTER (WHERE n > 1) FROM ("
            f"SELECT count(*) AS n FROM hashed WHERE h IN (SELECT h FROM candidates) GROUP BY {cols})",
            [str(path)],
        ).fetchall()[0]
    finally:
        con.close()
    return DuplicateRows(duplicate_rows=int(extra), groups=int(groups), total_rows=int(total))
