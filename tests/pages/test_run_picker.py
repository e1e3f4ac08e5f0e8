"""The results, export, calculator and validation pages list runs through one picker: a page that
asks the service for the run list itself has grown its own copy again (the copies named runs in
three different ways)."""

from __future__ import annotations

import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "pages"
PICKER_PAGES = ("results.py", "export.py", "calculator.py", "validate.py")


def _calls(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == name]


def test_only_the_picker_lists_runs():
    listing = {p.name: _calls(p, "project_runs") for p in sorted(PAGES.glob("*.py")) if p.name != "_run_picker.py"}
    assert {name: lines for name, lines in listing.items() if lines} == {}
    assert _calls(PAGES / "_run_picker.py", "project_runs")


def test_every_run_choosing_page_uses_the_picker():
    for name in PICKER_PAGES:
        tree = ast.parse((PAGES / name).read_text(encoding="utf-8"))
        used = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert "pick_run" in used, name
