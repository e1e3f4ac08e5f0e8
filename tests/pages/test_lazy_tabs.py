"""Lazy tabs (pages/_lazy_tabs.py): only the open tab runs; the first tab is open until a person
chooses one, also when a panel appears before it; a choice survives a language change and the
appearance of other panels."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app() -> None:
    import streamlit as st

    from pages._lazy_tabs import lazy_tabs

    class Ctx:
        def t(self, key: str) -> str:
            return key.upper() if st.session_state.get("lang") == "ko" else key.title()

    panels = {}
    if st.session_state.get("curves_ready"):
        panels["curves"] = ("curves", lambda: st.write("drawn: curves"))
    panels["trials"] = ("trials", lambda: st.write("drawn: trials"))
    panels["runs"] = ("runs", lambda: st.write("drawn: runs"))
    lazy_tabs(Ctx(), panels, key="tabs", remembered="panel")


def _drawn(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("drawn: ")]


def test_first_tab_until_chosen_then_the_choice_across_languages_and_new_panels():
    at = AppTest.from_function(_app)
    at.run()
    assert [t.label for t in at.tabs] == ["Trials", "Runs"] and _drawn(at) == ["drawn: trials"]

    at.session_state["curves_ready"] = True  # the evaluation is done: its tab comes first and opens
    at.run()
    assert [t.label for t in at.tabs] == ["Curves", "Trials", "Runs"] and _drawn(at) == ["drawn: curves"]

    at.session_state["tabs"] = "Runs"  # the person clicks "Runs"
    at.run()
    assert _drawn(at) == ["drawn: runs"] and at.session_state["panel"] == "runs"

    at.session_state["lang"] = "ko"  # other labels: a new tab widget, the same panel
    at.run()
    assert [t.label for t in at.tabs] == ["CURVES", "TRIALS", "RUNS"] and _drawn(at) == ["drawn: runs"]

    at.session_state["curves_ready"] = False  # a panel disappears: the choice stays
    at.run()
    assert _drawn(at) == ["drawn: runs"] and at.session_state["tabs"] == "RUNS"
    assert not at.exception
