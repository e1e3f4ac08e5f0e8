"""Pages of a stored dataset version, sorted and filtered by DuckDB over the Parquet file.

Nothing here loads the whole table: a page is ``LIMIT``/``OFFSET`` over ``read_parquet``, which
DuckDB answers from the file in a fraction of a second even at a million rows. The original row
number is the page's index, so a row keeps its identity across sorts and filters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.errors import InputError

from ._sql import Filter, check_columns, connect, like_pattern, quote_identifier, schema, to_frame

__all__ = ["Page", "page", "search_columns", "MAX_PAGE_ROWS"]

MAX_PAGE_ROWS = 10_000
_ROW = "file_row_number"


@dataclass(frozen=True)
class Page:
    """One page of rows (index = row number in the stored file) and how many rows match in total."""

    frame: pd.DataFrame
    total_rows: int
    offset: int
    limit: int


_TEXT_TYPES = ("VARCHAR", "ENUM", "UUID")
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _search_clauses(search: str, columns: Sequence[str], known: dict[str, str]) -> tuple[list[str], list]:
    """Text columns match by substring; numeric columns only when the query is that number.

    Casting every number of a million rows to text for a substring test is what makes a naive row
    search take seconds; nobody searches for "2" inside 12.25.
    """
    clauses, params = [], []
    pattern = like_pattern(search)
    try:
        number = float(search.strip())
    except ValueError:
        number = None
    for column in columns:
        kind = known[column].upper()
        if kind.startswith(_TEXT_TYPES):
            clauses.append(f"{quote_identifier(column)} ILIKE ? ESCAPE '\\'")
            params.append(pattern)
        elif kind.startswith(_NUMBER_TYPES):
            if number is not None:
                clauses.append(f"{quote_identifier(column)}::DOUBLE = ?")
                params.append(number)
        else:
            clauses.append(f"CAST({quote_identifier(column)} AS VARCHAR) ILIKE ? ESCAPE '\\'")
            params.append(pattern)
    return clauses, params


def _where(filters: Sequence[Filter], search: str | None, columns: Sequence[str], known: dict[str, str]) -> tuple[str, list]:
    clauses, params = [], []
    for item in filters:
        if not isinstance(item, Filter):
            raise InputError("viewer.bad_filter")
        clause, values = item.sql()
        clauses.append(f"({clause})")
        params += values
    if search:
        ors, values = _search_clauses(search, columns, known)
        clauses.append("(" + (" OR ".join(ors) or "FALSE") + ")")
        params += values
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def page(
    path: str | os.PathLike[str],
    *,
    offset: int = 0,
    limit: int = 100,
    sort: Sequence[tuple[str, bool]] = (),
    filters: Sequence[Filter] = (),
    search: str | None = None,
    columns: Sequence[str] | None = None,
) -> Page:
    """Rows ``offset..offset+limit`` after filtering and sorting (``(column, ascending)`` pairs).

    ``search`` keeps rows where any shown column contains the text (case-insensitive).
    Missing values sort last in both directions; ties keep file order so pages never overlap.
    """
    if offset < 0 or limit < 1 or limit > MAX_PAGE_ROWS:
        raise InputError("viewer.bad_page", limit=MAX_PAGE_ROWS)
    con = connect()
    try:
        known = schema(con, path)
        shown = list(columns) if columns is not None else list(known)
        check_columns(shown, known)
        check_columns([c for c, _ in sort], known)
        check_columns([f.column for f in filters if isinstance(f, Filter)], known)
        where, params = _where(filters, search, shown, known)
        order = [f"{quote_identifier(c)} {'ASC' if asc else 'DESC'} NULLS LAST" for c, asc in sort]
        order.append(_ROW)
        select = ", ".join(quote_identifier(c) for c in shown)
        source = "read_parquet(?, file_row_number = true)"
        query = f"SELECT {select}{', ' if select else ''}{_ROW} FROM {source}{where} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"
        try:
            if sort:
                # Sort only the sort keys and row numbers, then fetch the page's rows: a deep page of a
                # million-row table costs a fraction of sorting every column.
                ids_query = f"SELECT {_ROW} FROM {source}{where} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"
                ids = [row[0] for row in con.execute(ids_query, [str(path), *params, limit, offset]).fetchall()]
                rows_query = (
                    f"SELECT {select}{', ' if select else ''}{_ROW} FROM {source} "
                    f"WHERE {_ROW} IN (SELECT unnest(?::BIGINT[]))"
                )
                table = con.sql(rows_query, params=[str(path), ids]).to_arrow_table()
                rank = {row: position for position, row in enumerate(ids)}
                fetched = table.column(_ROW).to_pylist()
                order_index = sorted(range(len(fetched)), key=lambda i: rank[fetched[i]])
                table = table.take(pa.array(order_index, type=pa.int64()))
            else:
                table = con.sql(query, params=[str(path), *params, limit, offset]).to_arrow_table()
            if where:
                total = con.execute(f"SELECT count(*) FROM {source}{where}", [str(path), *params]).fetchall()[0][0]
            else:
                total = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
        except duckdb.ConversionException:
            raise InputError("viewer.filter_type_mismatch") from None
        except duckdb.BinderException:
            raise InputError("viewer.filter_type_mismatch") from None
    finally:
        con.close()
    frame = to_frame(table)
    frame = frame.set_index(_ROW)
    frame.index.name = None
    return Page(frame=frame, total_rows=int(total), offset=offset, limit=limit)


def search_columns(path: str | os.PathLike[str], query: str) -> list[str]:
    """Column names containing ``query`` (case-insensitive), in file order; all columns for ''."""
    con = connect()
    try:
        names = list(schema(con, path))
    finally:
        con.close()
    needle = query.strip().casefold()
    return [n for n in names if needle in n.casefold()]
