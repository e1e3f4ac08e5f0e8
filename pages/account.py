"""The signed-in user's own account: change password.

After a site admin's reset the shell opens only this page, with the form explained, until the
temporary password is replaced (the mark is the server's, read with the session: ``NamedActor.must_change_password``).
"""

from __future__ import annotations

import streamlit as st

from pages._shell import page_context, succeeded
from workbench.services import accounts

ctx = page_context()
forced = ctx.actor.must_change_password
st.title(ctx.t("account.title"))
st.write(ctx.t("app.signed_in_as", name=ctx.actor.name))
if st.session_state.pop("_password_changed", False):
    st.success(ctx.t("account.password_changed"))
if forced:
    st.warning(ctx.t("account.must_change"), icon=":material/lock_reset:")
st.caption(ctx.t("admin.accounts.password_rules"))
with st.form("password", clear_on_submit=True):
    current = st.text_input(ctx.t("account.temporary_password" if forced else "account.current_password"),
                            type="password", autocomplete="current-password")
    new = st.text_input(ctx.t("account.new_password"), type="password", autocomplete="new-password")
    again = st.text_input(ctx.t("account.new_password_again"), type="password", autocomplete="new-password")
    if st.form_submit_button(ctx.t("account.change_password"), type="primary"):
        if new != again:
            st.error(ctx.t("account.passwords_differ"), icon=":material/error:")
        elif succeeded(ctx.lang, accounts.change_password, ctx.workbench, ctx.actor, current=current, new=new):
            if forced:  # every page opens again; the start page (or the page asked for) follows
                st.toast(ctx.t("account.password_changed"), icon=":material/check_circle:")
                st.session_state["_password_changed"] = True
                st.rerun()
            st.success(ctx.t("account.password_changed"))
