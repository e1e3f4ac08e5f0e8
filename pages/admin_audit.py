"""Site admin: read, filter and download the audit log. Nothing here can change it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import streamlit as st

from pages._shell import attempt, page_context
from permissions.actions import Action
from workbench.i18n import catalogue, named
from workbench.services import audit

ctx = page_context()
st.title(ctx.t("admin.audit.title"))
st.caption(ctx.t("admin.audit.caption"))

OUTCOMES = ("succeeded", "denied", "failed", "allowed", "queued", "cancelled")
SHOWN = 1000  # the newest events the table holds; the CSV holds every event the filters match


def _outcome(value: str) -> str:
    return named("admin.audit.outcomes.", value, ctx.lang)


def _reason(code: str) -> str:
    """A refusal or failure reason in words: the log's short codes have their own line; a stored
    message key reads as its message, with the details it needed left out."""
    if not code or ("admin.audit.reasons." + code) in catalogue("en"):
        return named("admin.audit.reasons.", code, ctx.lang) if code else ""
    return re.sub(r"\s*[\"'(]?\{\w+\}[\"')]?", " \u2026", named("", code, ctx.lang))


# An event's action by name: the log's own events (sign-in, member added...) have their names here; the
# permission actions (also the code of every refusal) keep the names the roles use. IT keeps the code.
EVENT_NAMES, PERMISSION_NAMES = "admin.audit.actions.", "auth.action."
ACTIONS = sorted({a.value for a in Action} | {k.removeprefix(EVENT_NAMES) for k in catalogue("en") if k.startswith(EVENT_NAMES)})


def _action(code: str) -> str:
    return named(EVENT_NAMES if EVENT_NAMES + code in catalogue("en") else PERMISSION_NAMES, code, ctx.lang)


def _resource(e: audit.LogEvent) -> str:
    if not e.resource_type:
        return ""
    kind = named("admin.audit.resource_types.", e.resource_type, ctx.lang)
    return f"{kind} {e.resource_name or ('#' + e.resource_id if e.resource_id else '')}".strip()


# One option per name (a refused permission and the event it allows may share one, e.g. changing one's own
# password), filtering by every code of that name; on a row of its own (beside the other filters two picked
# names were cut at 1024 px).
codes_named: dict[str, list[str]] = {}
for code in ACTIONS:
    codes_named.setdefault(_action(code), []).append(code)
picked = st.multiselect(ctx.t("admin.audit.action"), [codes[0] for codes in codes_named.values()], format_func=_action,
                        placeholder=ctx.t("admin.audit.action_placeholder"), help=ctx.t("admin.audit.action_help"),
                        select_all=False)  # none picked is every action; Streamlit's "Select all" is English only
action = [code for first in picked for code in codes_named[_action(first)]]
left, right, last = st.columns([1.2, 1, 1])  # the date box shows yyyy/mm/dd whole at 1024 px
who = left.text_input(ctx.t("admin.audit.actor"), help=ctx.t("admin.audit.actor_help"))
outcome = right.selectbox(ctx.t("admin.audit.outcome"), ["", *OUTCOMES],
                          format_func=lambda o: _outcome(o) if o else ctx.t("admin.audit.any"))
since = last.date_input(ctx.t("admin.audit.since"), value=None)
filters = {"actor_name": who or None, "action": tuple(action) or None, "outcome": outcome or None,
           "since": datetime.combine(since, time.min, tzinfo=UTC) if since else None}

events = attempt(ctx.lang, audit.read_audit, ctx.workbench, ctx.actor, limit=SHOWN, **filters) or []
st.caption(ctx.t("admin.audit.shown_all" if len(events) < SHOWN else "admin.audit.shown_newest", count=len(events)))
st.dataframe(
    [{"UTC": f"{e.at:%Y-%m-%d %H:%M:%S}", ctx.t("admin.audit.actor"): e.actor_name, ctx.t("admin.audit.action"): _action(e.action),
      ctx.t("admin.audit.outcome"): _outcome(e.outcome), ctx.t("admin.audit.resource"): _resource(e),
      ctx.t("admin.audit.project"): e.project_name or ("" if e.project_id is None else f"#{e.project_id}"),
      ctx.t("admin.audit.reason"): _reason(e.reason), ctx.t("admin.audit.code"): e.action} for e in events],
    hide_index=True, width="stretch",
    column_config={ctx.t("admin.audit.code"): st.column_config.TextColumn(width="small", help=ctx.t("admin.audit.code_help"))},
)
if st.button(ctx.t("admin.audit.prepare_csv"), icon=":material/download:"):
    csv_text = attempt(ctx.lang, audit.export_audit_csv, ctx.workbench, ctx.actor, **filters)
    if csv_text is not None:
        st.download_button(ctx.t("admin.audit.download_csv"), csv_text.encode("utf-8-sig"), file_name="audit-log.csv",
                           mime="text/csv")
