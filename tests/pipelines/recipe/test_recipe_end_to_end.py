"""Recipes for the shared datasets, run end to end: prepare, review, compile, cross-validate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from pipelines.recipe import (
    AggregateTimeSeries,
    DefineOutcome,
    DropColumns,
    Encode,
    Impute,
    PlausibleRange,
    Recipe,
    RecodeCategories,
    Scale,
    SplitSpec,
    build_preprocessor,
    make_split_plan,
    prepare,
    review,
)


def _cv_auroc(recipe: Recipe, prepared, seed: int = 0, C: float = 1.0) -> float:
    """Mean out-of-fold AUROC of a logistic regression, the preprocessor fitted inside each fold."""
    plan = make_split_plan(recipe.split, prepared, seed=seed)
    X = prepared.X.iloc[plan.train_index]
    y = (prepared.y.iloc[plan.train_index] == prepared.positive_label).astype(int)
    scores = []
    for fit_rows, val_rows in plan.folds:
        model = make_pipeline(build_preprocessor(recipe, prepared), LogisticRegression(C=C, max_iter=2000))
        model.fit(X.iloc[fit_rows], y.iloc[fit_rows])
        scores.append(roc_auc_score(y.iloc[val_rows], model.predict_proba(X.iloc[val_rows])[:, 1]))
    return float(np.mean(scores))


def test_heart_failure_with_time_dropped(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    recipe = Recipe(steps=(
        DefineOutcome(column="DEATH_EVENT"),
        DropColumns(columns=("time",), note="follow-up time, known only after the outcome"),
        Impute(), Scale(),
    ))
    prepared = prepare(recipe, frame)
    assert prepared.task == "binary" and prepared.positive_label == 1
    assert "time" not in prepared.features and len(prepared.features) == 11
    assert int(prepared.y.sum()) == 96 and len(prepared.frame) == 299
    keys = {w.key for w in review(frame, prepared)}
    assert not {k for k in keys if k.startswith("recipe.warn_leak")}
    auroc = _cv_auroc(recipe, prepared)
    assert 0.65 < auroc < 0.85  # honest performance without the leaking follow-up time

    with_time = prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), Impute(), Scale())), frame)
    assert _cv_auroc(recipe, with_time) > auroc + 0.05  # the leak inflates the estimate


def test_pima_zeros_become_missing(datasets_dir):
    frame = pd.read_csv(datasets_dir / "pima_diabetes.csv")
    zero_missing = ("Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI")
    recipe = Recipe(steps=(
        DefineOutcome(column="Outcome"),
        *(PlausibleRange(column=c, missing_codes=(0.0,)) for c in zero_missing),
        Impute(numeric="median", add_indicator=True), Scale(),
    ))
    prepared = prepare(recipe, frame)
    missing = prepared.frame[list(zero_missing)].isna().sum().to_dict()
    assert missing == {"Glucose": 5, "BloodPressure": 35, "SkinThickness": 227, "Insulin": 374, "BMI": 11}
    assert (prepared.frame["Pregnancies"] == 0).sum() == 111  # a real zero stays a zero
    pipe = build_preprocessor(recipe, prepared).fit(prepared.X, prepared.y)
    matrix = pipe.transform(prepared.X)
    names = list(pipe[-1].get_feature_names_out())
    assert np.isfinite(matrix).all()
    assert {f"{c}__missing" for c in zero_missing} <= set(names)
    assert matrix[:, names.index("Insulin__missing")].sum() == 374
    assert _cv_auroc(recipe, prepared) > 0.78


def test_cleveland_binarised(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv")
    recipe = Recipe(steps=(
        DefineOutcome(column="num", expression="num > 0", name="disease"),
        RecodeCategories(column="cp", mapping=((1, "typical angina"), (2, "atypical angina"),
                                               (3, "non-anginal pain"), (4, "asymptomatic"))),
        RecodeCategories(column="thal", mapping=((3, "normal"), (6, "fixed defect"), (7, "reversible defect"))),
        Impute(), Encode(method="onehot"), Scale(),
    ))
    prepared = prepare(recipe, frame)
    assert prepared.target == "disease" and "num" not in prepared.frame.columns
    assert prepared.task == "binary" and prepared.positive_label == 1
    assert int(prepared.y.sum()) == 139 and len(prepared.y) == 303
    pipe = build_preprocessor(recipe, prepared).fit(prepared.X, prepared.y)
    names = list(pipe[-1].get_feature_names_out())
    assert "cp=asymptomatic" in names and "thal=reversible defect" in names
    assert np.isfinite(pipe.transform(prepared.X)).all()
    assert _cv_auroc(recipe, prepared) > 0.85


def _icu_recipe() -> Recipe:
    return Recipe(steps=(
        DefineOutcome(column="In-hospital_death"),
        DropColumns(columns=("Survival", "Length_of_stay", "set"), note="known after the outcome"),
        AggregateTimeSeries(table="timeseries", id_column="RecordID", time_column="Minutes",
                            variable_column="Parameter", value_column="Value",
                            window_start=0.0, window_end=48 * 60.0),
        DropColumns(columns=("RecordID",), note="identifier"),
        Impute(add_indicator=False), Scale(),
    ), split=SplitSpec(kind="stratified_kfold", n_folds=3))


@pytest.mark.slow
def test_icu_time_series_aggregated_to_48h_and_joined(datasets_dir):
    static = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    long = pd.read_csv(datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz")
    recipe = _icu_recipe()
    prepared = prepare(recipe, static, tables={"timeseries": long})
    assert len(prepared.frame) == 1000 and int(prepared.y.sum()) == 136
    flow = {f.kind: f for f in prepared.cohort_flow}
    agg = flow["aggregate_timeseries"]
    assert (agg.rows_in, agg.rows_out, agg.excluded) == (8000, 1000, 7000)
    assert agg.reason_key == "recipe.flow_no_timeseries"
    n_vars = long["Parameter"].nunique()
    assert agg.columns_out - agg.columns_in == n_vars * 7

    # one patient, checked by hand against numpy
    hr = long[(long.RecordID == 132539) & (long.Parameter == "HR")].sort_values("Minutes", kind="stable")
    row = prepared.frame.loc[static.index[static.RecordID == 132539][0]]
    assert row["HR_first"] == hr.Value.iloc[0] and row["HR_last"] == hr.Value.iloc[-1]
    assert row["HR_count"] == len(hr) and row["HR_max"] == hr.Value.max()
    assert row["HR_mean"] == pytest.approx(hr.Value.mean())
    assert row["HR_slope"] == pytest.approx(np.polyfit(hr.Minutes, hr.Value, 1)[0])
    assert "RecordID" not in prepared.frame

    warnings = review(static, prepared)
    assert not [w for w in warnings if w.key.startswith("recipe.warn_leak") and w.key != "recipe.warn_leak_name"]
    assert _cv_auroc(recipe, prepared, C=0.01) > 0.75


def test_window_excludes_later_measurements(datasets_dir):
    static = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    long = pd.read_csv(datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz")
    step = AggregateTimeSeries(table="ts", id_column="RecordID", time_column="Minutes", variable_column="Parameter",
                               value_column="Value", window_end=24 * 60.0, variables=("HR",),
                               statistics=("count", "last"))
    out = step.apply(static, tables={"ts": long})
    hr = long[(long.Parameter == "HR") & (long.Minutes <= 1440)]
    counts = hr.groupby("RecordID").size()
    got = out.set_index("RecordID")["HR_count"]
    assert (got.loc[counts.index] == counts).all()
    assert len(out) == len(counts) == 985  # stays without a heart rate in the first 24 h are excluded
    last_in_window = hr.sort_values("Minutes", kind="stable").groupby("RecordID")["Value"].last()
    last_overall = long[long.Parameter == "HR"].sort_values("Minutes", kind="stable").groupby("RecordID")["Value"].last()
    assert (got_last := out.set_index("RecordID")["HR_last"].loc[counts.index]).equals(last_in_window.loc[counts.index])
    assert not got_last.equals(last_overall.loc[counts.index])  # values after 24 h were really left out
