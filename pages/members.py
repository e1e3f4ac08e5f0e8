"""Who works on the current project, with which role and until when."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from permissions.actions import Action
from pages._shell import attempt, page_context, succeeded
from workbench.services import projects

ctx = page_context()
st.title(ctx.t("members.title"))
members = attempt(ctx.lang, projects.list_members, ctx.workbench, ctx.actor, ctx.project_id) or []
st.dataframe(
    [{ctx.t("members.col.user"): u, ctx.t("members.col.role"): ctx.t("roles." + r),
      ctx.t("members.col.expires"): e.strftime("%Y-%m-%d") if e else "—"} for u, r, e in members],
    hide_index=True, width="stretch",
)

if ctx.can(Action.MEMBERS_MANAGE):
    st.subheader(ctx.t("members.invite"))
    with st.form("invite", clear_on_submit=True):
        username = st.text_input(ctx.t("members.username"))
        role = st.selectbox(ctx.t("members.role"), projects.PROJECT_ROLES, index=3, format_func=lambda r: ctx.t("roles." + r))
        expires = st.date_input(ctx.t("members.expires"), value=None)
        if st.form_submit_button(ctx.t("members.add"), type="primary"):
            expires_at = datetime.combine(expires, time(23, 59), tzinfo=UTC) if expires else None
            if succeeded(ctx.lang, projects.add_member, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                         username=username, role=role, expires_at=expires_at):
                st.success(ctx.t("members.added", username=username))
    if members:
        with st.form("remove"):
            who = st.selectbox(ctx.t("members.remove_who"), [u for u, _, _ in members])
            if st.form_submit_button(ctx.t("members.remove")):
                if succeeded(ctx.lang, projects.remove_member, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                             username=who):
                    st.rerun()
