"""Every action the app can write to the audit log has a name in English and Korean, and the Audit page
shows those names (its table and its picker), keeps the code in its own column, and filters by the codes
picked. The auditable codes are read from the source: every ``audit.record(..., action=...)`` call, and
every permission action (any of them can be refused, and a refusal is audited under its code)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from permissions.actions import Action
from pipelines.errors import WorkbenchError
from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import open_page
from workbench.i18n import catalogue

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("admin.audit.actions.", "auth.action.")
FIRST = "a kettle hums under seven pines"  # the page's lookup: an event's own name, else the permission's


def _strings(node: ast.AST) -> set[str] | None:
    """The codes an expression can be, when it is made of string constants only."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, other = _strings(node.body), _strings(node.orelse)
        return None if body is None or other is None else body | other
    return None


def _values_of(name: str, tree: ast.Module, function: ast.FunctionDef | None) -> set[str]:
    """What a variable named ``name`` holds in its module: string assignments (also ``a, b = "x", ""``),
    string keyword arguments of that name passed to the module's calls, every Action for a parameter
    typed ``Action``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = [(target, node.value)]
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs = list(zip(target.elts, node.value.elts, strict=False))
                for left, right in pairs:
                    if isinstance(left, ast.Name) and left.id == name and _strings(right):
                        found |= _strings(right)
        elif isinstance(node, ast.Call):
            found |= {s for k in node.keywords if k.arg == name for s in (_strings(k.value) or ())}
    for node in tree.body:  # a constant imported from a sibling module (``from ._store import ACTION``)
        if not found and isinstance(node, ast.ImportFrom) and name in {a.name for a in node.names} and node.module:
            source = ROOT / (node.module.replace(".", "/") + ".py")
            if source.exists():
                found |= _values_of(name, ast.parse(source.read_text(encoding="utf-8")), None)
    if function is not None:
        arguments = function.args.args + function.args.kwonlyargs
        if any(a.arg == name and a.annotation is not None and "Action" in ast.unparse(a.annotation) for a in arguments):
            found |= {a.value for a in Action}
    return found


@cache
def auditable_codes() -> dict[str, str]:
    """Every code the app can audit, with the place that writes it."""
    codes = {a.value: "permissions/actions.py (a refusal)" for a in Action}
    unreadable = []
    for path in sorted(p for folder in ("workbench", "permissions", "pages") for p in (ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in ast.walk(tree):
            called = node.func if isinstance(node, ast.Call) else None
            through_module = isinstance(called, ast.Attribute) and called.attr == "record" and \
                ast.unparse(called.value) == "audit"
            inside_module = isinstance(called, ast.Name) and called.id == "record" and path.name == "audit.py"
            if not (through_module or inside_module):
                continue
            place = f"{path.relative_to(ROOT)}:{node.lineno}"
            value = next((k.value for k in node.keywords if k.arg == "action"), None)
            if isinstance(value, ast.Call) and ast.unparse(value.func) == "str" and len(value.args) == 1:
                value = value.args[0]
            found = _strings(value) if value is not None else None
            if found is None and isinstance(value, ast.Name):
                within = [f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
                found = _values_of(value.id, tree, within[-1] if within else None) or None
            if not found:
                unreadable.append(place)
                continue
            codes.update({code: place for code in found if code not in codes})
    assert not unreadable, f"cannot tell which action these audit calls write; name them plainly: {unreadable}"
    return codes


def _name_key(code: str) -> str | None:
    return next((prefix + code for prefix in NAMES if prefix + code in catalogue("en")), None)


def test_every_auditable_action_has_a_name_in_both_languages():
    codes = auditable_codes()
    assert {"auth.sign_in", "members.add", "comments.write", "figures.download", "model.validate_external",
            "accounts.activate", "accounts.deactivate", "members.invite_redeem", "dataset.view_rows"} <= set(codes)
    unnamed = {code: place for code, place in codes.items() if _name_key(code) is None}
    assert not unnamed, f"audited actions without a name (add admin.audit.actions.<code> to admin.json): {unnamed}"
    for lang in ("en", "ko"):
        blank = [code for code in codes if not catalogue(lang).get(_name_key(code), "").strip()]
        assert not blank, (lang, blank)
    assert catalogue("ko")[_name_key("auth.sign_in")] != catalogue("en")[_name_key("auth.sign_in")]


def test_the_page_names_actions_keeps_codes_and_filters_by_the_names_picked(app_env):
    from workbench.context import open_workbench
    from workbench.services import accounts
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(app_env)))
    with pytest.raises(WorkbenchError):
        accounts.sign_in(workbench, username="admin", password="not the password at all")
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)

    at = open_page("admin_audit.py", lang="ko")
    picker = at.multiselect[0]  # every auditable action, by its Korean name (English: the same code path)
    assert picker.proto.placeholder == "모든 동작" and not picker.proto.select_all  # (its English "Select all")
    missing = {code for code in auditable_codes() if catalogue("ko")[_name_key(code)] not in picker.options}
    assert not missing and not set(auditable_codes()) & set(picker.options), missing
    assert len(picker.options) == len(set(picker.options)), "one option per name (it filters by each of its codes)"
    frame = at.dataframe[0].value
    assert "코드" in frame.columns and "auth.sign_in" in set(frame["코드"])
    assert "로그인" in set(frame["동작"]) and not set(frame["동작"]) & set(frame["코드"])

    at.multiselect[0].select("project.create").run()  # picked by code; the page shows its name
    frame = at.dataframe[0].value
    assert set(frame["코드"]) == {"project.create"} and set(frame["동작"]) == {"프로젝트 만들기"}
    at.multiselect[0].select("auth.sign_in").run()
    frame = at.dataframe[0].value
    assert set(frame["코드"]) == {"project.create", "auth.sign_in"}
    assert {"거부", "성공"} <= set(frame["결과"])  # the wrong password and the right ones
    # a name two codes share (the refused permission, the event it allows) picks both
    shared = catalogue("ko")["admin.audit.actions.accounts.change_password"]
    assert shared == catalogue("ko")["auth.action.account.change_own_password"]
    with pytest.raises(WorkbenchError):  # refused (not signed in), audited under the permission's code
        accounts.change_password(workbench, None, current="x", new="y")
    accounts.create_user(workbench, admin, username="dr_cho", password=FIRST)
    cho = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="dr_cho", password=FIRST).token)
    accounts.change_password(workbench, cho, current=FIRST, new=FIRST + " again")  # the event's own code
    at.multiselect[0].set_value(["account.change_own_password"]).run()
    assert not at.exception and at.multiselect[0].values == [shared]
    frame = at.dataframe[0].value
    assert set(frame["코드"]) == {"account.change_own_password", "accounts.change_password"}, frame.to_dict("records")
    assert set(frame["동작"]) == {shared}
