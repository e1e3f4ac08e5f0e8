"""Tabs of which only the open one runs: a tab change reruns the page, and the closed tabs' queries,
figures and widgets are neither computed on the server nor drawn in the browser.

The tab a person chose is remembered by its panel's name, not its label: the labels are in the
session's language, and a tab widget whose labels changed (another language, a panel that is only
offered once something is computed) is a new widget that would open on the first tab. Until a
person chooses, the first panel is open, also when panels appear before it (the curves once the
evaluation is done).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

__all__ = ["lazy_tabs"]


def lazy_tabs(ctx, panels: Mapping[str, tuple[str, Callable[[], None]]], *, key: str, remembered: str) -> str | None:
    """Draw ``panels`` (name -> (label key, draw)) as tabs and run the open one's ``draw``; returns
    its name. ``key`` is the tab widget's key, ``remembered`` the session key of the chosen panel's name.

    A choice is a tab value other than the one this function opened on the previous run (a click in
    the browser reruns the page with it)."""
    if not panels:
        return None
    labels = {name: ctx.t(label) for name, (label, _) in panels.items()}
    names = {label: name for name, label in labels.items()}
    current, opened = st.session_state.get(key), st.session_state.get(f"_opened_{key}")
    if current in names and current != opened:
        st.session_state[remembered] = names[current]
    chosen = st.session_state.get(remembered)
    st.session_state[key] = st.session_state[f"_opened_{key}"] = labels[chosen if chosen in labels else next(iter(labels))]
    tabs = st.tabs(list(labels.values()), key=key, on_change="rerun")
    for (name, (_, draw)), tab in zip(panels.items(), tabs):
        if tab.open:
            with tab:
                draw()
            return name
    return None
