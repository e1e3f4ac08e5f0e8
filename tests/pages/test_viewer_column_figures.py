"""The Data page's column panel on a Korean screen: minimum, median and maximum as three figures (one
box cut "40 / 60 / 95" to "40 / 6…" at a laptop's width) and the plausible range's unit in Korean
("0–120 세", not "years"). Real table: the demo's heart-failure records, column ``age``."""

from __future__ import annotations

from tests.pages.conftest import open_page
from workbench.i18n import t


def test_the_column_panel_in_korean(app_env, datasets_dir):
    import pandas as pd

    at = open_page("data.py", lang="ko")
    state = object.__getattribute__(at.session_state, "_state").filtered_state
    at.session_state[next(k for k in state if k.startswith("viewer_tab_"))] = t("data.view.columns", "ko")
    at.run()
    assert not at.exception, at.exception
    age = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")["age"]
    figures = {m.label: m.value for m in at.metric}
    expected = {t(f"data.view.{k}", "ko"): f"{v:,.4g}" for k, v in
                (("minimum", age.min()), ("median", age.median()), ("maximum", age.max()))}
    assert expected.items() <= figures.items(), figures
    ranges = [box.value for box in [*at.info, *at.warning] if "age" in box.value]
    assert len(ranges) == 1 and "세" in ranges[0] and "years" not in ranges[0], ranges
