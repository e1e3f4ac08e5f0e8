"""The Review page's ICU time-series form (scenario 2, step 4), filled on the page in Korean: a long table
of timed measurements becomes one row per patient, and the step that results is the one the form shows;
a window that ends before it starts is refused with its message and changes nothing. Real data: the
PhysioNet 2012 outcomes and the raw time series of its first 60 stays."""

from __future__ import annotations

import gzip

import pandas as pd

from pipelines.recipe import AggregateTimeSeries, DefineOutcome, DropColumns, Recipe
from tests.pages.conftest import open_page

STAYS = 60


def _tables(app_env, datasets_dir):
    """The demo project with the outcomes and a long table of the first stays' vitals and labs; a saved
    recipe that defines the outcome. ``(outcomes version id, long table's reference, long table)``."""
    from tests.conftest import ADMIN_PASSWORD
    from workbench.context import open_workbench
    from workbench.services import accounts, datasets, projects, recipes
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(app_env)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    project_id = projects.list_projects(workbench, admin)[0].id
    with gzip.open(datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz", "rt") as handle:
        long = pd.read_csv(handle)
    long = long[long["RecordID"].isin(long["RecordID"].unique()[:STAYS])]
    long.to_csv(app_env.parent / "icu_timeseries.csv", index=False)
    series = datasets.import_file(workbench, admin, project_id=project_id, path=app_env.parent / "icu_timeseries.csv",
                                  label="icu_timeseries.csv")
    outcomes = datasets.import_file(workbench, admin, project_id=project_id,
                                    path=datasets_dir / "physionet2012_static_outcomes.csv", label="outcomes.csv")
    recipe = Recipe(steps=(DefineOutcome(column="In-hospital_death"),
                           DropColumns(columns=("Survival", "Length_of_stay", "set"), note="known after the outcome")))
    recipes.save_version(workbench, admin, project_id=project_id, dataset_version_id=outcomes, recipe=recipe)
    reference = f"v{datasets.get_version(workbench, admin, series).version}"
    workbench.engine.dispose()
    return outcomes, reference, long


def _fill(at, reference: str, *, start: float, end: float) -> None:
    at.selectbox(key="rv_f_ts_table").select(reference).run()
    for key, column in (("id", "RecordID"), ("time", "Minutes"), ("var", "Parameter"), ("val", "Value")):
        at.selectbox(key=f"rv_f_ts_{key}_{reference}").select(column)
    at.number_input(key="rv_f_ts_start").set_value(start)
    at.number_input(key="rv_f_ts_end").set_value(end)
    at.multiselect(key="rv_f_ts_stats").set_value(["mean", "max"])
    at.text_input(key="rv_f_ts_vars").input("HR, MAP")
    next(b for b in at.button if b.label == "단계 추가하기").click().run()
    assert not at.exception, at.exception


def test_the_time_series_form_builds_the_step_it_shows(app_env, datasets_dir):
    outcomes, reference, long = _tables(app_env, datasets_dir)
    at = open_page("review.py", lang="ko", timeout=180)
    if at.selectbox(key="rv_dataset").value != outcomes:
        at.selectbox(key="rv_dataset").select(outcomes).run()
    at.selectbox(key="rv_add_kind").select("aggregate_timeseries").run()
    before = at.session_state["rv_draft"].recipe
    assert at.selectbox(key="rv_f_ts_table").value == reference  # not the table under review (the newest)

    _fill(at, reference, start=1440.0, end=60.0)  # the window ends before it starts
    assert any("하한 1,440이(가) 상한 60보다 큽니다" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["rv_draft"].recipe == before

    _fill(at, reference, start=0.0, end=1440.0)  # the first 24 hours
    assert not at.error, [e.value for e in at.error]
    added = at.session_state["rv_draft"].recipe.steps[-1]
    assert added == AggregateTimeSeries(table=reference, id_column="RecordID", time_column="Minutes",
                                        variable_column="Parameter", value_column="Value", window_start=0.0,
                                        window_end=1440.0, statistics=("mean", "max"), variables=("HR", "MAP"))
    prepared = at.session_state["rv_preview"][1].prepared.frame
    assert {"HR_mean", "HR_max", "MAP_mean", "MAP_max"} <= set(prepared.columns)
    measured = long[long["Parameter"].isin(["HR", "MAP"]) & long["Minutes"].between(0, 1440)]["RecordID"].nunique()
    assert len(prepared) == measured and STAYS - 5 < measured <= STAYS  # one row per stay with HR or MAP in 24 h
    assert any(m.value.startswith(f"**{len(before.steps) + 1}.** ") for m in at.markdown)  # listed as a new step
