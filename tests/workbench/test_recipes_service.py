"""Recipe versions, approval and the four-eyes setting, through the services, on the real heart failure table."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipelines.errors import Conflict, InputError, PermissionDenied, RecipeError, TrainingError
from pipelines.recipe import DefineOutcome, DropColumns, Impute, Recipe, Scale
from workbench.bootstrap import projects_actor
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, DatasetVersion
from workbench.services import accounts, datasets, projects, recipes, review
from workbench.services._recipe_meta import recall


@pytest.fixture
def hf_project(workbench, admin, make_user, datasets_dir):
    """The owner (admin), a data scientist and a collaborator on a project holding the heart failure table."""
    project_id = projects.create_project(workbench, admin, name="HF")
    owner = projects_actor(workbench, admin)
    dataset_id = datasets.import_file(workbench, owner, project_id=project_id,
                                      path=datasets_dir / "heart_failure_clinical_records.csv", label="hf.csv")
    people = {}
    for name, role in (("dana", "data_scientist"), ("cora", "collaborator")):
        signed = make_user(name)
        projects.add_member(workbench, owner, project_id=project_id, username=name, role=role)
        people[role] = accounts.resolve_session(workbench, signed.token)
    return workbench, owner, people["data_scientist"], people["collaborator"], project_id, dataset_id


RECIPE = Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), DropColumns(columns=("time",)), Impute(), Scale()))


def test_versions_are_immutable_and_a_stale_parent_is_a_conflict(hf_project):
    workbench, owner, ds, _, project_id, dataset_id = hf_project
    v1 = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id, recipe=RECIPE)
    edited = RECIPE.with_steps((*RECIPE.steps[:2], Impute(numeric="iterative"), Scale()))
    v2 = recipes.save_version(workbench, ds, project_id=project_id, dataset_version_id=dataset_id, recipe=edited,
                              parent_id=v1)
    with pytest.raises(Conflict) as caught:
        recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id, recipe=RECIPE,
                             parent_id=v1)
    assert caught.value.key == "recipes.edited_meanwhile"
    rows = recipes.list_versions(workbench, owner, project_id)
    assert [r.version for r in rows] == [2, 1]
    _, stored = recipes.get_version(workbench, owner, v1)
    assert stored == RECIPE  # v1 is unchanged by the edit
    changes = recipes.diff_versions(workbench, owner, old_id=v1, new_id=v2)
    assert [(c.change, c.kind, c.fields) for c in changes] == [("changed", "impute", ("numeric",))]


def test_a_recipe_that_does_not_fit_the_columns_is_refused_with_the_step_number(hf_project):
    workbench, owner, _, _, project_id, dataset_id = hf_project
    bad = Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), DropColumns(columns=("tiem",))))
    with pytest.raises(RecipeError) as caught:
        recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id, recipe=bad)
    assert caught.value.key == "recipe.unknown_column" and caught.value.params["step"] == 2


def test_training_refuses_an_unapproved_version_and_accepts_it_after_approval(hf_project):
    workbench, owner, _, _, project_id, dataset_id = hf_project
    vid = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id, recipe=RECIPE)
    with pytest.raises(TrainingError) as caught:
        recipes.require_approved(workbench, owner, vid)
    assert caught.value.key == "recipes.not_approved"
    assert not recipes.is_approved(workbench, owner, vid)
    shown = review.preview_version(workbench, owner, vid)
    assert shown.warning_ids == ("few_events",)
    with pytest.raises(InputError) as refused:
        review.approve_version(workbench, owner, recipe_version_id=vid, acknowledged=[])
    assert refused.value.key == "recipes.unacknowledged_warnings"
    review.approve_version(workbench, owner, recipe_version_id=vid, acknowledged=["few_events"])
    approved = recipes.require_approved(workbench, owner, vid)
    assert approved.recipe == RECIPE and approved.dataset_version.id == dataset_id
    record = recipes.approval_record(workbench, owner, vid)
    assert record.approver == "admin" and record.still_valid and record.acknowledged == ("few_events",)
    assert record.recipe_sha256 == RECIPE.content_hash()
    with session_scope(workbench.engine) as session:
        assert record.dataset_sha256 == session.get(DatasetVersion, dataset_id).parquet_sha256
    # the approval keeps the table's meta-features, so the training page does not prepare it again
    stored = recall(workbench, recipe_sha256=record.recipe_sha256, dataset_sha256=record.dataset_sha256)
    assert stored is not None and stored.prepared_rows == 299
    assert (stored.meta.n_rows, stored.meta.n_features, stored.meta.task) == (239, 11, "binary")


def test_an_edit_needs_its_own_approval_and_four_eyes_refuses_self_approval(hf_project):
    workbench, owner, ds, _, project_id, dataset_id = hf_project
    v1 = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id, recipe=RECIPE)
    review.approve_version(workbench, owner, recipe_version_id=v1, acknowledged=["few_events"])
    recipes.set_four_eyes(workbench, owner, project_id, True)
    assert recipes.four_eyes_enabled(workbench, ds, project_id)
    edited = RECIPE.with_steps((*RECIPE.steps[:2], Impute(numeric="iterative"), Scale()))
    v2 = recipes.save_version(workbench, ds, project_id=project_id, dataset_version_id=dataset_id, recipe=edited,
                              parent_id=v1)
    with pytest.raises(TrainingError):
        recipes.require_approved(workbench, ds, v2)
    # the data scientist holds no recipe.approve; even an owner-author is refused under four-eyes
    with pytest.raises(PermissionDenied):
        review.approve_version(workbench, ds, recipe_version_id=v2, acknowledged=["few_events"])
    v3 = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id,
                              recipe=edited.with_steps(edited.steps[:-1]), parent_id=v2)
    with pytest.raises(PermissionDenied) as self_approval:
        review.approve_version(workbench, owner, recipe_version_id=v3, acknowledged=["few_events"])
    assert self_approval.value.key == "auth.denied.four_eyes"
    review.approve_version(workbench, owner, recipe_version_id=v2, acknowledged=["few_events"])
    assert recipes.require_approved(workbench, ds, v2).recipe == edited
    recipes.require_approved(workbench, ds, v1)  # the old approval still holds for the old version


def test_only_owners_switch_four_eyes_and_the_change_is_audited(hf_project):
    workbench, owner, ds, collaborator, project_id, _ = hf_project
    for who in (ds, collaborator):
        with pytest.raises(PermissionDenied):
            recipes.set_four_eyes(workbench, who, project_id, True)
    with pytest.raises(InputError):
        recipes.set_four_eyes(workbench, owner, project_id, "yes")
    recipes.set_four_eyes(workbench, owner, project_id, True)
    recipes.set_four_eyes(workbench, owner, project_id, False)
    assert not recipes.four_eyes_enabled(workbench, owner, project_id)
    with session_scope(workbench.engine) as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "project.four_eyes")))
        assert [(e.outcome, e.details["after"]) for e in events] == [("succeeded", True), ("succeeded", False)]


def test_a_collaborator_sees_no_recipe_and_cannot_approve(hf_project):
    workbench, owner, _, collaborator, project_id, dataset_id = hf_project
    vid = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id, recipe=RECIPE)
    for call in (lambda: recipes.list_versions(workbench, collaborator, project_id),
                 lambda: recipes.require_approved(workbench, collaborator, vid),
                 lambda: review.preview_version(workbench, collaborator, vid),
                 lambda: review.approve_version(workbench, collaborator, recipe_version_id=vid)):
        with pytest.raises(PermissionDenied):
            call()
