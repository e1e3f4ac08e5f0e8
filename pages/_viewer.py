"""The viewer part of the data page: a paged grid queried from Parquet, column and table panels."""

from __future__ import annotations

import streamlit as st

from pages._lazy_tabs import lazy_tabs
from pages._shell import PageContext, attempt
from pages._units import unit_name
from pipelines import viewer as v
from workbench.services import viewer

__all__ = ["render"]

_PAGE_SIZES = (50, 100, 500)


def render(ctx: PageContext, version) -> None:
    flags = version.column_flags or {}
    left, right = st.columns([3, 1])
    left.caption(ctx.t("data.view.summary", rows=f"{version.n_rows:,}", columns=version.n_columns,
                       format=version.source_format.upper(), encoding=version.source_encoding or "—",
                       sha=version.parquet_sha256[:12]))
    if flags:
        right.warning(ctx.t("data.view.flags", columns=", ".join(f"{c} ({r['decision']})" for c, r in flags.items())))

    # Only the open tab runs: the whole-table panel's duplicates, missingness and correlation queries
    # and figures were most of every Data page's server CPU.
    lazy_tabs(ctx, {name: (label, lambda panel=_PANELS[name]: panel(ctx, version)) for name, label in _TABS.items()},
              key=f"viewer_tab_{version.id}", remembered=f"viewer_panel_{version.id}")


