"""Site admin: read, filter and download the audit log. Nothing here can change it."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from pages._shell import attempt, page_context
from workbench.services import audit

ctx = page_context()
st.title(ctx.t("admin.audit.title"))
st.caption(ctx.t("admin.audit.caption"))

OUTCOMES = ("succeeded", "denied", "failed")
SHOWN = 1000  # the newest events the table holds; the CSV holds every event the filters match


def _outcome(value: str) -> str:
    return ctx.t("admin.audit.outcomes." + value) if value in OUTCOMES else value


left, middle, right, last = st.columns(4)
who = left.text_input(ctx.t("admin.audit.actor"), help=ctx.t("admin.audit.actor_help"))
action = middle.text_input(ctx.t("admin.audit.action"), placeholder=ctx.t("admin.audit.action_placeholder"),
                           help=ctx.t("admin.audit.action_help"))
outcome = right.selectbox(ctx.t("admin.audit.outcome"), ["", *OUTCOMES],
                          format_func=lambda o: _outcome(o) if o else ctx.t("admin.audit.any"))
since = last.date_input(ctx.t("admin.audit.since"), value=None)
filters = {"actor_name": who or None, "action": action or None, "outcome": outcome or None,
           "since": datetime.combine(since, time.min, tzinfo=UTC) if since else None}

events = attempt(ctx.lang, audit.read_audit, ctx.workbench, ctx.actor, limit=SHOWN, **filters) or []
st.caption(ctx.t("admin.audit.shown_all" if len(events) < SHOWN else "admin.audit.shown_newest", count=len(events)))
st.dataframe(
    [{"UTC": f"{e.at:%Y-%m-%d %H:%M:%S}", ctx.t("admin.audit.actor"): e.actor_name, ctx.t("admin.audit.action"): e.action,
      ctx.t("admin.audit.outcome"): _outcome(e.outcome),
      ctx.t("admin.audit.resource"): f"{e.resource_type} {e.resource_id}".strip(),
      ctx.t("admin.audit.project"): "" if e.project_id is None else str(e.project_id),
      ctx.t("admin.audit.reason"): e.reason} for e in events],
    hide_index=True, width="stretch",
)
if st.button(ctx.t("admin.audit.prepare_csv"), icon=":material/download:"):
    csv_text = attempt(ctx.lang, audit.export_audit_csv, ctx.workbench, ctx.actor, **filters)
    if csv_text is not None:
        st.download_button(ctx.t("admin.audit.download_csv"), csv_text.encode("utf-8-sig"), file_name="audit-log.csv",
                           mime="text/csv")
