"""Row-level views of a dataset version for project members allowed to see rows.

Every call checks ``dataset.view_rows`` and reads the verified Parquet file through DuckDB; nothing
is cached across users.
"""

from __future__ import annotations

from collections.abc import Sequence

from permissions.policy import Actor
from pipelines import viewer
from workbench.context import Workbench
from workbench.services.datasets import version_parquet_path

__all__ = ["rows", "columns_matching", "column", "missingness", "correlations", "duplicates"]


def rows(
    workbench: Workbench, actor: Actor, version_id: int, *, offset: int = 0, limit: int = 100,
    sort: Sequence[tuple[str, bool]] = (), filters: Sequence[viewer.Filter] = (), search: str | None = None,
    columns: Sequence[str] | None = None,
) -> viewer.Page:
    path = version_parquet_path(workbench, actor, version_id)
    return viewer.page(path, offset=offset, limit=limit, sort=sort, filters=filters, search=search, columns=columns)


def columns_matching(workbench: Workbench, actor: Actor, version_id: int, query: str) -> list[str]:
    return viewer.search_columns(version_parquet_path(workbench, actor, version_id), query)


def column(workbench: Workbench, actor: Actor, version_id: int, name: str) -> viewer.ColumnSummary:
    return viewer.column_summary(version_parquet_path(workbench, actor, version_id), name)


def missingness(workbench: Workbench, actor: Actor, version_id: int) -> viewer.MissingnessMap:
    return viewer.missingness_map(version_parquet_path(workbench, actor, version_id))


def correlations(workbench: Workbench, actor: Actor, version_id: int) -> viewer.CorrelationMatrix:
    return viewer.correlation(version_parquet_path(workbench, actor, version_id))


def duplicates(workbench: Workbench, actor: Actor, version_id: int) -> viewer.DuplicateRows:
    return viewer.duplicate_rows(version_parquet_path(workbench, actor, version_id))
