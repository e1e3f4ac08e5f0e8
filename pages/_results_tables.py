"""The results page's tables: performance at the chosen threshold, and by subgroup.

Cell for cell what the export page's table download contains (``export.table_view``): the paper's
performance table (every measure with its 95% CI, the cut-off, patients and events) and the subgroup
table for the variables chosen under the evaluation options. A restricted reader gets the
collaborator-safe cells, as in a download. Plain tables: nothing here loads a charting library, so
the page's first tab opens quickly on a slow hospital PC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from pages._run_picker import pick_models
from pages._shell import PageContext, attempt
from permissions.actions import Action
from pipelines import tables as tb
from workbench.i18n import key
from workbench.services import export, results

__all__ = ["has_tables", "performance", "show_table", "subgroups"]


def has_tables(ctx: PageContext, view: results.RunResults) -> bool:
    """The tables are part of what the owner shares as "tables"."""
    return results.can(ctx.workbench, ctx.actor, Action.TABLES_DOWNLOAD, project_id=view.project_id, part="tables")


def show_table(table: tb.Table) -> None:
    """A paper table as the download holds it: its cells, then its notes."""
    frame = pd.DataFrame([["" if c is None else str(c) for c in row] for row in table.rows], columns=list(table.columns))
    st.table(frame.set_index(frame.columns[0]))
    for note in table.notes:
        st.caption(note)


def _view(ctx: PageContext, view: results.RunResults, name: str, model_ids: Sequence[int],
          options: results.EvalOptions) -> tb.Table | None:
    return attempt(ctx.lang, export.table_view, ctx.workbench, ctx.actor, run_id=view.run_id, table=name,
                   model_ids=list(model_ids), lang=ctx.lang, options=options)


def performance(ctx: PageContext, view: results.RunResults, options: results.EvalOptions,
                stored: Mapping[int, Any]) -> None:
    """Chosen models side by side on the holdout or out-of-fold predictions, with the threshold rule."""
    ids = [r.model_id for r in view.rows]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        shown = pick_models(ctx, view, key=f"res_table_models_{view.run_id}", label_key="results.perf_models",
                            default=[view.reported_model_id] + [m for m in ids if m != view.reported_model_id][:2])
    parts = [p for p in ("test", "train") if any(e.part(p) is not None for e in stored.values())]
    part = right.radio(ctx.t("results.part"), parts or ["test"], horizontal=True, key=f"res_table_part_{view.run_id}",
                       format_func=lambda p: ctx.t(key("results.part_", p)))
    shown = [m for m in shown if m in stored]
    if not shown:
        st.caption(ctx.t("results.perf_pick"))
        return
    if view.task == "binary":
        rule = ctx.t(key("results.rule_", options.threshold_rule))
        target = "" if options.threshold_rule == "youden" else f" {options.threshold_target:g}"
        source = ctx.t(key("results.threshold_from_", stored[shown[0]].threshold_source))
        st.caption(ctx.t("results.perf_threshold", rule=rule + target, source=source))
    table = _view(ctx, view, "performance" if part == "test" else "performance_oof", shown, options)
    if table is not None:
        show_table(table)


def subgroups(ctx: PageContext, view: results.RunResults, options: results.EvalOptions) -> None:
    """The reported model's performance in each level of the variables chosen under the options."""
    if not options.subgroup_columns:
        st.caption(ctx.t("results.subgroups_none"))
        return
    table = _view(ctx, view, "subgroups", [view.reported_model_id], options)
    if table is not None:
        show_table(table)
