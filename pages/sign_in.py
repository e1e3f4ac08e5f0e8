"""Sign in with a local account, or with the hospital's single sign-on when it is set up."""

from __future__ import annotations

import streamlit as st

from pages._shell import attempt, hand_over
from workbench import browser_session
from workbench.i18n import message, t
from workbench.services import accounts

_wb = st.session_state.get("_wb_for_sign_in")
lang = st.session_state.get("_sign_in_lang", "en")

st.title(t("app.title", lang))
st.write(t("app.tagline", lang))
notice = st.session_state.pop("_notice", None)
if notice:
    st.info(t(notice, lang))

if _wb is not None and _wb.settings.sso_enabled:
    refusal = st.session_state.get("_sso_refusal")
    if refusal is not None:
        st.error(message(refusal, lang), icon=":material/block:")
        if browser_session.enabled() and not st.session_state.get("_identity_forgotten"):
            # Drop Streamlit's identity cookie now, so a reload does not try (and audit) it again.
            st.html(browser_session.forget_identity_script(), unsafe_allow_javascript=True)
            st.session_state["_identity_forgotten"] = True
    label = _wb.settings.sso_label or t("auth.sso.default_label", lang)
    if st.button(t("auth.sso.button", lang, label=label), type="primary", icon=":material/badge:"):
        st.session_state.pop("_sso_refusal", None)
        st.login()
    st.caption(t("auth.sso.or_local", lang))

with st.form("sign_in", clear_on_submit=False):
    username = st.text_input(t("app.username", lang), autocomplete="username")
    password = st.text_input(t("app.password", lang), type="password", autocomplete="current-password")
    submitted = st.form_submit_button(t("app.sign_in", lang), type="primary")

if submitted:
    signed_in = attempt(lang, accounts.sign_in, _wb, username=username, password=password)
    if signed_in is not None:
        hand_over(signed_in.token)
