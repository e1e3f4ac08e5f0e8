"""Recipe versions and their approval: the review gate between an upload and any training.

A recipe version is immutable: an edit makes a new version (with its parent) that needs its own
approval. An approval records who, when, and the hashes of the recipe and the dataset version it
was given for; training accepts only a version whose approval still matches both hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from permissions.actions import Action
from permissions.policy import Actor, four_eyes_allows
from pipelines.errors import Conflict, InputError, NotFound, PermissionDenied, TrainingError
from pipelines.recipe import Recipe, StepChange, diff
from workbench.context import Workbench
from workbench.db.engine import read_all, session_scope
from workbench.db.models import DatasetVersion, Project, RecipeApproval, RecipeVersion, User
from workbench.services import audit
from workbench.services._access import authorize
from workbench.services._versions import next_version

__all__ = [
    "ApprovedRecipe",
    "save_version",
    "list_versions",
    "get_version",
    "approve",
    "approval_of",
    "require_approved",
    "ApprovalRecord",
    "approval_record",
    "is_approved",
    "diff_versions",
    "four_eyes_enabled",
    "set_four_eyes",
]


@dataclass(frozen=True)
class ApprovedRecipe:
    """What training gets: the recipe, its stored version row and the dataset version it applies to."""

    recipe: Recipe
    recipe_version: RecipeVersion
    dataset_version: DatasetVersion
    approval: RecipeApproval


def save_version(
    workbench: Workbench, actor: Actor, *, project_id: int, dataset_version_id: int, recipe: Recipe,
    parent_id: int | None = None,
) -> int:
    """Store a recipe as a new version (validated against the dataset's columns); returns its id.

    ``parent_id`` must be the newest version of the recipe line being edited; if someone saved a
    newer one meanwhile, the save is refused with a conflict instead of silently forking.
    """
    authorize(workbench, actor, Action.RECIPE_EDIT, project_id=project_id)
    with session_scope(workbench.engine) as session:
        dataset = session.get(DatasetVersion, dataset_version_id)
        if dataset is None or dataset.project_id != project_id:
            raise NotFound("datasets.not_found", version_id=dataset_version_id)
        # Taken first: holds the project's lock (PostgreSQL), so two editors of one parent see each other.
        version = next_version(session, RecipeVersion, project_id)
        if parent_id is not None:
            parent = session.get(RecipeVersion, parent_id)
            if parent is None or parent.project_id != project_id:
                raise NotFound("recipes.not_found", recipe_id=parent_id)
            newer = session.scalar(select(func.count()).select_from(RecipeVersion)
                                   .where(RecipeVersion.parent_id == parent_id))
            if newer:
                raise Conflict("recipes.edited_meanwhile", version=parent.version)
        types = (dataset.profile or {}).get("types", {})
        recipe.validate(types)
        row = RecipeVersion(project_id=project_id, dataset_version_id=dataset_version_id, version=version,
                            parent_id=parent_id, recipe_json=recipe.to_json(), content_sha256=recipe.content_hash(),
                            author_id=actor.user_id)
        session.add(row)
        session.flush()
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="recipe.save",
                     outcome="succeeded", resource_type="recipe_version", resource_id=row.id, project_id=project_id,
                     details={"version": version, "parent_id": parent_id, "sha256": row.content_sha256})
        return row.id


def list_versions(workbench: Workbench, actor: Actor, project_id: int) -> list[RecipeVersion]:
    authorize(workbench, actor, Action.RECIPE_VIEW, project_id=project_id)
    return read_all(workbench.engine, select(RecipeVersion).where(RecipeVersion.project_id == project_id)
                    .order_by(RecipeVersion.version.desc()))


def get_version(workbench: Workbench, actor: Actor, recipe_version_id: int) -> tuple[RecipeVersion, Recipe]:
    with session_scope(workbench.engine) as session:
        row = session.get(RecipeVersion, recipe_version_id)
        if row is not None:
            session.expunge(row)
    if row is None:
        raise NotFound("recipes.not_found", recipe_id=recipe_version_id)
    authorize(workbench, actor, Action.RECIPE_VIEW, project_id=row.project_id)
    return row, Recipe.from_json(row.recipe_json)


def approval_of(workbench: Workbench, actor: Actor, recipe_version_id: int) -> RecipeApproval | None:
    row, _ = get_version(workbench, actor, recipe_version_id)
    with session_scope(workbench.engine) as session:
        approval = session.scalar(select(RecipeApproval).where(RecipeApproval.recipe_version_id == row.id)
                                  .order_by(RecipeApproval.id.desc()))
        if approval is not None:
            session.expunge(approval)
        return approval


def approve(
    workbench: Workbench, actor: Actor, *, recipe_version_id: int, acknowledged: list[str] | tuple[str, ...] = (),
    required_acknowledgements: list[str] | tuple[str, ...] = (),
) -> int:
    """Record the approval of one recipe version for its dataset version.

    ``required_acknowledgements`` are the review warnings that must be acknowledged (the review
    screen computes them); approving without acknowledging each one is refused.
    """
    row, recipe = get_version(workbench, actor, recipe_version_id)
    authorize(workbench, actor, Action.RECIPE_APPROVE, project_id=row.project_id)
    missing = sorted(set(required_acknowledgements) - set(acknowledged))
    if missing:
        raise InputError("recipes.unacknowledged_warnings", warnings=missing)
    with session_scope(workbench.engine) as session:
        project = session.get(Project, row.project_id)
        decision = four_eyes_allows(approver_id=actor.user_id, author_id=row.author_id, enabled=project.four_eyes)
        dataset = session.get(DatasetVersion, row.dataset_version_id)
        if not decision.allowed:
            audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="recipe.approve",
                         outcome="denied", reason=decision.reason, resource_type="recipe_version", resource_id=row.id,
                         project_id=row.project_id)
            refusal = PermissionDenied(decision.reason_key, action="recipe.approve", reason=decision.reason,
                                       role="", project_id=row.project_id, user_id=actor.user_id)
        else:
            refusal = None
            approval = RecipeApproval(recipe_version_id=row.id, approver_id=actor.user_id,
                                      recipe_sha256=row.content_sha256, dataset_sha256=dataset.parquet_sha256,
                                      acknowledged_warnings=list(acknowledged))
            session.add(approval)
            session.flush()
            audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="recipe.approve",
                         outcome="succeeded", resource_type="recipe_version", resource_id=row.id, project_id=row.project_id,
                         details={"recipe_sha256": row.content_sha256, "dataset_sha256": dataset.parquet_sha256,
                                  "acknowledged": list(acknowledged)})
            approval_id = approval.id
    if refusal is not None:
        raise refusal
    return approval_id


def require_approved(workbench: Workbench, actor: Actor, recipe_version_id: int) -> ApprovedRecipe:
    """The recipe for training, or TrainingError when it was never approved or changed since."""
    row, recipe = get_version(workbench, actor, recipe_version_id)
    with session_scope(workbench.engine) as session:
        dataset = session.get(DatasetVersion, row.dataset_version_id)
        approvals = list(session.scalars(select(RecipeApproval).where(RecipeApproval.recipe_version_id == row.id)
                                         .order_by(RecipeApproval.id.desc())))
        for item in approvals:
            session.expunge(item)
        session.expunge(dataset)
    if not approvals:
        raise TrainingError("recipes.not_approved", version=row.version)
    approval = approvals[0]
    if approval.recipe_sha256 != recipe.content_hash() or approval.recipe_sha256 != row.content_sha256:
        raise TrainingError("recipes.changed_since_approval", version=row.version)
    if approval.dataset_sha256 != dataset.parquet_sha256:
        raise TrainingError("recipes.dataset_changed_since_approval", version=row.version)
    workbench.store.verified_path(dataset.parquet_sha256)
    return ApprovedRecipe(recipe=recipe, recipe_version=row, dataset_version=dataset, approval=approval)


@dataclass(frozen=True)
class ApprovalRecord:
    """What the review screen shows about an approval: who, when, and the hashes it was given for,
    plus whether those hashes still match (an approval of a changed dataset no longer counts)."""

    approver: str
    approved_at: Any
    recipe_sha256: str
    dataset_sha256: str
    acknowledged: tuple[str, ...]
    still_valid: bool


def approval_record(workbench: Workbench, actor: Actor, recipe_version_id: int) -> ApprovalRecord | None:
    """The newest approval of a version with the approver's name, or None if never approved."""
    row, recipe = get_version(workbench, actor, recipe_version_id)
    with session_scope(workbench.engine) as session:
        approval = session.scalar(select(RecipeApproval).where(RecipeApproval.recipe_version_id == row.id)
                                  .order_by(RecipeApproval.id.desc()))
        if approval is None:
            return None
        approver = session.get(User, approval.approver_id)
        dataset = session.get(DatasetVersion, row.dataset_version_id)
        valid = (approval.recipe_sha256 == row.content_sha256 == recipe.content_hash()
                 and approval.dataset_sha256 == dataset.parquet_sha256)
        return ApprovalRecord(approver=approver.username if approver else str(approval.approver_id),
                              approved_at=approval.approved_at, recipe_sha256=approval.recipe_sha256,
                              dataset_sha256=approval.dataset_sha256,
                              acknowledged=tuple(approval.acknowledged_warnings or ()), still_valid=valid)


def is_approved(workbench: Workbench, actor: Actor, recipe_version_id: int) -> bool:
    """True when training would accept this version (same test as :func:`require_approved`)."""
    record = approval_record(workbench, actor, recipe_version_id)
    return record is not None and record.still_valid


def diff_versions(workbench: Workbench, actor: Actor, *, old_id: int, new_id: int) -> tuple[StepChange, ...]:
    """What changed from one stored version to another (both must be in the same project)."""
    old_row, old = get_version(workbench, actor, old_id)
    new_row, new = get_version(workbench, actor, new_id)
    if old_row.project_id != new_row.project_id:
        raise NotFound("recipes.not_found", recipe_id=new_id)
    return diff(old, new)


def four_eyes_enabled(workbench: Workbench, actor: Actor, project_id: int) -> bool:
    authorize(workbench, actor, Action.RECIPE_VIEW, project_id=project_id)
    with session_scope(workbench.engine) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("projects.not_found", project_id=project_id)
        return bool(project.four_eyes)


def set_four_eyes(workbench: Workbench, actor: Actor, project_id: int, enabled: bool) -> None:
    """Switch the four-eyes rule (nobody approves a recipe version they wrote) on or off.

    A project setting, so it needs ``project.edit_settings`` (owners); the change is audited
    because it decides whose approval training will accept.
    """
    authorize(workbench, actor, Action.PROJECT_EDIT_SETTINGS, project_id=project_id)
    if not isinstance(enabled, bool):
        raise InputError("recipes.four_eyes_not_bool", value=repr(enabled)[:40])
    with session_scope(workbench.engine) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("projects.not_found", project_id=project_id)
        before = bool(project.four_eyes)
        project.four_eyes = enabled
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""),
                     action="project.four_eyes", outcome="succeeded", resource_type="project",
                     resource_id=project_id, project_id=project_id,
                     details={"before": before, "after": enabled})
