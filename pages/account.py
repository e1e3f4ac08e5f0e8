"""The signed-in user's own account: change password."""

from __future__ import annotations

import streamlit as st

from pages._shell import page_context, succeeded
from workbench.services import accounts

ctx = page_context()
st.title(ctx.t("account.title"))
st.write(ctx.t("app.signed_in_as", name=ctx.actor.name))
st.caption(ctx.t("admin.accounts.password_rules"))
with st.form("password", clear_on_submit=True):
    current = st.text_input(ctx.t("account.current_password"), type="password", autocomplete="current-password")
    new = st.text_input(ctx.t("account.new_password"), type="password", autocomplete="new-password")
    if st.form_submit_button(ctx.t("account.change_password"), type="primary"):
        if succeeded(ctx.lang, accounts.change_password, ctx.workbench, ctx.actor, current=current, new=new):
            st.success(ctx.t("account.password_changed"))
