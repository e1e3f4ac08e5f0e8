"""House rules that keep the layout honest: where Streamlit may be imported, no pickle, no pyflakes-class defect."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BELOW_PAGES = ("workbench", "pipelines", "permissions")
APP_ENTRIES = {ROOT / "workbench" / "app.py", ROOT / "workbench" / "asgi.py"}


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_streamlit_is_imported_only_in_pages_and_the_app_entry():
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files(*BELOW_PAGES)
        if path not in APP_ENTRIES and any(m == "streamlit" or m.startswith("streamlit.") for m in _imported_modules(path))
    ]
    assert offenders == [], f"streamlit imported outside pages/ and the app entry: {offenders}"


def test_the_scan_would_catch_an_offender(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from streamlit import session_state\n", encoding="utf-8")
    assert "streamlit" in _imported_modules(bad)


@pytest.mark.parametrize("folder", ["pipelines", "permissions"])
def test_pure_packages_do_not_import_the_application(folder):
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files(folder)
        if any(m == "workbench" or m.startswith("workbench.") or m.startswith("pages") for m in _imported_modules(path))
    ]
    assert offenders == [], f"{folder}/ must not import workbench/ or pages/: {offenders}"


def test_no_pickle_or_joblib_anywhere():
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files(*BELOW_PAGES, "pages")
        if _imported_modules(path) & {"pickle", "cPickle", "joblib", "dill", "cloudpickle"}
    ]
    assert offenders == [], f"pickle-like serialisation imported: {offenders}"


def test_no_unsafe_html():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files("pages", "workbench") if "unsafe_allow_html" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_no_cache_data_anywhere():
    """st.cache_data is shared by every user of the server: patient data must never go through it."""
    offenders = [str(p.relative_to(ROOT)) for p in _python_files("pages", "workbench")
                 if "cache_data" in p.read_text(encoding="utf-8")]
    assert offenders == [], f"st.cache_data used in {offenders}; keep per-user data in st.session_state"


def test_no_pyflakes_class_defect_anywhere():
    """Undefined or unused names, a name in ``__all__`` that the module lacks, syntax errors (the
    rules in pyproject.toml's ``[tool.ruff.lint]``): each is a bug or dead code."""
    assert importlib.util.find_spec("ruff") is not None, "ruff is part of the test extra: pip install -e '.[test]'"
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
