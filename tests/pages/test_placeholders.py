"""No picker shows Streamlit's built-in English placeholder ("Choose options", "Choose an option") on a
Korean screen: every ``multiselect``, and every ``selectbox`` that starts empty (``index=None``), in
pages/ passes a translated ``placeholder``. Read from the pages' source (the placeholder only shows
while nothing is chosen, which no journey stops to look at)."""

from __future__ import annotations

import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _needs_placeholder(call: ast.Call) -> bool:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    keywords = {k.arg: k.value for k in call.keywords}
    starts_empty = isinstance(keywords.get("index"), ast.Constant) and keywords["index"].value is None
    return (name == "multiselect" or name == "selectbox" and starts_empty) and "placeholder" not in keywords


def test_every_picker_has_a_translated_placeholder():
    missing = [f"{path.name}:{node.lineno}" for path in sorted(PAGES.glob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Call) and _needs_placeholder(node)]
    assert missing == [], missing


def test_no_multiselect_offers_the_english_select_all_on_a_korean_screen():
    """Streamlit's "Select all" option cannot be translated: every multiselect says whether to show it
    (``select_all=ctx.select_all``: English screens only, or ``False``)."""
    missing = [f"{path.name}:{node.lineno}" for path in sorted(PAGES.glob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "multiselect" and "select_all" not in {k.arg for k in node.keywords}]
    assert missing == [], missing


def test_select_all_shows_on_english_screens_only():
    from pages._shell import PageContext

    assert [PageContext(workbench=None, actor=None, lang=lang, project_id=None).select_all  # type: ignore[arg-type]
            for lang in ("en", "ko")] == [True, False]
