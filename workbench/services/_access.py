"""Turning database rows into the permission check's plain objects, and enforcing its decision.

Every service that touches a project calls :func:`authorize` first. A refusal is written to the
audit log in its own transaction (the caller's work is rolled back, the refusal must not be).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from permissions.actions import Action
from permissions.policy import Actor, Decision, Membership as PolicyMembership, Resource, check
from pipelines.errors import PermissionDenied
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Membership, User, utcnow
from workbench.services import audit

__all__ = ["NamedActor", "load_actor", "authorize"]


@dataclass(frozen=True)
class NamedActor(Actor):
    """The policy's actor plus the user name the audit log and the pages show."""

    name: str = ""
    must_change_password: bool = False  # an admin's temporary password: the shell opens only the change form

    def __hash__(self) -> int:
        return super().__hash__()


def load_actor(session: Session, user_id: int | None) -> NamedActor | None:
    """The actor for a user id; None (anonymous) when there is no such account."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return None
    rows = session.scalars(select(Membership).where(Membership.user_id == user.id))
    memberships = {m.project_id: PolicyMembership(role=m.role, expires_at=m.expires_at) for m in rows}
    return NamedActor(user_id=user.id, site_role=user.site_role, active=user.active, memberships=memberships,
                      name=user.username, must_change_password=bool(user.must_change_password))


def authorize(
    workbench: Workbench,
    actor: Actor | None,
    action: Action,
    *,
    project_id: int | None = None,
    resource: Resource | None = None,
    now: datetime | None = None,
) -> Decision:
    """Allow or raise PermissionDenied; a refusal is audited."""
    resource = resource or (Resource.project(project_id) if project_id is not None else Resource.site())
    decision = check(actor, action, resource, now=now or utcnow())
    if not decision.allowed:
        with session_scope(workbench.engine) as session:
            audit.record(
                session,
                actor_id=actor.user_id if actor else None,
                actor_name=getattr(actor, "name", ""),
                action=str(action),
                outcome="denied",
                resource_type="project" if project_id is not None else "site",
                resource_id=project_id if project_id is not None else "",
                project_id=project_id,
                reason=decision.reason,
            )
        raise PermissionDenied(decision.reason_key, action=str(action), reason=decision.reason, role=decision.role or "",
                               project_id=project_id, user_id=actor.user_id if actor else None)
    return decision