def _grid(ctx: PageContext, version) -> None:
    names = attempt(ctx.lang, viewer.columns_matching, ctx.workbench, ctx.actor, version.id, "") or []
    # bottom-aligned: a label on two lines (English "Rows per page" at 1024 px) leaves the boxes in one line
    a, b, c, d = st.columns([2, 2, 1.4, 0.9], vertical_alignment="bottom")
    query = a.text_input(ctx.t("data.view.column_search"), key=f"colsearch_{version.id}")
    shown = [n for n in names if query.strip().casefold() in n.casefold()] if query else names
    sort_by = b.selectbox(ctx.t("data.view.sort_by"), [""] + names, format_func=lambda n: n or "—", key=f"sort_{version.id}")
    descending = c.toggle(ctx.t("data.view.descending"), key=f"desc_{version.id}")
    size = d.selectbox(ctx.t("data.view.page_size"), _PAGE_SIZES, key=f"size_{version.id}")

    f1, f2, f3 = st.columns([2, 1, 2])
    filter_column = f1.selectbox(ctx.t("data.view.filter_column"), [""] + names, format_func=lambda n: n or "—",
                                 key=f"fcol_{version.id}")
    kind = f2.selectbox(ctx.t("data.view.filter_kind"), ("contains", "equals", "between", "missing", "not_missing"),
                        format_func=lambda k: ctx.t("data.view.filter." + k), key=f"fkind_{version.id}")
    filters: list[v.Filter] = []
    if filter_column:
        if kind == "contains":
            text = f3.text_input(ctx.t("data.view.filter_value"), key=f"fval_{version.id}")
            filters = [v.Contains(filter_column, text)] if text else []
        elif kind == "equals":
            text = f3.text_input(ctx.t("data.view.filter_value"), key=f"feq_{version.id}")
            filters = [v.Equals(filter_column, _typed(text))] if text else []
        elif kind == "between":
            low, high = f3.columns(2)
            lo = low.number_input("min", value=None, key=f"flo_{version.id}")
            hi = high.number_input("max", value=None, key=f"fhi_{version.id}")
            filters = [v.Between(filter_column, lo, hi)] if lo is not None or hi is not None else []
        elif kind == "missing":
            filters = [v.IsMissing(filter_column)]
        else:
            filters = [v.NotMissing(filter_column)]

    page_key = f"page_{version.id}"
    number = st.session_state.get(page_key, 0)
    result = attempt(ctx.lang, viewer.rows, ctx.workbench, ctx.actor, version.id, offset=number * size, limit=size,
                     sort=[(sort_by, not descending)] if sort_by else [], filters=filters, columns=shown or None)
    if result is None:
        return
    pages = max(1, -(-result.total_rows // size))
    if number >= pages:
        st.session_state[page_key] = 0
        st.rerun()
    st.dataframe(result.frame, width="stretch", height=min(38 + 35 * len(result.frame), 560))
    # previous at the left, the page in the middle, next at the right, all on one line
    bar = st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center")
    if bar.button(ctx.t("data.view.previous"), disabled=number == 0, key=f"prev_{version.id}"):
        st.session_state[page_key] = number - 1
        st.rerun()
    bar.caption(ctx.t("data.view.page_of", page=number + 1, pages=pages, rows=f"{result.total_rows:,}"))
    if bar.button(ctx.t("data.view.next"), disabled=number + 1 >= pages, key=f"next_{version.id}"):
        st.session_state[page_key] = number + 1
        st.rerun()


def _typed(text: str):
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _column_panel(ctx: PageContext, version) -> None:
    names = attempt(ctx.lang, viewer.columns_matching, ctx.workbench, ctx.actor, version.id, "") or []
    if not names:
        return
    name = st.selectbox(ctx.t("data.view.column"), names, key=f"panel_{version.id}")
    summary = attempt(ctx.lang, viewer.column, ctx.workbench, ctx.actor, version.id, name)
    if summary is None:
        return
    types = (version.profile or {}).get("types", {})
    # the type's box twice as wide, the numbers three a row: at 1024 px four equal boxes cut "연속형 숫자"
    # and "40 / 60 / 95" off after two characters
    kind, a, b = st.columns([2, 1, 1])
    kind.metric(ctx.t("data.view.type"), ctx.t("ingest.type." + types[name]) if name in types else summary.sql_type)
    a.metric(ctx.t("data.view.missing"), f"{summary.missing_pct:.1f}%", f"{summary.missing_count:,}", delta_color="off")
    b.metric(ctx.t("data.view.unique"), f"{summary.unique_count:,}")
    if summary.median is not None:
        for column, key, value in zip(st.columns(3), ("minimum", "median", "maximum"),
                                      (summary.minimum, summary.median, summary.maximum), strict=True):
            column.metric(ctx.t("data.view." + key), _short(value))
    if summary.range_name:
        outside = summary.below_range + summary.above_range
        text = ctx.t("data.view.range", name=summary.range_name, low=summary.range_low, high=summary.range_high,
                     unit=unit_name(ctx, summary.range_unit), below=summary.below_range, above=summary.above_range)
        (st.warning if outside else st.info)(text)
    st.plotly_chart(v.column_figure(summary), width="stretch", key=f"colfig_{version.id}_{name}")


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _table_panel(ctx: PageContext, version) -> None:
    dup = attempt(ctx.lang, viewer.duplicates, ctx.workbench, ctx.actor, version.id)
    if dup is not None:
        (st.warning if dup.duplicate_rows else st.success)(
            ctx.t("data.view.duplicates", rows=dup.duplicate_rows, groups=dup.groups, total=f"{dup.total_rows:,}"))
    missing = attempt(ctx.lang, viewer.missingness, ctx.workbench, ctx.actor, version.id)
    if missing is not None:
        st.subheader(ctx.t("data.view.missingness"))
        st.plotly_chart(v.missingness_figure(missing), width="stretch", key=f"miss_{version.id}")
    corr = attempt(ctx.lang, viewer.correlations, ctx.workbench, ctx.actor, version.id)
    if corr is not None and len(corr.columns) > 1:
        st.subheader(ctx.t("data.view.correlation"))
        st.plotly_chart(v.correlation_figure(corr), width="stretch", key=f"corr_{version.id}")


_TABS = {"grid": "data.view.grid", "columns": "data.view.columns", "table": "data.view.table"}
_PANELS = {"grid": _grid, "columns": _column_panel, "table": _table_panel}
