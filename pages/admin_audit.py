"""Site admin: read, filter and download the audit log. Nothing here can change it."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from pages._shell import attempt, page_context
from workbench.services import audit

ctx = page_context()
st.title(ctx.t("admin.audit.title"))
st.caption(ctx.t("admin.audit.caption"))

left, middle, right, last = st.columns(4)
who = left.text_input(ctx.t("admin.audit.actor"))
action = middle.text_input(ctx.t("admin.audit.action"))
outcome = right.selectbox(ctx.t("admin.audit.outcome"), ["", "succeeded", "denied", "failed"],
                          format_func=lambda o: o or ctx.t("admin.audit.any"))
since = last.date_input(ctx.t("admin.audit.since"), value=None)
filters = {"actor_name": who or None, "action": action or None, "outcome": outcome or None,
           "since": datetime.combine(since, time.min, tzinfo=UTC) if since else None}

events = attempt(ctx.lang, audit.read_audit, ctx.workbench, ctx.actor, **filters) or []
st.dataframe(
    [{"UTC": f"{e.at:%Y-%m-%d %H:%M:%S}", ctx.t("admin.audit.actor"): e.actor_name, ctx.t("admin.audit.action"): e.action,
      ctx.t("admin.audit.outcome"): e.outcome, ctx.t("admin.audit.resource"): f"{e.resource_type} {e.resource_id}".strip(),
      ctx.t("admin.audit.project"): e.project_id, ctx.t("admin.audit.reason"): e.reason} for e in events],
    hide_index=True, width="stretch",
)
if st.button(ctx.t("admin.audit.prepare_csv"), icon=":material/download:"):
    csv_text = attempt(ctx.lang, audit.export_audit_csv, ctx.workbench, ctx.actor, **filters)
    if csv_text is not None:
        st.download_button(ctx.t("admin.audit.download_csv"), csv_text.encode("utf-8-sig"), file_name="audit-log.csv",
                           mime="text/csv")
