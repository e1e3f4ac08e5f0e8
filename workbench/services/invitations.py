"""Owners invite an e-mail address into a project; the invitation is redeemed at single sign-on.

Someone from another hospital often has no account here yet. The owner offers a project role to
their e-mail address; when that person first signs in through the hospital's identity provider
with this address *verified*, ``accounts.sign_in_sso`` creates a plain account for them (no
password, no site rights) and :func:`redeem` turns the offer into a membership. The rights come
from the owner's invitation, never from the provider's claims, and an invitation is only as good as
its inviter: one whose inviter is no longer owner of the project (or whose project was archived)
is not honoured.

Inviting an address that already has a pending invitation to the project updates that invitation
(role, access end, a fresh lifetime) instead of adding a second one, as ``add_member`` updates an
existing membership; the owner is told it was an update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from permissions.actions import Action
from permissions.policy import Actor, Resource, check
from permissions.sso import InvitationState, choose_invitations, normalise_email, valid_email
from pipelines.errors import Conflict, InputError, NotFound
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Invitation, Membership, Project, User, utcnow
from workbench.services import audit
from workbench.services._access import authorize, load_actor
from workbench.services.projects import PROJECT_ROLES

__all__ = ["Invited", "PendingInvitation", "invite", "list_invitations", "revoke_invitation", "open_invitations", "redeem"]


@dataclass(frozen=True)
class Invited:
    """What :func:`invite` did: ``updated`` when an invitation for this address was pending already."""

    invitation_id: int
    email: str
    valid_until: datetime
    updated: bool


@dataclass(frozen=True)
class PendingInvitation:
    id: int
    email: str
    role: str
    membership_expires_at: datetime | None
    invited_by: str
    created_at: datetime
    valid_until: datetime


def _pending(project_id: int, now: datetime):
    return (select(Invitation).where(Invitation.project_id == project_id, Invitation.redeemed_at.is_(None),
                                     Invitation.revoked_at.is_(None), Invitation.valid_until > now))


def invite(
    workbench: Workbench,
    actor: Actor,
    *,
    project_id: int,
    email: str,
    role: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Invited:
    """Offer ``role`` in the project to ``email`` until ``invitation_days`` from now."""
    now = now or utcnow()
    authorize(workbench, actor, Action.MEMBERS_INVITE, project_id=project_id, now=now)
    if not workbench.settings.sso_enabled:
        raise Conflict("invitations.sso_off")
    address = normalise_email(email)
    if not valid_email(address):
        raise InputError("invitations.bad_email", email=email.strip())
    if role not in PROJECT_ROLES:
        raise InputError("projects.bad_role", role=role, roles=PROJECT_ROLES)
    if expires_at is not None and expires_at <= now:
        raise InputError("projects.expiry_in_past")
    valid_until = now + timedelta(days=workbench.settings.invitation_days)
    with session_scope(workbench.engine) as session:
        member = session.scalar(select(User.username).join(Membership, Membership.user_id == User.id)
                                .where(Membership.project_id == project_id, func.lower(User.email) == address))
        if member is not None:
            raise Conflict("invitations.already_member", email=address, username=member)
        row = session.scalar(_pending(project_id, now).where(Invitation.email == address))
        details = {"email": address, "role": role, "expires_at": expires_at.isoformat() if expires_at else None,
                   "valid_until": valid_until.isoformat()}
        if row is not None:
            details["previous_role"] = row.role
            row.role, row.membership_expires_at, row.valid_until, row.invited_by = role, expires_at, valid_until, actor.user_id
            action = "members.invite_update"
        else:
            row = Invitation(project_id=project_id, email=address, role=role, membership_expires_at=expires_at,
                             invited_by=actor.user_id, created_at=now, valid_until=valid_until)
            session.add(row)
            session.flush()
            action = "members.invite"
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", "") or "", action=action,
                     outcome="succeeded", resource_type="invitation", resource_id=row.id, project_id=project_id,
                     details=details)
        return Invited(row.id, address, valid_until, updated=action == "members.invite_update")


def list_invitations(workbench: Workbench, actor: Actor, project_id: int, *, now: datetime | None = None) -> list[PendingInvitation]:
    """The invitations of the project that can still be redeemed, newest first."""
    now = now or utcnow()
    authorize(workbench, actor, Action.MEMBERS_INVITE, project_id=project_id, now=now)
    inviter = aliased(User)
    with session_scope(workbench.engine, read_only=True) as session:
        rows = session.execute(
            _pending(project_id, now).add_columns(inviter.username).join(inviter, inviter.id == Invitation.invited_by)
            .order_by(Invitation.id.desc())).all()
        return [PendingInvitation(r.id, r.email, r.role, r.membership_expires_at, name, r.created_at, r.valid_until)
                for r, name in rows]


def revoke_invitation(workbench: Workbench, actor: Actor, *, project_id: int, invitation_id: int,
                      now: datetime | None = None) -> None:
    """Withdraw a pending invitation: the address can no longer redeem it (the row stays)."""
    now = now or utcnow()
    authorize(workbench, actor, Action.MEMBERS_INVITE, project_id=project_id, now=now)
    with session_scope(workbench.engine) as session:
        row = session.scalar(_pending(project_id, now).where(Invitation.id == invitation_id))
        if row is None:
            raise NotFound("invitations.not_pending", invitation_id=invitation_id)
        row.revoked_at, row.revoked_by = now, actor.user_id
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", "") or "",
                     action="members.invite_revoke", outcome="succeeded", resource_type="invitation",
                     resource_id=row.id, project_id=project_id, details={"email": row.email, "role": row.role})


def _inviter_may_invite(session: Session, row: Invitation, now: datetime) -> bool:
    project = session.get(Project, row.project_id)
    if project is None or project.archived_at is not None:
        return False
    inviter = load_actor(session, row.invited_by)
    return check(inviter, Action.MEMBERS_INVITE, Resource.project(row.project_id), now=now).allowed


def open_invitations(session: Session, email: str, *, now: datetime) -> tuple[list[Invitation], str]:
    """The invitations of a (normalised, verified) address that can be redeemed now, and the refusal
    key for when there are none (``auth.sso.no_account`` when the address was never invited)."""
    rows = list(session.scalars(select(Invitation).where(Invitation.email == email, Invitation.redeemed_at.is_(None))
                                .order_by(Invitation.id)))
    states = [InvitationState(r.id, r.valid_until, r.membership_expires_at, r.revoked_at is not None,
                              r.revoked_at is None and _inviter_may_invite(session, r, now)) for r in rows]
    usable, refusal = choose_invitations(states, now=now)
    return [r for r in rows if r.id in usable], refusal


def redeem(session: Session, user: User, invitations: list[Invitation], *, now: datetime) -> None:
    """Turn invitations into memberships of ``user``, in the caller's transaction.

    Each grant is audited as ``members.add`` by the inviter (whose decision it was), naming the
    invitation and who accepted it. A project the account already belongs to keeps its membership
    as it is (a role is changed only by an owner, in the members page); the invitation is closed.
    """
    for row in invitations:
        inviter = session.get(User, row.invited_by)
        existing = session.scalar(select(Membership).where(Membership.project_id == row.project_id,
                                                           Membership.user_id == user.id))
        details = {"username": user.username, "role": row.role, "invitation_id": row.id, "email": row.email,
                   "expires_at": row.membership_expires_at.isoformat() if row.membership_expires_at else None}
        if existing is None:
            session.add(Membership(project_id=row.project_id, user_id=user.id, role=row.role,
                                   expires_at=row.membership_expires_at, invited_by=row.invited_by, created_at=now))
            action, reason = "members.add", ""
        else:
            details["kept_role"] = existing.role
            action, reason = "members.invite_redeem", "already_member"
        row.redeemed_at, row.redeemed_by = now, user.id
        audit.record(session, actor_id=row.invited_by, actor_name=inviter.username if inviter else "", action=action,
                     outcome="succeeded", resource_type="user", resource_id=user.id, project_id=row.project_id,
                     reason=reason, details=details)
