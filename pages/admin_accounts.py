"""Site admin: create accounts, deactivate and reactivate them (history is kept), reset a password."""

from __future__ import annotations

import streamlit as st

from pages._shell import attempt, page_context, succeeded
from workbench.services import accounts

ctx = page_context()
st.title(ctx.t("admin.accounts.title"))


def role_name(code: str) -> str:
    return ctx.t(f"auth.role.{code}")


users = attempt(ctx.lang, accounts.list_users, ctx.workbench, ctx.actor) or []
st.dataframe(
    [{ctx.t("admin.col.username"): u.username, ctx.t("admin.col.email"): u.email or "",
      ctx.t("admin.col.site_role"): role_name(u.site_role), ctx.t("admin.col.active"): u.active,
      ctx.t("admin.col.must_change"): u.must_change_password,
      ctx.t("admin.col.created"): f"{u.created_at:%Y-%m-%d}"} for u in users],
    hide_index=True, width="stretch",
)

st.subheader(ctx.t("admin.accounts.new"))
st.caption(ctx.t("admin.accounts.password_rules"))
with st.form("new_user", clear_on_submit=True):
    username = st.text_input(ctx.t("app.username"))
    email = st.text_input(ctx.t("admin.col.email"))
    password = st.text_input(ctx.t("app.password"), type="password", autocomplete="new-password")
    site_role = st.selectbox(ctx.t("admin.col.site_role"), ["user", "admin"], format_func=role_name)
    if st.form_submit_button(ctx.t("admin.accounts.create"), type="primary"):
        if attempt(ctx.lang, accounts.create_user, ctx.workbench, ctx.actor, username=username, password=password,
                   email=email or None, site_role=site_role) is not None:
            st.success(ctx.t("admin.accounts.created", username=username))

if users:
    st.subheader(ctx.t("admin.accounts.activation"))
    with st.form("activation"):
        by_name = {u.username: u for u in users}
        who = st.selectbox(ctx.t("app.username"), list(by_name))
        active = st.toggle(ctx.t("admin.col.active"), value=True)
        if st.form_submit_button(ctx.t("admin.accounts.apply")):
            if succeeded(ctx.lang, accounts.set_active, ctx.workbench, ctx.actor, user_id=by_name[who].id, active=active):
                st.rerun()

resettable = {u.username: u for u in users if u.active and u.id != ctx.actor.user_id}  # what the service accepts
if resettable:
    st.subheader(ctx.t("admin.accounts.reset"))
    st.caption(ctx.t("admin.accounts.reset_caption"))
    st.caption(ctx.t("admin.accounts.password_rules"))
    with st.form("reset_password", clear_on_submit=True):
        who = st.selectbox(ctx.t("app.username"), list(resettable), key="reset_who")
        first = st.text_input(ctx.t("admin.accounts.temporary_password"), type="password", autocomplete="new-password")
        again = st.text_input(ctx.t("admin.accounts.temporary_password_again"), type="password",
                              autocomplete="new-password")
        if st.form_submit_button(ctx.t("admin.accounts.reset_button"), type="primary"):
            if first != again:
                st.error(ctx.t("account.passwords_differ"), icon=":material/error:")
            elif succeeded(ctx.lang, accounts.reset_password, ctx.workbench, ctx.actor,
                           user_id=resettable[who].id, new_password=first):
                st.session_state["_reset_done"] = who
                st.rerun()  # the table shows the account's new mark
    done = st.session_state.pop("_reset_done", None)
    if done:  # under the form, where the admin is looking
        st.success(ctx.t("admin.accounts.reset_done", username=done), icon=":material/check_circle:")
