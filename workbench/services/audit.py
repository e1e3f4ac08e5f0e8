"""Writing and reading the append-only audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from permissions.audit import AuditEvent as LogEvent
from permissions.audit import audit_csv
from workbench.db.models import AuditEvent, Project, User

__all__ = ["record", "query_events", "read_audit", "export_audit_csv", "LogEvent"]


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
    action: str | Sequence[str] | None = None,
    outcome: str | None = None,
    project_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 1000,
) -> list[AuditEvent]:
    """``action`` as text is the start of a code ('auth' finds every sign-in and sign-out); as a list,
    exact codes (the Audit page's picker of action names)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor_name:
        query = query.where(AuditEvent.actor_name == actor_name)
    if isinstance(action, str) and action:
        query = query.where(AuditEvent.action.startswith(action))
    elif action:
        query = query.where(AuditEvent.action.in_(list(action)))
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if project_id is not None:
        query = query.where(AuditEvent.project_id == project_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at <= until)
    return list(session.scalars(query))


def _named(session: Session, rows: list[AuditEvent]) -> list[LogEvent]:
    """The stored rows with names for their ids (current user and project names; the actor's name
    as written at the time, which the log keeps even if the account is renamed later)."""
    user_ids = {r.actor_id for r in rows if r.actor_id is not None}
    user_ids |= {int(r.resource_id) for r in rows if r.resource_type == "user" and r.resource_id.isdigit()}
    project_ids = {r.project_id for r in rows if r.project_id is not None}
    project_ids |= {int(r.resource_id) for r in rows if r.resource_type == "project" and r.resource_id.isdigit()}
    users = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) if user_ids else {}
    names = dict(session.execute(select(Project.id, Project.name).where(Project.id.in_(project_ids))).all()) \
        if project_ids else {}
    by_kind = {"user": users, "project": names}

    def resource_name(r: AuditEvent) -> str:
        known = by_kind.get(r.resource_type, {})
        return str(known.get(int(r.resource_id), "")) if r.resource_id.isdigit() else ""

    return [LogEvent(id=r.id, at=r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC), actor_id=r.actor_id,
                     actor_name=r.actor_name or users.get(r.actor_id, ""), action=r.action, outcome=r.outcome,
                     resource_type=r.resource_type, resource_id=r.resource_id, resource_name=resource_name(r),
                     project_id=r.project_id, project_name=names.get(r.project_id, ""), reason=r.reason,
                     details=r.details or {})
            for r in rows]


def read_audit(workbench, actor, **filters) -> list[LogEvent]:
    """The audit log for a site admin, newest first (filters as in :func:`query_events`), each
    event with the names of its user, resource and project."""
    from permissions.actions import Action
    from workbench.db.engine import session_scope
    from workbench.services._access import authorize

    authorize(workbench, actor, Action.AUDIT_READ)
    with session_scope(workbench.engine, read_only=True) as session:
        return _named(session, query_events(session, **filters))


def export_audit_csv(workbench, actor, **filters) -> str:
    """Every event the filters match as CSV (ids and names, formula-injection safe, written by
    :func:`permissions.audit.audit_csv`); the download itself is audited."""
    from permissions.actions import Action
    from workbench.db.engine import session_scope
    from workbench.services._access import authorize

    authorize(workbench, actor, Action.AUDIT_READ)
    with session_scope(workbench.engine) as session:
        events = _named(session, query_events(session, **{**filters, "limit": None}))  # not the page's newest only
        record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="audit.download",
               outcome="succeeded", details={"rows": len(events)})
    return audit_csv(events)
