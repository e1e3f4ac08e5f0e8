"""The data viewer's query engine: DuckDB over a stored dataset version's Parquet file.

Pages, sorts, filters and summaries are SQL over ``read_parquet`` so that a million-row dataset
never has to be loaded into the app. Filters are typed objects; column names are quoted.
"""

from __future__ import annotations

from ._figures import column_figure, correlation_figure, missingness_figure
from ._page import MAX_PAGE_ROWS, Page, page, search_columns
from ._sql import Between, Contains, Equals, Filter, IsMissing, NotEquals, NotMissing, OneOf, quote_identifier
from ._summary import (
    ColumnSummary,
    CorrelationMatrix,
    DuplicateRows,
    MissingnessMap,
    column_summary,
    correlation,
    duplicate_rows,
    missingness_map,
)

__all__ = [
    "MAX_PAGE_ROWS",
    "Between",
    "ColumnSummary",
    "Contains",
    "CorrelationMatrix",
    "DuplicateRows",
    "Equals",
    "Filter",
    "IsMissing",
    "MissingnessMap",
    "NotEquals",
    "NotMissing",
    "OneOf",
    "Page",
    "column_figure",
    "column_summary",
    "correlation",
    "correlation_figure",
    "duplicate_rows",
    "missingness_figure",
    "missingness_map",
    "page",
    "quote_identifier",
    "search_columns",
]
