"""Data: upload a hospital export, choose what becomes the dataset version, and look at it."""

from __future__ import annotations

import streamlit as st

from permissions.actions import Action
from pages import _upload, _viewer
from pages._shell import attempt, page_context
from workbench.services import datasets

ctx = page_context()
st.title(ctx.t("data.title"))

versions = attempt(ctx.lang, datasets.list_versions, ctx.workbench, ctx.actor, ctx.project_id) or []
tabs = [ctx.t("data.tab.view")] + ([ctx.t("data.tab.upload")] if ctx.can(Action.DATASET_UPLOAD) else [])
view_tab, *upload_tab = st.tabs(tabs)

with view_tab:
    if not versions:
        st.info(ctx.t("data.no_versions"))
    else:
        by_id = {v.id: v for v in versions}
        chosen = st.selectbox(
            ctx.t("data.version"), list(by_id),
            format_func=lambda vid: ctx.t("data.version_label", version=by_id[vid].version, label=by_id[vid].label,
                                          rows=f"{by_id[vid].n_rows:,}", columns=by_id[vid].n_columns,
                                          when=f"{by_id[vid].created_at:%Y-%m-%d %H:%M}"),
            key=f"data_version_{versions[0].id}")  # a new version becomes the one shown
        _viewer.render(ctx, by_id[chosen])

if upload_tab:
    with upload_tab[0]:
        _upload.render(ctx)
