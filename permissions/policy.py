"""The one permission check: may this actor do this action on this resource, and if not, why.

Services call :func:`check` (to decide and audit) or :func:`require` (to raise); pages call
:func:`allowed_actions` only to hide buttons the service would refuse anyway. The check is pure: the
caller loads the actor's account and memberships from the database into plain dataclasses and
passes the time, so the whole policy is testable as a table without a server.

Order of the questions, and so of the reasons (the first failing one is reported):
signed in -> account active -> action known -> action fits the resource (site or project) ->
for a site action, the site role holds it; for a project action: member of *that* project ->
membership not expired -> role known -> role holds the action -> for a results-only role, the part
of the results concerned is shared. Anything else is refused: deny by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from permissions.actions import ACTION_INFO, Action, Scope
from permissions.clock import ensure_utc
from permissions.roles import FACETS, RoleTable, default_role_table
from pipelines.errors import PermissionDenied

__all__ = [
    "Membership",
    "Actor",
    "Resource",
    "Decision",
    "check",
    "require",
    "allowed_actions",
    "disclosure_applies",
    "four_eyes_allows",
    "ALLOWED_SITE_ROLE",
    "ALLOWED_PROJECT_ROLE",
    "DENIAL_REASONS",
]

ALLOWED_SITE_ROLE = "auth.allowed.site_role"
ALLOWED_PROJECT_ROLE = "auth.allowed.project_role"

# Every short reason check(), four_eyes_allows() and session_valid() can give for a refusal; the
# catalogue has "auth.denied.<reason>" for each.
DENIAL_REASONS: tuple[str, ...] = (
    "anonymous",
    "deactivated",
    "unknown_action",
    "wrong_scope",
    "unknown_site_role",
    "not_member",
    "membership_expired",
    "unknown_role",
    "role_lacks_action",
    "not_shared",
    "four_eyes",
    "session_missing",
    "session_revoked",
    "session_idle",
    "session_expired",
    "session_invalid",
)


@dataclass(frozen=True)
class Membership:
    """One project role of one user; ``expires_at`` (UTC) ends it without a revoke."""

    role: str
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.expires_at is not None:
            object.__setattr__(self, "expires_at", ensure_utc(self.expires_at, name="expires_at"))


@dataclass(frozen=True)
class Actor:
    """A signed-in account as the policy sees it. ``None`` stands for nobody signed in."""

    user_id: int
    site_role: str
    active: bool = True
    memberships: Mapping[int, Membership] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy: a caller mutating its dict afterwards must not change past decisions.
        object.__setattr__(self, "memberships", MappingProxyType(dict(self.memberships)))

    def __hash__(self) -> int:
        return hash((self.user_id, self.site_role, self.active, tuple(sorted(self.memberships.items()))))


@dataclass(frozen=True)
class Resource:
    """What an action is done to: the site, or one project.

    ``shared`` holds the facets of the project's results the owner opened to results-only members
    (see ``permissions.roles.FACETS``); ``part`` names the one being accessed, when known (for
    example ``"figures"`` when a collaborator opens the figures tab).
    """

    kind: Scope
    project_id: int | None = None
    shared: frozenset[str] = frozenset()
    part: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Scope(self.kind))
        object.__setattr__(self, "shared", frozenset(self.shared))
        if self.kind is Scope.SITE and (self.project_id is not None or self.shared or self.part):
            raise ValueError("a site resource has no project, shared facets or part")
        if self.kind is Scope.PROJECT and self.project_id is None:
            raise ValueError("a project resource needs a project_id")
        unknown = (set(self.shared) | ({self.part} if self.part else set())) - FACETS
        if unknown:
            raise ValueError(f"unknown facets {sorted(unknown)}; known: {sorted(FACETS)}")

    @classmethod
    def site(cls) -> Resource:
        return cls(Scope.SITE)

    @classmethod
    def project(cls, project_id: int, *, shared: frozenset[str] | set[str] = frozenset(), part: str | None = None) -> Resource:
        return cls(Scope.PROJECT, project_id, frozenset(shared), part)


@dataclass(frozen=True)
class Decision:
    """The answer of a check. ``reason_key`` is a catalogue key, shown to users and audited."""

    allowed: bool
    reason_key: str
    role: str | None = None

    @property
    def reason(self) -> str:
        """The short reason (``"not_member"``), as stored in the audit log."""
        return self.reason_key.rsplit(".", 1)[-1]

    def __bool__(self) -> bool:
        return self.allowed


def _deny(reason: str, role: str | None = None) -> Decision:
    return Decision(False, f"auth.denied.{reason}", role)


def check(
    actor: Actor | None,
    action: Action | str,
    resource: Resource,
    *,
    now: datetime,
    table: RoleTable | None = None,
) -> Decision:
    """Decide; never raises for a refusal (that is :func:`require`)."""
    now = ensure_utc(now, name="now")
    table = table or default_role_table()
    if actor is None:
        return _deny("anonymous")
    if not actor.active:
        return _deny("deactivated")
    try:
        action = Action(action)
    except ValueError:
        return _deny("unknown_action")
    info = ACTION_INFO[action]
    if info.scope is not resource.kind:
        return _deny("wrong_scope")

    if info.scope is Scope.SITE:
        site_actions = table.site_roles.get(actor.site_role)
        if site_actions is None:
            return _deny("unknown_site_role", actor.site_role)
        if action not in site_actions:
            return _deny("role_lacks_action", actor.site_role)
        return Decision(True, ALLOWED_SITE_ROLE, actor.site_role)

    # Project action: only a membership of this very project counts. The site role, admin
    # included, grants nothing here.
    membership = actor.memberships.get(resource.project_id)  # type: ignore[arg-type]
    if membership is None:
        return _deny("not_member")
    if membership.expires_at is not None and now >= membership.expires_at:
        return _deny("membership_expired", membership.role)
    role_actions = table.project_roles.get(membership.role)
    if role_actions is None:
        return _deny("unknown_role", membership.role)
    if action not in role_actions:
        return _deny("role_lacks_action", membership.role)
    if membership.role in table.results_only_roles and action in table.facets:
        wanted = table.facets[action]
        if resource.part is not None:
            if resource.part not in wanted or resource.part not in resource.shared:
                return _deny("not_shared", membership.role)
        elif not (wanted & resource.shared):
            return _deny("not_shared", membership.role)
    return Decision(True, ALLOWED_PROJECT_ROLE, membership.role)


def require(
    actor: Actor | None,
    action: Action | str,
    resource: Resource,
    *,
    now: datetime,
    table: RoleTable | None = None,
) -> Decision:
    """Like :func:`check`, but raise ``PermissionDenied("auth.denied.<reason>", ...)`` on refusal."""
    decision = check(actor, action, resource, now=now, table=table)
    if not decision.allowed:
        raise PermissionDenied(
            decision.reason_key,
            action=str(action),
            reason=decision.reason,
            role=decision.role or "",
            project_id=resource.project_id if resource.project_id is not None else "",
            user_id=actor.user_id if actor is not None else "",
        )
    return decision


def allowed_actions(
    actor: Actor | None,
    resource: Resource,
    *,
    now: datetime,
    table: RoleTable | None = None,
) -> frozenset[Action]:
    """Every action :func:`check` would allow here; for pages that hide what would be refused."""
    return frozenset(a for a in Action if check(actor, a, resource, now=now, table=table).allowed)


def disclosure_applies(
    actor: Actor | None,
    resource: Resource,
    *,
    now: datetime,
    table: RoleTable | None = None,
) -> bool:
    """Whether aggregates shown to this actor need small-count suppression and identifier removal.

    Decided by the permission, not the role name: whoever may not see the patient rows of the
    project must not be able to rebuild them from small cells either. True for anyone refused.
    """
    return not check(actor, Action.DATASET_VIEW_ROWS, resource, now=now, table=table).allowed


def four_eyes_allows(*, approver_id: int, author_id: int | None, enabled: bool) -> Decision:
    """With four-eyes on, a recipe is approved only by someone other than its author.

    An unknown author (``None``) cannot be shown to differ from the approver, so it is refused too.
    The caller still needs ``check(..., Action.RECIPE_APPROVE, ...)``: this is the second question.
    """
    if not enabled:
        return Decision(True, "auth.allowed.four_eyes_off")
    if author_id is None or author_id == approver_id:
        return _deny("four_eyes")
    return Decision(True, "auth.allowed.four_eyes")
