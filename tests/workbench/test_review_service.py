"""The review preview on stored dataset versions: warnings, cohort flow, changed columns, other tables."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.errors import InputError, NotFound, RecipeError
from pipelines.recipe import (
    AggregateTimeSeries, DefineOutcome, DropColumns, FilterRows, Impute, PlausibleRange, Recipe, Scale,
)
from workbench.bootstrap import projects_actor
from workbench.services import datasets, projects, review


@pytest.fixture
def owner_project(workbench, admin):
    project_id = projects.create_project(workbench, admin, name="Review")
    return workbench, projects_actor(workbench, admin), project_id


def _import(workbench, owner, project_id, path):
    return datasets.import_file(workbench, owner, project_id=project_id, path=path, label=path.name)


def test_heart_failure_time_is_flagged_until_dropped_and_the_cohort_stays_299(owner_project, datasets_dir):
    workbench, owner, project_id = owner_project
    dataset_id = _import(workbench, owner, project_id, datasets_dir / "heart_failure_clinical_records.csv")
    bare = review.preview(workbench, owner, dataset_version_id=dataset_id,
                          recipe=Recipe(steps=(DefineOutcome(column="DEATH_EVENT"),)))
    assert set(bare.warning_ids) == {"leak_dominant:time", "leak_name:time", "few_events"}
    dominant = next(w for w in bare.warnings if w.key == "recipe.warn_leak_dominant")
    assert dominant.params["auroc"] == pytest.approx(0.836, abs=0.002)
    assert "follow-up time" in review.warning_text(next(w for w in bare.warnings if "leak_name" in w.key), "en")

    dropped = review.preview(workbench, owner, dataset_version_id=dataset_id, recipe=Recipe(steps=(
        DefineOutcome(column="DEATH_EVENT"), DropColumns(columns=("time",)), Impute(), Scale())))
    assert dropped.warning_ids == ("few_events",)
    assert (dropped.rows_in, len(dropped.prepared.frame)) == (299, 299)
    flow = review.flow_labels(dropped, "en")
    assert [(r["rows_in"], r["rows_out"], r["columns_in"], r["columns_out"]) for r in flow] == [(299, 299, 13, 13),
                                                                                              (299, 299, 13, 12)]
    assert [(c.column, c.change) for c in dropped.changes] == [("time", "removed")]
    png = review.flow_figure(dropped, lang="ko")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert dropped.model_problem is None


def test_filters_report_excluded_rows_with_the_reason_and_changed_columns_show_before_and_after(owner_project, datasets_dir):
    workbench, owner, project_id = owner_project
    dataset_id = _import(workbench, owner, project_id, datasets_dir / "pima_diabetes.csv")
    raw = pd.read_csv(datasets_dir / "pima_diabetes.csv")
    recipe = Recipe(steps=(
        DefineOutcome(column="Outcome"),
        FilterRows(expression="Age >= 30", reason="adults 30 and older"),
        PlausibleRange(column="BMI", missing_codes=(0.0,)),
        Impute(), Scale()))
    shown = review.preview(workbench, owner, dataset_version_id=dataset_id, recipe=recipe)
    kept = raw[raw.Age >= 30]
    assert len(shown.prepared.frame) == len(kept)
    flow = review.flow_labels(shown, "en")
    assert flow[1]["excluded"] == (raw.Age < 30).sum() and flow[1]["reason"] == "adults 30 and older"
    bmi = next(c for c in shown.changes if c.column == "BMI")
    assert bmi.change == "changed" and bmi.cells_changed == int((kept.BMI == 0).sum())
    assert bmi.before.missing == 0 and bmi.after.missing == int((kept.BMI == 0).sum())
    assert bmi.before.edges == bmi.after.edges  # drawn on the same bins
    assert sum(bmi.before.counts) == len(raw) and sum(bmi.after.counts) == len(kept) - bmi.after.missing
    page, total = review.prepared_rows(shown, offset=0, limit=10, sort_by="Glucose", descending=True)
    assert total == len(kept) and len(page) == 10 and page.Glucose.is_monotonic_decreasing
    with pytest.raises(InputError):
        review.prepared_rows(shown, sort_by="no such column")


def test_time_series_table_is_another_dataset_version_named_by_version_or_label(owner_project, datasets_dir):
    workbench, owner, project_id = owner_project
    static_id = _import(workbench, owner, project_id, datasets_dir / "physionet2012_static_outcomes.csv")
    long_id = _import(workbench, owner, project_id, datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz")

    def recipe(table: str) -> Recipe:
        return Recipe(steps=(
            DefineOutcome(column="In-hospital_death"),
            DropColumns(columns=("set",)),
            AggregateTimeSeries(table=table, id_column="RecordID", time_column="Minutes",
                                variable_column="Parameter", value_column="Value", window_end=48 * 60.0,
                                variables=("HR", "GCS"), statistics=("first", "last", "mean", "slope")),
            DropColumns(columns=("RecordID",)),
            Impute(), Scale()))

    by_version = review.preview(workbench, owner, dataset_version_id=static_id, recipe=recipe("v2"))
    by_label = review.preview(workbench, owner, dataset_version_id=static_id,
                              recipe=recipe("physionet2012_seta_timeseries_long_first1000"))
    assert by_version.tables == {"v2": long_id} and by_label.tables == {
        "physionet2012_seta_timeseries_long_first1000": long_id}
    frame = by_version.prepared.frame
    long = pd.read_csv(datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz")
    inside = long[long.Parameter.isin(["HR", "GCS"]) & long.Minutes.between(0, 48 * 60) & long.Value.notna()]
    assert len(frame) == len(by_label.prepared.frame) == inside.RecordID.nunique() == 987
    assert by_version.rows_in == 8000
    excluded = review.flow_labels(by_version, "en")[2]
    assert (excluded["excluded"], excluded["reason"]) == (8000 - 987, "no measurements inside the time window")
    assert {"HR_first", "HR_slope", "GCS_last"} <= set(frame.columns)
    # Survival and Length_of_stay are still in: both are flagged as recorded after the outcome
    flagged = {w.columns[0] for w in by_version.warnings if w.key.startswith("recipe.warn_leak") and w.columns}
    assert {"Survival", "Length_of_stay"} <= flagged
    assert any(c.column == "HR_mean" and c.change == "added" for c in by_version.changes)
    with pytest.raises(RecipeError) as caught:
        review.preview(workbench, owner, dataset_version_id=static_id, recipe=recipe("vitals"))
    assert caught.value.key == "recipe.missing_table" and "v2 (physionet2012" in caught.value.params["available"]
    with pytest.raises(NotFound):
        review.resolve_tables(workbench, owner, project_id=project_id, recipe=recipe("x"), tables={"x": 999})


def test_suggestion_for_a_stored_version_and_steps_in_plain_words(owner_project, datasets_dir):
    workbench, owner, project_id = owner_project
    dataset_id = _import(workbench, owner, project_id, datasets_dir / "heart_cleveland.csv")
    suggested = review.suggest(workbench, owner, dataset_version_id=dataset_id, target="num")
    assert suggested.outcome.column == "num"
    binarised = suggested.with_steps((DefineOutcome(column="num", expression="num > 0"), *suggested.steps[1:]))
    shown = review.preview(workbench, owner, dataset_version_id=dataset_id, recipe=binarised)
    assert shown.prepared.task == "binary"
    assert review.describe_step(binarised.steps[0], "en") == "Outcome 'num': yes (1) where num > 0, otherwise no (0); from 'num'"
    for step in binarised.steps:
        assert review.describe_step(step, "ko") != review.describe_step(step, "en")
        assert "{" not in review.describe_step(step, "ko")
