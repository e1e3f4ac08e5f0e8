"""Spreadsheet-style fixes: cells edited in a grid become recorded ``edit_cell`` steps.

The grid shows a page of the table as the recipe leaves it (after its data-level steps), so an
edit is appended after them and its recorded old value is what the physician saw. The upload
itself is never changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from pages import _recipe_state as state
from pages._shell import PageContext
from pipelines.recipe import EditCell
from workbench.services.review import Preview

__all__ = ["render", "edits_to_steps"]

_ROWS = 50


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def edits_to_steps(before: pd.DataFrame, after: pd.DataFrame, *, key_column: str) -> list[EditCell]:
    """One EditCell per changed cell, keyed by ``key_column`` or by the uploaded row number."""
    steps: list[EditCell] = []
    for column in before.columns:
        for label in before.index:
            old, new = _plain(before.at[label, column]), _plain(after.at[label, column])
            if old == new or (old is None and new is None):
                continue
            row_key = _plain(before.at[label, key_column]) if key_column else int(label)
            steps.append(EditCell(column=str(column), row_key=row_key, old_value=old, new_value=new,
                                  key_column=key_column))
    return steps


def render(ctx: PageContext, draft: state.Draft, shown: Preview) -> None:
    st.subheader(ctx.t("review.page.grid"))
    st.caption(ctx.t("review.page.grid_caption"))
    frame = shown.prepared.frame
    a, b = st.columns([2, 1])
    keys = [""] + [c for c in frame.columns if frame[c].notna().all() and frame[c].is_unique]
    key_column = a.selectbox(ctx.t("review.page.grid_key"), keys, format_func=lambda c: c or ctx.t("review.words.row_number"),
                             key="rv_grid_key")
    pages = max(1, -(-len(frame) // _ROWS))
    number = int(b.number_input(ctx.t("review.page.grid_page", pages=pages), min_value=1, max_value=pages, value=1,
                                key="rv_grid_page")) - 1
    page = frame.iloc[number * _ROWS:(number + 1) * _ROWS]
    edited = st.data_editor(page, key=f"rv_grid_{draft.recipe.content_hash()[:10]}_{number}", width="stretch",
                            num_rows="fixed", height=min(38 + 35 * len(page), 420))
    if st.button(ctx.t("review.page.grid_record"), icon=":material/edit_note:", key="rv_grid_record"):
        steps = edits_to_steps(page, edited, key_column=key_column)
        if not steps:
            st.info(ctx.t("review.page.grid_nothing"))
            return
        recipe = draft.recipe
        for step in steps:
            recipe = recipe.add(step)
        if state.propose(ctx, recipe):
            st.session_state["rv_notice"] = ctx.t("review.page.grid_recorded", count=len(steps))
            st.rerun()
