"""Two people on one recipe at the same moment, on SQLite and on PostgreSQL.

Editors who both start from the newest version get one new version and one clear conflict (never a
fork, a duplicate number or a database error); an approval and an edit at once both land, and
training accepts exactly the version that was approved.
"""

from __future__ import annotations

import threading

import pytest

from pipelines.errors import Conflict, TrainingError
from pipelines.recipe import Impute
from tests.workbench.test_recipes_service import RECIPE, hf_project  # noqa: F401 - fixture used below
from tests.workbench.test_recipes_service import (  # the sequential conflict test, here on both databases
    test_versions_are_immutable_and_a_stale_parent_is_a_conflict,  # noqa: F401
)
from workbench.services import recipes

ROUNDS = 8


@pytest.fixture
def workbench(make_workbench, database_url):
    """The shared ``workbench`` fixture, once on SQLite and once on a fresh PostgreSQL database."""
    return make_workbench(database_url=database_url)


def _at_once(*calls):
    """Run the calls in threads released together; each result is a value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # collected and checked by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _edit(workbench, actor, project_id, dataset_id, parent, numeric):
    recipe = RECIPE.with_steps((*RECIPE.steps[:2], Impute(numeric=numeric), *RECIPE.steps[3:]))
    return lambda: recipes.save_version(workbench, actor, project_id=project_id, dataset_version_id=dataset_id,
                                        recipe=recipe, parent_id=parent)


def test_two_editors_saving_from_the_same_version_at_once_get_one_version_and_one_conflict(hf_project):
    workbench, owner, ds, _, project_id, dataset_id = hf_project
    newest = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=dataset_id,
                                  recipe=RECIPE)
    for _ in range(ROUNDS):
        results = _at_once(_edit(workbench, owner, project_id, dataset_id, newest, "median"),
                           _edit(workbench, ds, project_id, dataset_id, newest, "iterative"))
        saved = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if not isinstance(r, int)]
        assert len(saved) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], Conflict) and refused[0].key == "recipes.edited_meanwhile", refused
        newest = saved[0]
    rows = recipes.list_versions(workbench, owner, project_id)
    assert [r.version for r in rows] == list(range(ROUNDS + 1, 0, -1))  # no gap, no duplicate
    assert [r.parent_id for r in rows[:-1]] == [r.id for r in rows[1:]]  # one line, no fork


def test_an_approval_and_an_edit_at_once_both_land_and_training_takes_the_approved_version(hf_project, make_user):
    from workbench.services import accounts, projects

    workbench, owner, ds, _, project_id, dataset_id = hf_project
    signed = make_user("olga")
    projects.add_member(workbench, owner, project_id=project_id, username="olga", role="owner")
    olga = accounts.resolve_session(workbench, signed.token)
    current = recipes.save_version(workbench, ds, project_id=project_id, dataset_version_id=dataset_id, recipe=RECIPE)
    for round_number in range(ROUNDS):
        numeric = ("median", "mean")[round_number % 2]
        approve_owner = lambda: recipes.approve(workbench, owner, recipe_version_id=current)  # noqa: E731
        approve_olga = lambda: recipes.approve(workbench, olga, recipe_version_id=current)  # noqa: E731
        approval, second_approval, edited = _at_once(approve_owner, approve_olga,
                                                     _edit(workbench, ds, project_id, dataset_id, current, numeric))
        assert all(isinstance(r, int) for r in (approval, second_approval, edited)), (approval, second_approval, edited)
        assert recipes.require_approved(workbench, owner, current).recipe_version.id == current
        with pytest.raises(TrainingError) as caught:  # the edit made meanwhile needs its own approval
            recipes.require_approved(workbench, owner, edited)
        assert caught.value.key == "recipes.not_approved"
        current = edited
    assert len(recipes.list_versions(workbench, owner, project_id)) == ROUNDS + 1
