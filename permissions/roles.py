"""Loads the role -> actions table (``roles.yaml``) and refuses any file that could widen access.

The table is data so that a hospital's reviewer can read it, and so that changing who may do what
is a reviewed edit of one file rather than a hunt through ``if role == ...`` branches. Because it is
data, the loader is also the last line of defence against a typo: every name must be a known
action, scopes must match, and a results-only role must hold no row-level action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from permissions.actions import ACTION_INFO, Action, Scope
from pipelines.errors import ConfigError

__all__ = ["FACETS", "RoleTable", "ROLES_FILE", "load_role_table", "parse_role_table", "default_role_table"]

ROLES_FILE = Path(__file__).with_name("roles.yaml")

# Parts of a project's results an owner can share with results-only members.
FACETS: frozenset[str] = frozenset({"metrics", "figures", "tables", "model_card", "paper_pack", "validation",
                                     "calculator"})


@dataclass(frozen=True)
class RoleTable:
    """The parsed, validated table. Immutable so a loaded policy cannot be widened at run time."""

    site_roles: Mapping[str, frozenset[Action]]
    project_roles: Mapping[str, frozenset[Action]]
    results_only_roles: frozenset[str]
    facets: Mapping[Action, frozenset[str]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "site_roles", MappingProxyType(dict(self.site_roles)))
        object.__setattr__(self, "project_roles", MappingProxyType(dict(self.project_roles)))
        object.__setattr__(self, "facets", MappingProxyType(dict(self.facets)))


def load_role_table(path: Path | str = ROLES_FILE) -> RoleTable:
    """Read and validate a roles file; raises ``ConfigError`` naming the first problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError("auth.roles.unreadable", path=str(path), detail=str(exc)) from exc
    return parse_role_table(raw, source=str(path))


@cache
def default_role_table() -> RoleTable:
    """The shipped table, loaded once per process."""
    return load_role_table(ROLES_FILE)


def parse_role_table(raw: Any, *, source: str = "<data>") -> RoleTable:
    """Validate an already-parsed mapping (``yaml.safe_load`` output) into a :class:`RoleTable`."""
    if not isinstance(raw, Mapping) or raw.get("version") != 1:
        raise ConfigError("auth.roles.bad_shape", path=source, where="version")
    unknown_sections = set(raw) - {"version", "site_roles", "project_roles", "facets"}
    if unknown_sections:
        raise ConfigError("auth.roles.bad_shape", path=source, where=", ".join(sorted(map(str, unknown_sections))))

    site_raw = raw.get("site_roles")
    if not isinstance(site_raw, Mapping) or not site_raw:
        raise ConfigError("auth.roles.bad_shape", path=source, where="site_roles")
    site_roles = {
        str(role): _actions(actions, scope=Scope.SITE, role=str(role), source=source)
        for role, actions in site_raw.items()
    }

    project_raw = raw.get("project_roles")
    if not isinstance(project_raw, Mapping) or not project_raw:
        raise ConfigError("auth.roles.bad_shape", path=source, where="project_roles")
    project_roles: dict[str, frozenset[Action]] = {}
    results_only: set[str] = set()
    for role, entry in project_raw.items():
        role = str(role)
        if not isinstance(entry, Mapping) or set(entry) - {"actions", "results_only"}:
            raise ConfigError("auth.roles.bad_shape", path=source, where=f"project_roles.{role}")
        flag = entry.get("results_only", False)
        if not isinstance(flag, bool):
            raise ConfigError("auth.roles.bad_shape", path=source, where=f"project_roles.{role}.results_only")
        actions = _actions(entry.get("actions"), scope=Scope.PROJECT, role=role, source=source)
        if flag:
            leaking = sorted(a.value for a in actions if ACTION_INFO[a].row_level)
            if leaking:
                raise ConfigError("auth.roles.row_level_for_results_only", path=source, role=role, actions=leaking)
            results_only.add(role)
        project_roles[role] = actions

    clash = set(site_roles) & set(project_roles)
    if clash:
        raise ConfigError("auth.roles.bad_shape", path=source, where=", ".join(sorted(clash)))

    facets: dict[Action, frozenset[str]] = {}
    facets_raw = raw.get("facets") or {}
    if not isinstance(facets_raw, Mapping):
        raise ConfigError("auth.roles.bad_shape", path=source, where="facets")
    for name, parts in facets_raw.items():
        action = _action(name, role="facets", source=source)
        if not isinstance(parts, list) or not parts:
            raise ConfigError("auth.roles.bad_shape", path=source, where=f"facets.{name}")
        unknown = sorted(str(p) for p in parts if p not in FACETS)
        if unknown:
            raise ConfigError("auth.roles.unknown_facet", path=source, facets=unknown, known=sorted(FACETS))
        facets[action] = frozenset(parts)

    return RoleTable(
        site_roles=site_roles,
        project_roles=project_roles,
        results_only_roles=frozenset(results_only),
        facets=facets,
    )


def _actions(raw: Any, *, scope: Scope, role: str, source: str) -> frozenset[Action]:
    if not isinstance(raw, list):
        raise ConfigError("auth.roles.bad_shape", path=source, where=role)
    actions = [_action(name, role=role, source=source) for name in raw]
    wrong = sorted(a.value for a in actions if ACTION_INFO[a].scope is not scope)
    if wrong:
        raise ConfigError("auth.roles.wrong_scope", path=source, role=role, actions=wrong, scope=scope.value)
    if len(set(actions)) != len(actions):
        raise ConfigError("auth.roles.bad_shape", path=source, where=f"{role} (duplicate action)")
    return frozenset(actions)


def _action(name: Any, *, role: str, source: str) -> Action:
    try:
        return Action(str(name))
    except ValueError:
        raise ConfigError("auth.roles.unknown_action", path=source, role=role, action=str(name)) from None
