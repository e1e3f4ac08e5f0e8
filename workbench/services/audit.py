"""Writing and reading the append-only audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import AuditEvent

__all__ = ["record", "query_events"]


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor_name: str,
    action: str,
    outcome: str,
    resource_type: str = "",
    resource_id: str | int = "",
    project_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event to the caller's unit of work (so it commits with the change it describes)."""
    session.add(
        AuditEvent(
            actor_id=actor_id,
            actor_name=actor_name,
            action=str(action),
            outcome=outcome,
            resource_type=resource_type,
            resource_id=str(resource_id),
            project_id=project_id,
            reason=reason,
            details=details or {},
        )
    )


def query_events(
    session: Session,
    *,
    actor_name: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    project_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 1000,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor_name:
        query = query.where(AuditEvent.actor_name == actor_name)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if project_id is not None:
        query = query.where(AuditEvent.project_id == project_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at <= until)
    return list(session.scalars(query))


def read_audit(workbench, actor, **filters) -> list[AuditEvent]:
    """The audit log for a site admin, newest first (filters as in :func:`query_events`)."""
    from permissions.actions import Action
    from workbench.db.engine import session_scope
    from workbench.services._access import authorize

    authorize(workbench, actor, Action.AUDIT_READ)
    with session_scope(workbench.engine) as session:
        events = query_events(session, **filters)
        for event in events:
            session.expunge(event)
        return events


def export_audit_csv(workbench, actor, **filters) -> str:
    """The filtered log as CSV, formula-injection safe; the download itself is audited."""
    import csv
    import io

    from permissions.actions import Action
    from permissions.audit import csv_safe_cell
    from workbench.db.engine import session_scope
    from workbench.services._access import authorize

    authorize(workbench, actor, Action.AUDIT_READ)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "utc_time", "actor_id", "actor", "action", "outcome", "resource_type", "resource_id",
                     "project_id", "reason", "details"])
    with session_scope(workbench.engine) as session:
        events = query_events(session, **{**filters, "limit": None})  # every matching event, not the page's newest
        for e in events:
            writer.writerow([csv_safe_cell(v) for v in (
                e.id, e.at.isoformat(), e.actor_id, e.actor_name, e.action, e.outcome, e.resource_type, e.resource_id,
                e.project_id, e.reason, json.dumps(e.details, ensure_ascii=False, sort_keys=True))])
        record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="audit.download",
               outcome="succeeded", details={"rows": len(events)})
    return buffer.getvalue()
