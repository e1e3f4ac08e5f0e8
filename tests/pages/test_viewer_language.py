"""The viewer remembers the open tab by its panel, not its label: switching the language keeps the
whole-table panel open (in Korean) instead of falling back to the grid."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP, sign_in


def test_switching_language_keeps_the_open_viewer_tab(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "en"
    sign_in(at)
    at.switch_page("../pages/data.py")
    at.run()
    state = object.__getattribute__(at.session_state, "_state").filtered_state
    key = next(k for k in state if k.startswith("viewer_tab_"))
    at.session_state[key] = "Whole table"
    at.run()
    assert [s.value for s in at.subheader][0] == "Missing values by column and row block"

    at.sidebar.radio[0].set_value("ko").run()  # the language switch every page has
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs][1:4] == ["행", "열", "전체 표"]
    assert at.session_state[key] == "전체 표"
    assert [s.value for s in at.subheader][0] == "열과 행 구간별 결측값"  # the same panel, now in Korean
    assert not at.dataframe  # not the grid

    at.session_state[key] = "열"
    at.run()
    at.sidebar.radio[0].set_value("en").run()
    assert at.session_state[key] == "Columns" and [m.label for m in at.metric][:1] == ["Type"]
