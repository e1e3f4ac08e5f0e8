"""The Data page's viewer runs only the open tab: the grid alone on arrival, each panel when chosen."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP, sign_in


def _tab_key(at) -> str:
    state = object.__getattribute__(at.session_state, "_state").filtered_state
    return next(k for k in state if k.startswith("viewer_tab_"))


def test_only_the_open_viewer_tab_is_computed(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at)
    at.switch_page("../pages/data.py")
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs][1:4] == ["Rows", "Columns", "Whole table"]
    assert len(at.dataframe) == 1  # the grid
    assert not at.get("plotly_chart") and not at.metric and not at.subheader  # no panel was computed

    at.session_state[_tab_key(at)] = "Whole table"
    at.run()
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["Missing values by column and row block", "Correlations between numeric columns"]
    assert len(at.get("plotly_chart")) == 2 and not at.dataframe

    at.session_state[_tab_key(at)] = "Columns"
    at.run()
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:3] == ["Type", "Missing", "Distinct values"]
    assert len(at.get("plotly_chart")) == 1 and not at.dataframe and not at.subheader

    at.session_state[_tab_key(at)] = "Rows"
    at.run()
    assert len(at.dataframe) == 1 and not at.get("plotly_chart")
