"""Publication tables: performance with CIs, Table 1, hyperparameters and subgroups, written as
CSV, XLSX or DOCX with formula-injection-safe cells and optional small-count suppression."""

from __future__ import annotations

from pipelines.tables._table import Cell, Table, safe_text, suppress_count
from pipelines.tables.build import format_p, hyperparameter_table, performance_table, subgroup_table, table_one_table
from pipelines.tables.export import TABLE_FORMATS, to_csv, to_docx, to_xlsx, write_table

__all__ = [
    "Cell", "Table", "safe_text", "suppress_count",
    "format_p", "hyperparameter_table", "performance_table", "subgroup_table", "table_one_table",
    "TABLE_FORMATS", "to_csv", "to_docx", "to_xlsx", "write_table",
]
