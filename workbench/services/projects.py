"""Projects, their members, and how far each has come along the wizard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from permissions.actions import Action
from permissions.policy import Actor
from pipelines.errors import Conflict, InputError, NotFound
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import (
    AuditEvent,
    DatasetVersion,
    Membership,
    Project,
    RecipeApproval,
    RecipeVersion,
    Run,
    User,
    utcnow,
)
from workbench.services import audit
from workbench.services._access import authorize

__all__ = [
    "ProjectSummary",
    "PROJECT_ROLES",
    "WIZARD_STEPS",
    "create_project",
    "list_projects",
    "get_project",
    "project_progress",
    "add_member",
    "list_members",
    "remove_member",
]

PROJECT_ROLES = ("owner", "clinician", "data_scientist", "collaborator")
WIZARD_STEPS = ("upload", "review", "train", "results", "export")
EXPORT_ACTIONS = ("figures.download", "tables.download", "paper_pack.download")  # what makes "export" done


@dataclass(frozen=True)
class ProjectSummary:
    id: int
    name: str
    description: str
    role: str
    is_demo: bool
    created_at: datetime
    datasets: int
    runs: int


def create_project(workbench: Workbench, actor: Actor, *, name: str, description: str = "", is_demo: bool = False) -> int:
    """Any active account may start a project; its creator becomes the owner."""
    authorize(workbench, actor, Action.PROJECT_CREATE)
    name = name.strip()
    if not name:
        raise InputError("projects.name_required")
    if len(name) > 200:
        raise InputError("projects.name_too_long", limit=200)
    with session_scope(workbench.engine) as session:
        project = Project(name=name, description=description.strip(), created_by=actor.user_id, is_demo=is_demo)
        session.add(project)
        session.flush()
        session.add(Membership(project_id=project.id, user_id=actor.user_id, role="owner", invited_by=actor.user_id))
        audit.record(session, actor_id=actor.user_id, actor_name=actor.name or "", action="project.create",
                     outcome="succeeded", resource_type="project", resource_id=project.id, project_id=project.id,
                     details={"name": name})
        return project.id


def list_projects(workbench: Workbench, actor: Actor) -> list[ProjectSummary]:
    """The projects this actor is a current member of (a site admin sees no others)."""
    now = utcnow()
    visible = [pid for pid, m in actor.memberships.items() if m.expires_at is None or m.expires_at > now]
    if not visible or not actor.active:
        return []
    with session_scope(workbench.engine, read_only=True) as session:
        datasets = dict(session.execute(select(DatasetVersion.project_id, func.count()).group_by(DatasetVersion.project_id)).all())
        runs = dict(session.execute(select(Run.project_id, func.count()).group_by(Run.project_id)).all())
        rows = session.scalars(select(Project).where(Project.id.in_(visible), Project.archived_at.is_(None)).order_by(Project.id))
        return [
            ProjectSummary(id=p.id, name=p.name, description=p.description, role=actor.memberships[p.id].role,
                           is_demo=p.is_demo, created_at=p.created_at, datasets=datasets.get(p.id, 0), runs=runs.get(p.id, 0))
            for p in rows
        ]


def get_project(workbench: Workbench, actor: Actor, project_id: int) -> Project:
    authorize(workbench, actor, Action.PROJECT_VIEW, project_id=project_id)
    with session_scope(workbench.engine) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("projects.not_found", project_id=project_id)
        session.expunge(project)
        return project


def project_progress(workbench: Workbench, actor: Actor, project_id: int) -> dict[str, bool]:
    """Which wizard steps are done: data uploaded, a recipe approved, a run trained, a model chosen
    for the paper, and a figure, table or paper pack of the project downloaded (the audit log's
    record of a download that was served, by anyone in the project)."""
    authorize(workbench, actor, Action.PROJECT_VIEW, project_id=project_id)
    with session_scope(workbench.engine, read_only=True) as session:
        has_data = bool(session.scalar(select(func.count()).select_from(DatasetVersion).where(DatasetVersion.project_id == project_id)))
        approved = bool(session.scalar(
            select(func.count()).select_from(RecipeApproval).join(RecipeVersion, RecipeApproval.recipe_version_id == RecipeVersion.id)
            .where(RecipeVersion.project_id == project_id)))
        trained = bool(session.scalar(select(func.count()).select_from(Run).where(Run.project_id == project_id)))
        chosen = bool(session.scalar(select(func.count()).select_from(Run).where(Run.project_id == project_id, Run.chosen_model_id.is_not(None))))
        exported = session.scalar(select(AuditEvent.id).where(
            AuditEvent.project_id == project_id, AuditEvent.action.in_(EXPORT_ACTIONS),
            AuditEvent.outcome == "succeeded").limit(1)) is not None
    return {"upload": has_data, "review": approved, "train": trained, "results": chosen, "export": exported}


def add_member(
    workbench: Workbench, actor: Actor, *, project_id: int, username: str, role: str, expires_at: datetime | None = None
) -> None:
    authorize(workbench, actor, Action.MEMBERS_MANAGE, project_id=project_id)
    if role not in PROJECT_ROLES:
        raise InputError("projects.bad_role", role=role, roles=PROJECT_ROLES)
    if expires_at is not None and expires_at <= utcnow():
        raise InputError("projects.expiry_in_past")
    with session_scope(workbench.engine) as session:
        user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
        if user is None or not user.active:
            raise NotFound("projects.user_not_found", username=username)
        existing = session.scalar(select(Membership).where(Membership.project_id == project_id, Membership.user_id == user.id))
        if existing is not None:
            if existing.role == "owner" and role != "owner" and _owner_count(session, project_id) == 1:
                raise Conflict("projects.last_owner")
            existing.role, existing.expires_at = role, expires_at
            action = "members.change_role"
        else:
            session.add(Membership(project_id=project_id, user_id=user.id, role=role, expires_at=expires_at, invited_by=actor.user_id))
            action = "members.add"
        audit.record(session, actor_id=actor.user_id, actor_name=actor.name or "", action=action, outcome="succeeded",
                     resource_type="user", resource_id=user.id, project_id=project_id,
                     details={"username": user.username, "role": role, "expires_at": expires_at.isoformat() if expires_at else None})


def list_members(workbench: Workbench, actor: Actor, project_id: int) -> list[tuple[str, str, datetime | None]]:
    authorize(workbench, actor, Action.PROJECT_VIEW, project_id=project_id)
    with session_scope(workbench.engine) as session:
        rows = session.execute(
            select(User.username, Membership.role, Membership.expires_at)
            .join(User, User.id == Membership.user_id).where(Membership.project_id == project_id).order_by(User.username))
        return [tuple(r) for r in rows]


def remove_member(workbench: Workbench, actor: Actor, *, project_id: int, username: str) -> None:
    authorize(workbench, actor, Action.MEMBERS_MANAGE, project_id=project_id)
    with session_scope(workbench.engine) as session:
        user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
        membership = None if user is None else session.scalar(
            select(Membership).where(Membership.project_id == project_id, Membership.user_id == user.id))
        if membership is None:
            raise NotFound("projects.user_not_found", username=username)
        if membership.role == "owner" and _owner_count(session, project_id) == 1:
            raise Conflict("projects.last_owner")
        session.delete(membership)
        audit.record(session, actor_id=actor.user_id, actor_name=actor.name or "", action="members.remove", outcome="succeeded",
                     resource_type="user", resource_id=user.id, project_id=project_id, details={"username": user.username})


def _owner_count(session, project_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Membership).where(Membership.project_id == project_id, Membership.role == "owner"))
