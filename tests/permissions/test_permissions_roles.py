from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from permissions.actions import ACTION_INFO, PROJECT_ACTIONS, ROW_LEVEL_ACTIONS, SITE_ACTIONS, Action, Scope
from permissions.roles import ROLES_FILE, default_role_table, load_role_table, parse_role_table
from pipelines.errors import ConfigError


@pytest.fixture()
def shipped() -> dict:
    return yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))


def test_every_action_has_a_scope_and_description() -> None:
    assert set(ACTION_INFO) == set(Action)
    assert SITE_ACTIONS | PROJECT_ACTIONS == set(Action) and not SITE_ACTIONS & PROJECT_ACTIONS
    for action in Action:
        assert action.description.endswith(".") and len(action.description) > 15, action
        assert action.value == action.value.lower() and "." in action.value


def test_shipped_table_loads_with_the_roles_the_issue_names() -> None:
    table = default_role_table()
    assert set(table.site_roles) == {"user", "admin"}
    assert set(table.project_roles) == {"owner", "clinician", "data_scientist", "collaborator"}
    assert table.results_only_roles == {"collaborator"}
    # The owner can do everything in a project; the admin's extra rights are accounts and audit.
    assert table.project_roles["owner"] == PROJECT_ACTIONS
    assert table.site_roles["admin"] - table.site_roles["user"] == {Action.ACCOUNTS_MANAGE, Action.AUDIT_READ}
    # A data scientist can do what a clinician can, plus the overrides.
    assert table.project_roles["clinician"] < table.project_roles["data_scientist"]
    assert table.project_roles["data_scientist"] - table.project_roles["clinician"] == {
        Action.TRAINING_OVERRIDE_HYPERPARAMETERS,
        Action.TRAINING_OVERRIDE_SEARCH,
        Action.TRAINING_ADVANCED_SETTINGS,
    }
    assert not table.project_roles["collaborator"] & ROW_LEVEL_ACTIONS


def test_table_is_read_only_after_loading() -> None:
    table = default_role_table()
    with pytest.raises(TypeError):
        table.project_roles["collaborator"] = frozenset(Action)  # type: ignore[index]


def test_collaborator_row_level_action_is_refused_by_the_loader(shipped: dict) -> None:
    raw = copy.deepcopy(shipped)
    raw["project_roles"]["collaborator"]["actions"].append("dataset.download")
    with pytest.raises(ConfigError) as info:
        parse_role_table(raw)
    assert info.value.key == "auth.roles.row_level_for_results_only"
    assert info.value.params["actions"] == ["dataset.download"]


def test_unknown_action_is_refused(shipped: dict) -> None:
    raw = copy.deepcopy(shipped)
    raw["project_roles"]["clinician"]["actions"].append("dataset.veiw_rows")
    with pytest.raises(ConfigError) as info:
        parse_role_table(raw)
    assert info.value.key == "auth.roles.unknown_action"
    assert info.value.params["action"] == "dataset.veiw_rows"


def test_site_role_cannot_hold_project_action(shipped: dict) -> None:
    raw = copy.deepcopy(shipped)
    raw["site_roles"]["admin"].append("dataset.view_rows")
    with pytest.raises(ConfigError) as info:
        parse_role_table(raw)
    assert info.value.key == "auth.roles.wrong_scope"
    assert info.value.params["role"] == "admin"


def test_project_role_cannot_hold_site_action(shipped: dict) -> None:
    raw = copy.deepcopy(shipped)
    raw["project_roles"]["owner"]["actions"].append("accounts.manage")
    with pytest.raises(ConfigError) as info:
        parse_role_table(raw)
    assert info.value.key == "auth.roles.wrong_scope"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw.update(version=2),
        lambda raw: raw.update(extra_section={}),
        lambda raw: raw["project_roles"]["owner"].update(inherits="clinician"),
        lambda raw: raw["project_roles"]["collaborator"].update(results_only="yes"),
        lambda raw: raw["site_roles"]["user"].append("project.create"),
        lambda raw: raw["facets"].update({"figures.download": []}),
        lambda raw: raw.update(site_roles={}),
    ],
)
def test_malformed_tables_are_refused(shipped: dict, mutate) -> None:
    raw = copy.deepcopy(shipped)
    mutate(raw)
    with pytest.raises(ConfigError) as info:
        parse_role_table(raw)
    assert info.value.key == "auth.roles.bad_shape"


def test_unknown_facet_is_refused(shipped: dict) -> None:
    raw = copy.deepcopy(shipped)
    raw["facets"]["results.view"].append("raw_rows")
    with pytest.raises(ConfigError) as info:
        parse_role_table(raw)
    assert info.value.key == "auth.roles.unknown_facet"


def test_unreadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "roles.yaml"
    broken.write_text("site_roles: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_role_table(broken)
    assert info.value.key == "auth.roles.unreadable"
    with pytest.raises(ConfigError):
        load_role_table(tmp_path / "missing.yaml")


def test_a_role_removed_from_the_file_is_denied_everything(shipped: dict) -> None:
    from datetime import UTC, datetime

    from permissions.policy import Actor, Membership, Resource, check

    raw = copy.deepcopy(shipped)
    del raw["project_roles"]["clinician"]
    table = parse_role_table(raw)
    actor = Actor(1, "user", True, {5: Membership("clinician")})
    now = datetime(2026, 1, 1, tzinfo=UTC)
    decisions = [check(actor, a, Resource.project(5), now=now, table=table) for a in PROJECT_ACTIONS]
    assert {(d.allowed, d.reason) for d in decisions} == {(False, "unknown_role")}
    assert all(a.scope is Scope.PROJECT for a in PROJECT_ACTIONS)
