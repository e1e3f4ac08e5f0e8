"""Every service function that acts for a user is mapped to the action it checks.

`service_actions.csv` is the table a security reviewer reads. A public function in
`workbench/services/` that takes an `actor` and is missing from it fails this test, and so does one
whose code (directly, or through the service functions it calls) never checks the mapped action.
"""

from __future__ import annotations

import ast
import csv
from functools import cache
from pathlib import Path

from permissions.actions import Action

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "workbench" / "services"
TABLE = Path(__file__).with_name("service_actions.csv")


def _functions() -> dict[str, ast.FunctionDef]:
    found: dict[str, ast.FunctionDef] = {}
    for path in sorted(SERVICES.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found[f"{path.stem}.{node.name}"] = node
    return found


def _actions_in(node: ast.AST) -> set[str]:
    return {Action[item.attr].value for item in ast.walk(node)
            if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name) and item.value.id == "Action"}


@cache
def _module_tables() -> dict[str, dict[str, set[str]]]:
    """Module-level names bound to actions (e.g. a dict from export part to action), per module."""
    tables: dict[str, dict[str, set[str]]] = {}
    for path in sorted(SERVICES.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and _actions_in(node.value):
                        tables.setdefault(path.stem, {})[target.id] = _actions_in(node.value)
    return tables


def _direct(node: ast.FunctionDef, module: str, known: set[str]) -> tuple[set[str], set[str]]:
    """Actions the function names (itself or through a module-level table it reads), and the service
    functions it calls."""
    actions, calls = set(), set()
    tables = _module_tables().get(module, {})
    for item in ast.walk(node):
        if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name) and item.value.id == "Action":
            actions.add(Action[item.attr].value)
        if isinstance(item, ast.Name) and item.id in tables:
            actions |= tables[item.id]
        if isinstance(item, ast.Call):
            target = item.func
            if isinstance(target, ast.Name) and f"{module}.{target.id}" in known:
                calls.add(f"{module}.{target.id}")
            elif isinstance(target, ast.Name):
                calls.update(name for name in known if name.endswith(f".{target.id}") and not target.id.startswith("_"))
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                qualified = f"{target.value.id}.{target.attr}"
                if qualified in known:
                    calls.add(qualified)
    return actions, calls


def _checked_actions() -> dict[str, set[str]]:
    functions = _functions()
    known = set(functions)
    direct = {name: _direct(node, name.split(".")[0], known) for name, node in functions.items()}
    memo: dict[str, set[str]] = {}

    def reach(name: str, seen: frozenset[str]) -> set[str]:
        if name in memo:
            return memo[name]
        actions, calls = direct[name]
        out = set(actions)
        for callee in calls - seen:
            out |= reach(callee, seen | {callee})
        memo[name] = out
        return out

    return {name: reach(name, frozenset({name})) for name in functions}


def _acting_for_a_user() -> set[str]:
    out = set()
    for name, node in _functions().items():
        module, function = name.split(".")
        if module.startswith("_") or function.startswith("_"):
            continue
        params = [a.arg for a in node.args.args + node.args.kwonlyargs]
        if "actor" in params:
            out.add(name)
    return out


def _table() -> dict[str, tuple[str, str]]:
    with TABLE.open(encoding="utf-8") as handle:
        return {row["function"]: (row["action"], row["why"]) for row in csv.DictReader(handle)}


def test_every_service_function_acting_for_a_user_is_in_the_table():
    missing = sorted(_acting_for_a_user() - set(_table()))
    assert missing == [], f"add these to {TABLE.name} with the action they check: {missing}"
    stale = sorted(set(_table()) - _acting_for_a_user())
    assert stale == [], f"{TABLE.name} names functions that no longer exist: {stale}"


def test_every_mapped_function_checks_its_action():
    checked = _checked_actions()
    wrong = {}
    for name, (action, why) in _table().items():
        if action == "-":
            assert why.strip(), f"{name}: an unmapped function needs a reason"
            continue
        Action(action)  # a typo in the table fails here
        if action not in checked.get(name, set()):
            wrong[name] = (action, sorted(checked.get(name, set())))
    assert wrong == {}, f"functions that never check their mapped action: {wrong}"


def test_the_check_would_notice_a_function_without_authorization(tmp_path):
    source = "def leaky(workbench, actor, project_id):\n    return read_everything(project_id)\n"
    node = ast.parse(source).body[0]
    actions, calls = _direct(node, "fake", set())
    assert actions == set() and calls == set()
