"""Review: build the preprocessing recipe with clicks, look at the prepared data, approve it.

Nothing trains until a person has looked at what the recipe does to the patients' table and
approved that exact version; every change is a new version that needs its own approval.
"""

from __future__ import annotations

import streamlit as st

from permissions.actions import Action
from pages import _recipe_grid, _recipe_review, _recipe_state as state, _recipe_steps
from pages._shell import attempt, page_context
from pipelines.recipe import column_kind
from workbench.services import datasets, recipes

ctx = page_context()
st.title(ctx.t("review.page.title"))
st.caption(ctx.t("review.page.caption"))

data_versions = attempt(ctx.lang, datasets.list_versions, ctx.workbench, ctx.actor, ctx.project_id) or []
if not data_versions:
    st.info(ctx.t("review.page.no_data"))
    st.stop()

by_data = {v.id: v for v in data_versions}
# the dataset version on a row of its own (its label holds the file name and size: cut at 1024 px beside the
# recipe picker), the recipe version and the four-eyes switch below it
dataset_id = st.selectbox(
    ctx.t("review.page.dataset"), list(by_data), key="rv_dataset",
    format_func=lambda i: ctx.t("review.page.dataset_label", version=by_data[i].version, label=by_data[i].label,
                                rows=f"{by_data[i].n_rows:,}", columns=by_data[i].n_columns))
all_versions = attempt(ctx.lang, recipes.list_versions, ctx.workbench, ctx.actor, ctx.project_id) or []
versions = [v for v in all_versions if v.dataset_version_id == dataset_id]
by_version = {v.id: v for v in versions}
options = [0] + list(by_version)
if "rv_version_next" in st.session_state:  # chosen by "Save" in the previous run
    st.session_state["rv_version"] = st.session_state.pop("rv_version_next")
if st.session_state.get("rv_version") not in options:
    st.session_state["rv_version"] = options[1] if len(options) > 1 else 0
head_b, head_c = st.columns([3, 2], vertical_alignment="bottom")
choice = head_b.selectbox(ctx.t("review.page.recipe_version"), options, key="rv_version",
                          format_func=lambda i: ctx.t("review.page.new_recipe") if i == 0 else
                          ctx.t("review.page.version_label", version=by_version[i].version,
                                when=f"{by_version[i].created_at:%Y-%m-%d %H:%M}"))
with head_c:
    _recipe_review.four_eyes_setting(ctx)

draft = state.current()
if draft is None or st.session_state.get("rv_loaded") != (dataset_id, choice):
    if choice:
        row, recipe = recipes.get_version(ctx.workbench, ctx.actor, choice)
        draft = state.load(dataset_id, row.id, recipe, row.content_sha256)
    else:
        draft = state.load(dataset_id, None, None, None)
    st.session_state["rv_loaded"] = (dataset_id, choice)

notice = st.session_state.pop("rv_notice", None)
if notice:
    st.success(notice)

shown = state.preview_of(ctx, draft)
can_edit = ctx.can(Action.RECIPE_EDIT)
profile_types = (by_data[dataset_id].profile or {}).get("types", {})
raw_columns = list(profile_types)
frame = shown.prepared.frame if shown is not None else None
columns = [str(c) for c in frame.columns] if frame is not None else raw_columns
numeric = [c for c in columns if frame is not None and column_kind(frame[c].dtype) == "numeric"]
categories = {c: sorted(map(str, frame[c].dropna().unique()))[:200] for c in columns
              if frame is not None and column_kind(frame[c].dtype) == "categorical"}

# a radio, not st.tabs: every tick of a warning reruns the page, and the chosen section must stay
section = st.radio(ctx.t("review.page.section"), ("build", "review", "versions"), horizontal=True, key="rv_section",
                   format_func=lambda s: ctx.t("review.page.tab." + s), label_visibility="collapsed")
st.divider()
if section == "build":
    if can_edit:
        _recipe_steps.outcome_section(ctx, draft, raw_columns)
    _recipe_steps.step_list(ctx, draft)
    if can_edit and draft.recipe is not None:
        _recipe_steps.add_step_form(ctx, draft, columns, categories, numeric)
        if shown is not None:
            _recipe_grid.render(ctx, draft, shown)
        _recipe_steps.split_form(ctx, draft, columns)
        st.divider()
        if draft.edited or draft.parent_id is None:
            st.caption(ctx.t("review.page.unsaved"))
        if st.button(ctx.t("review.page.save"), icon=":material/save:", type="primary",
                     disabled=not (draft.edited or draft.parent_id is None), key="rv_save"):
            new_id = attempt(ctx.lang, recipes.save_version, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                             dataset_version_id=dataset_id, recipe=draft.recipe, parent_id=draft.parent_id)
            if new_id is not None:
                row, recipe = recipes.get_version(ctx.workbench, ctx.actor, new_id)
                state.load(dataset_id, new_id, recipe, row.content_sha256)
                st.session_state["rv_version_next"] = new_id
                st.session_state["rv_loaded"] = (dataset_id, new_id)
                st.session_state["rv_notice"] = ctx.t("review.page.saved", version=row.version)
                st.rerun()

elif section == "review":
    if shown is None:
        st.info(ctx.t("review.page.nothing_to_review"))
    else:
        _recipe_review.render_review(ctx, draft, shown)

else:
    _recipe_review.render_versions(ctx, versions)
