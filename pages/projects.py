"""Home: the user's projects, a new project, and where the current one stands."""

from __future__ import annotations

import streamlit as st

from permissions.actions import Action
from pages._shell import attempt, page_context
from workbench.services import projects

ctx = page_context()
st.title(ctx.t("projects.title"))

mine = st.session_state.get("_projects", {})


def _name(project) -> str:
    """The name, marked as the demo unless its name already says so (the shipped demo is named
    "... (demo)": not "(demo) (demo)")."""
    badge = ctx.t("projects.demo_badge")
    said = any(mark in project.name for mark in (badge, "(demo)"))
    return project.name + (" " + badge if project.is_demo and not said else "")


if not mine:
    st.info(ctx.t("projects.none_yet"))
else:
    rows = [
        {
            ctx.t("projects.col.name"): _name(p),
            ctx.t("projects.col.role"): ctx.t("roles." + p.role),
            ctx.t("projects.col.datasets"): p.datasets,
            ctx.t("projects.col.runs"): p.runs,
            ctx.t("projects.col.created"): p.created_at.strftime("%Y-%m-%d"),
        }
        for p in mine.values()
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    current = mine.get(ctx.project_id)
    if current is not None:
        st.subheader(current.name)
        if current.description:
            st.write(current.description)
        progress = attempt(ctx.lang, projects.project_progress, ctx.workbench, ctx.actor, current.id) or {}
        columns = st.columns(len(projects.WIZARD_STEPS))
        for column, step in zip(columns, projects.WIZARD_STEPS, strict=True):
            done = progress.get(step, False)
            column.metric(ctx.t("app.step." + step), ctx.t("projects.done") if done else ctx.t("projects.not_yet"))

if ctx.can(Action.PROJECT_CREATE, project=False):
    with st.expander(ctx.t("projects.new"), expanded=not mine):
        with st.form("new_project", clear_on_submit=True):
            name = st.text_input(ctx.t("projects.name"), max_chars=200)
            description = st.text_area(ctx.t("projects.description"), max_chars=2000)
            if st.form_submit_button(ctx.t("projects.create"), type="primary"):
                new_id = attempt(ctx.lang, projects.create_project, ctx.workbench, ctx.actor, name=name, description=description)
                if new_id is not None:
                    st.session_state["project_id"] = new_id
                    st.rerun()
