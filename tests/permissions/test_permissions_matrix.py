"""The whole permission matrix: every actor kind x every action x own / other project / site.

The expected outcomes are in ``expected_matrix.csv``, written by hand from the issue; this test
only builds the actors and resources and compares ``check()`` with every cell. The reason of each
refusal is checked too, derived from what the actor is (not from roles.yaml).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from permissions.actions import ACTION_INFO, Action, Scope
from permissions.policy import Actor, Membership, Resource, check
from permissions.roles import FACETS

MATRIX_FILE = Path(__file__).with_name("expected_matrix.csv")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OWN, OTHER = 101, 202
ALL_SHARED = frozenset(FACETS)

RESOURCES: dict[str, Resource] = {
    "own": Resource.project(OWN, shared=ALL_SHARED),
    "own_unshared": Resource.project(OWN),
    "other": Resource.project(OTHER, shared=ALL_SHARED),
    "site": Resource.site(),
}


def _member(user_id: int, role: str, *, site_role: str = "user", active: bool = True, expires: datetime | None = None) -> Actor:
    return Actor(user_id, site_role, active, {OWN: Membership(role, expires)})


ACTORS: dict[str, Actor | None] = {
    "anonymous": None,
    "user": Actor(1, "user"),
    "admin": Actor(2, "admin"),
    "deactivated_admin": Actor(3, "admin", active=False),
    "owner": _member(4, "owner"),
    "clinician": _member(5, "clinician"),
    "data_scientist": _member(6, "data_scientist"),
    "collaborator": _member(7, "collaborator", expires=NOW + timedelta(days=30)),
    "admin_clinician": _member(8, "clinician", site_role="admin"),
    "deactivated_owner": _member(9, "owner", active=False),
    "expired_owner": _member(10, "owner", expires=NOW - timedelta(days=1)),
    "other_owner": Actor(11, "user", True, {OTHER: Membership("owner")}),
    "unknown_role": _member(12, "viewer"),
}

FACET_ACTIONS = {
    Action.RESULTS_VIEW,
    Action.FIGURES_DOWNLOAD,
    Action.TABLES_DOWNLOAD,
    Action.PAPER_PACK_DOWNLOAD,
    Action.MODEL_VALIDATE_EXTERNAL,
    Action.MODEL_PREDICT,
}


def _load_matrix() -> tuple[list[str], list[dict[str, str]]]:
    lines = [line for line in MATRIX_FILE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines)
    return list(reader.fieldnames or []), list(reader)


def _expected_denial(actor_name: str, action: Action, resource_name: str) -> str:
    """Why a refusal happens, from what the actor is; 'role_lacks_action' when it is the role."""
    if actor_name == "anonymous":
        return "anonymous"
    if actor_name.startswith("deactivated"):
        return "deactivated"
    resource = RESOURCES[resource_name]
    if ACTION_INFO[action].scope is not resource.kind:
        return "wrong_scope"
    if resource.kind is Scope.SITE:
        return "role_lacks_action"
    member_here = (resource.project_id == OTHER) == (actor_name == "other_owner") and actor_name not in {"user", "admin"}
    if not member_here:
        return "not_member"
    if actor_name == "expired_owner":
        return "membership_expired"
    if actor_name == "unknown_role":
        return "unknown_role"
    if actor_name == "collaborator" and resource_name == "own_unshared" and action in FACET_ACTIONS:
        return "not_shared"
    return "role_lacks_action"


def test_matrix_covers_every_action_actor_and_resource_exactly_once() -> None:
    columns, rows = _load_matrix()
    assert columns[:2] == ["action", "resource"]
    assert set(columns[2:]) == set(ACTORS)
    keys = [(row["action"], row["resource"]) for row in rows]
    assert len(keys) == len(set(keys)), "duplicate rows in expected_matrix.csv"
    assert set(keys) == {(a.value, r) for a in Action for r in RESOURCES}, (
        "expected_matrix.csv must have one row per action and resource; add rows for new actions"
    )
    assert {cell for row in rows for cell in (row[a] for a in ACTORS)} <= {"Y", "N"}


def test_every_cell_of_the_matrix_matches() -> None:
    _, rows = _load_matrix()
    mismatches: list[str] = []
    cells = 0
    for row in rows:
        action = Action(row["action"])
        resource = RESOURCES[row["resource"]]
        for actor_name, actor in ACTORS.items():
            cells += 1
            expected_allowed = row[actor_name] == "Y"
            decision = check(actor, action, resource, now=NOW)
            if decision.allowed != expected_allowed:
                mismatches.append(
                    f"{actor_name} x {action.value} x {row['resource']}: expected "
                    f"{'allow' if expected_allowed else 'deny'}, got {decision}"
                )
            elif not decision.allowed:
                want = _expected_denial(actor_name, action, row["resource"])
                if decision.reason != want:
                    mismatches.append(
                        f"{actor_name} x {action.value} x {row['resource']}: denied for {decision.reason}, expected {want}"
                    )
    assert cells == len(Action) * len(RESOURCES) * len(ACTORS)
    assert mismatches == [], f"{len(mismatches)} of {cells} cells differ:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("actor_name", ["admin", "user", "other_owner"])
def test_non_members_get_nothing_of_the_own_project(actor_name: str) -> None:
    actor = ACTORS[actor_name]
    for action in Action:
        if action.scope is Scope.PROJECT:
            assert not check(actor, action, RESOURCES["own"], now=NOW).allowed, action


def test_membership_expires_exactly_at_its_time() -> None:
    end = NOW + timedelta(hours=1)
    actor = Actor(20, "user", True, {OWN: Membership("clinician", end)})
    assert check(actor, Action.DATASET_VIEW_ROWS, RESOURCES["own"], now=end - timedelta(microseconds=1)).allowed
    decision = check(actor, Action.DATASET_VIEW_ROWS, RESOURCES["own"], now=end)
    assert (decision.allowed, decision.reason) == (False, "membership_expired")
