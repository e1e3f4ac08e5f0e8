"""Sign in with a local account."""

from __future__ import annotations

import streamlit as st

from pages._shell import attempt
from workbench.i18n import t
from workbench.services import accounts

_wb = st.session_state.get("_wb_for_sign_in")
lang = st.session_state.get("_sign_in_lang", "en")

st.title(t("app.title", lang))
st.write(t("app.tagline", lang))
notice = st.session_state.pop("_notice", None)
if notice:
    st.info(t(notice, lang))

with st.form("sign_in", clear_on_submit=False):
    username = st.text_input(t("app.username", lang), autocomplete="username")
    password = st.text_input(t("app.password", lang), type="password", autocomplete="current-password")
    submitted = st.form_submit_button(t("app.sign_in", lang), type="primary")

if submitted:
    signed_in = attempt(lang, accounts.sign_in, _wb, username=username, password=password)
    if signed_in is not None:
        st.session_state["token"] = signed_in.token
        st.rerun()
