"""Who works on the current project, with which role and until when."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from permissions.actions import Action
from pages._shell import attempt, page_context, succeeded
from workbench.services import invitations, projects

ctx = page_context()
st.title(ctx.t("members.title"))
# the usual term for an outside collaborator, as a date to pick (the picker counts no days)
ENDS_HELP = ctx.t("members.expires_help", in_90_days=f"{datetime.now(UTC).date() + timedelta(days=90):%Y-%m-%d}")
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
        expires = st.date_input(ctx.t("members.expires"), value=None, help=ENDS_HELP)
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

if ctx.can(Action.MEMBERS_INVITE):
    st.subheader(ctx.t("invitations.title"))
    if not ctx.workbench.settings.sso_enabled:
        st.info(ctx.t("invitations.needs_sso"))
    else:
        st.caption(ctx.t("invitations.help", days=ctx.workbench.settings.invitation_days))
        with st.form("invite_email", clear_on_submit=True):
            email = st.text_input(ctx.t("invitations.email"), placeholder="name@hospital.example", key="invite_email_address")
            role = st.selectbox(ctx.t("invitations.role"), projects.PROJECT_ROLES, index=3,
                                format_func=lambda r: ctx.t("roles." + r), key="invite_email_role")
            expires = st.date_input(ctx.t("invitations.expires"), value=None, key="invite_email_expires",
                                    help=ENDS_HELP)
            if st.form_submit_button(ctx.t("invitations.send"), type="primary"):
                expires_at = datetime.combine(expires, time(23, 59), tzinfo=UTC) if expires else None
                invited = attempt(ctx.lang, invitations.invite, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                                  email=email, role=role, expires_at=expires_at)
                if invited is not None:
                    until = invited.valid_until.strftime("%Y-%m-%d")
                    st.success(ctx.t("invitations.updated", email=invited.email, role=ctx.t("roles." + role), valid_until=until)
                               if invited.updated else ctx.t("invitations.sent", email=invited.email, valid_until=until))
        pending = attempt(ctx.lang, invitations.list_invitations, ctx.workbench, ctx.actor, ctx.project_id) or []
        st.markdown("**" + ctx.t("invitations.pending") + "**")
        if not pending:
            st.caption(ctx.t("invitations.none"))
        else:
            st.dataframe(
                [{ctx.t("invitations.col.email"): p.email, ctx.t("invitations.col.role"): ctx.t("roles." + p.role),
                  ctx.t("invitations.col.expires"): p.membership_expires_at.strftime("%Y-%m-%d") if p.membership_expires_at else "—",
                  ctx.t("invitations.col.invited_by"): p.invited_by,
                  ctx.t("invitations.col.valid_until"): p.valid_until.strftime("%Y-%m-%d")} for p in pending],
                hide_index=True, width="stretch",
            )
            with st.form("revoke_invitation"):
                chosen = st.selectbox(ctx.t("invitations.revoke_which"), pending, format_func=lambda p: p.email)
                if st.form_submit_button(ctx.t("invitations.revoke")):
                    if succeeded(ctx.lang, invitations.revoke_invitation, ctx.workbench, ctx.actor,
                                 project_id=ctx.project_id, invitation_id=chosen.id):
                        st.session_state["_invitation_revoked"] = chosen.email
                        st.rerun()
        revoked = st.session_state.pop("_invitation_revoked", None)
        if revoked:
            st.success(ctx.t("invitations.revoked", email=revoked))
