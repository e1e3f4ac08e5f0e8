"""The recipe as a document: hand-written JSON, hashes, versions and diffs, suggestions,
compilation errors, safe saving of the fitted preprocessor, and the message catalogues."""

from __future__ import annotations

import dataclasses
import json
import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

from pipelines.errors import RecipeError
from pipelines.recipe import (
    TRUSTED_TYPES,
    ClipOutliers,
    DefineOutcome,
    DropColumns,
    Encode,
    FilterRows,
    GroupRareCategories,
    Impute,
    LogTransform,
    PlausibleRange,
    Recipe,
    RecodeCategories,
    Scale,
    SplitSpec,
    build_preprocessor,
    diff,
    prepare,
    review,
    suggest_recipe,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def hf(datasets_dir):
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")


@pytest.fixture(scope="module")
def icu(datasets_dir):
    return pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")


HAND_WRITTEN = """
{
  "steps": [
    {"kind": "outcome", "column": "DEATH_EVENT"},
    {"kind": "filter_rows", "expression": "age >= 50", "reason": "adults aged 50 or over"},
    {"kind": "drop_columns", "columns": ["time"]},
    {"kind": "impute"},
    {"kind": "scale", "method": "robust"}
  ],
  "split": {"kind": "stratified_kfold", "n_folds": 5, "test_fraction": 0.2}
}
"""


def test_hand_written_json_runs_and_reports_the_cohort_flow(hf):
    recipe = Recipe.from_json(HAND_WRITTEN)
    prepared = prepare(recipe, hf)
    flow = prepared.cohort_flow[1]
    assert flow.kind == "filter_rows" and flow.step == 2
    assert flow.rows_in == 299 and flow.rows_out == int((hf["age"] >= 50).sum()) and flow.excluded == 47
    assert flow.reason == "adults aged 50 or over" and flow.reason_key == "recipe.flow_filter"
    assert [f.excluded for f in prepared.cohort_flow] == [0, 47, 0]
    assert [(f.columns_in, f.columns_out) for f in prepared.cohort_flow] == [(13, 13), (13, 13), (13, 12)]


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("{not json", "recipe.bad_json", {}),
        ('{"steps": [{"kind": "sort_everything"}]}', "recipe.unknown_step_kind", {"step": 1}),
        ('{"steps": [{"kind": "outcome", "column": "x"}, {"kind": "scale", "methd": "robust"}]}',
         "recipe.unknown_param", {"step": 2, "param": "methd"}),
        ('{"steps": [{"kind": "scale", "method": "zscore"}]}', "recipe.bad_choice", {"step": 1, "param": "method"}),
        ('{"steps": [{"kind": "drop_columns", "columns": "time"}]}', "recipe.bad_param", {"param": "columns"}),
        ('{"steps": [{"kind": "clip_outliers", "lower": 0.99, "upper": 0.01}]}', "recipe.quantiles_bad", {"step": 1}),
        ('{"steps": [{"kind": "filter_rows", "expression": "age >"}]}', "recipe.expr_syntax", {"step": 1}),
        ('{"steps": [{"kind": "outcome"}]}', "recipe.param_required", {"param": "column"}),
        ('{"steps": [], "split": {"kind": "random"}}', "recipe.bad_choice", {"param": "kind"}),
        ('{"format_version": 99, "steps": []}', "recipe.format_version", {"version": 99}),
    ],
)
def test_hand_written_json_errors_name_the_problem(text, key, params):
    with pytest.raises(RecipeError) as info:
        Recipe.from_json(text)
    assert info.value.key == key
    for name, value in params.items():
        assert info.value.params[name] == value


def test_validation_against_columns_names_the_step(hf):
    recipe = Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), DropColumns(columns=("time",)),
                           FilterRows(expression="time > 10")))
    with pytest.raises(RecipeError) as info:
        prepare(recipe, hf)
    assert info.value.key == "recipe.unknown_column"
    assert info.value.params["step"] == 3 and info.value.params["column"] == "time"
    with pytest.raises(RecipeError) as info:
        prepare(Recipe(steps=(DropColumns(columns=("time",)),)), hf)
    assert info.value.key == "recipe.no_outcome"
    with pytest.raises(RecipeError) as info:
        prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), DefineOutcome(column="sex"))), hf)
    assert info.value.key == "recipe.several_outcomes"
    with pytest.raises(RecipeError) as info:
        prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), Scale(columns=("DEATH_EVENT",)))), hf)
    assert info.value.key == "recipe.column_not_feature" and info.value.params["step"] == 2
    with pytest.raises(RecipeError) as info:
        prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"), FilterRows(expression="age > 200"))), hf)
    assert info.value.key == "recipe.no_rows_left"


def test_content_hash_is_canonical_and_versions_are_immutable(hf):
    recipe = Recipe.from_json(HAND_WRITTEN)
    reordered = json.loads(HAND_WRITTEN)
    reordered = {"split": reordered["split"], "steps": [dict(reversed(list(s.items()))) for s in reordered["steps"]]}
    assert Recipe.from_json(json.dumps(reordered, indent=5)).content_hash() == recipe.content_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", recipe.content_hash())
    edited = recipe.toggle(1, False)
    assert recipe.steps[1].enabled and not edited.steps[1].enabled
    assert edited.content_hash() != recipe.content_hash()
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.steps[0].column = "age"
    moved = recipe.move(4, 3)
    assert [s.kind for s in moved.steps][3:] == ["scale", "impute"]
    assert recipe.remove(2).steps == recipe.steps[:2] + recipe.steps[3:]
    with pytest.raises(RecipeError) as info:
        recipe.remove(9)
    assert info.value.key == "recipe.no_such_step"


def test_diff_between_versions():
    a = Recipe.from_json(HAND_WRITTEN)
    b = a.remove(2).add(LogTransform(columns=("creatinine_phosphokinase",)))
    b = b.with_steps((b.steps[0], FilterRows(expression="age >= 60", reason="aged 60 or over"), *b.steps[2:]))
    b = Recipe(steps=b.steps, split=SplitSpec(n_folds=10))
    changes = diff(a, b)
    summary = [(c.change, c.kind, c.index_a, c.index_b) for c in changes]
    assert ("changed", "filter_rows", 1, 1) in summary
    assert ("removed", "drop_columns", 2, None) in summary
    assert ("added", "log_transform", None, 4) in summary
    assert ("split", "split", None, None) in summary
    changed = next(c for c in changes if c.change == "changed")
    assert set(changed.fields) == {"expression", "reason"}
    assert changed.before["expression"] == "age >= 50" and changed.after["expression"] == "age >= 60"
    assert next(c for c in changes if c.change == "split").fields == ("n_folds",)
    assert diff(a, a) == ()
    assert len(summary) == 4


def test_suggestions_for_the_shared_tables(datasets_dir, hf, icu):
    pima = pd.read_csv(datasets_dir / "pima_diabetes.csv")
    suggestion = suggest_recipe(pima)
    assert suggestion.outcome.column == "Outcome"
    ranges = {s.column: s for s in suggestion.steps if isinstance(s, PlausibleRange)}
    assert set(ranges) == {"Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"}
    assert all(r.missing_codes == (0.0,) for r in ranges.values())

    hf_suggestion = suggest_recipe(hf)
    assert hf_suggestion.outcome.column == "DEATH_EVENT"
    dropped = {c for s in hf_suggestion.steps if isinstance(s, DropColumns) for c in s.columns}
    assert dropped == {"time"}
    assert not [s for s in hf_suggestion.steps if isinstance(s, PlausibleRange)]  # high_blood_pressure is a flag

    icu_suggestion = suggest_recipe(icu)
    dropped = {c for s in icu_suggestion.steps if isinstance(s, DropColumns) for c in s.columns}
    assert {"RecordID", "Survival", "Length_of_stay"} <= dropped
    prepared = prepare(icu_suggestion, icu)
    matrix = build_preprocessor(icu_suggestion, prepared).fit(prepared.X, prepared.y).transform(prepared.X)
    assert np.isfinite(matrix).all() and matrix.dtype == np.float64
    assert not [w for w in review(icu, prepared) if "leak" in w.key]
    # the suggestion survives its own JSON
    assert Recipe.from_json(icu_suggestion.to_json()) == icu_suggestion

    cleveland = pd.read_csv(datasets_dir / "heart_cleveland.csv")
    assert suggest_recipe(cleveland).outcome.column == "num"
    with pytest.raises(RecipeError) as info:
        suggest_recipe(hf, target="nope")
    assert info.value.key == "recipe.unknown_column"


def test_suggestion_groups_by_patient_on_the_readmission_table(datasets_dir):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False,
                        na_values=[""], low_memory=False, nrows=5000)
    suggestion = suggest_recipe(frame, target="readmitted")
    assert suggestion.split == SplitSpec(kind="grouped_kfold", group_column="patient_nbr")
    dropped = {c for s in suggestion.steps if isinstance(s, DropColumns) for c in s.columns}
    assert "encounter_id" in dropped and "patient_nbr" not in dropped
    prepared = prepare(suggestion, frame)
    assert prepared.task == "multiclass" and "patient_nbr" not in prepared.features
    matrix = build_preprocessor(suggestion, prepared).fit(prepared.X, prepared.y).transform(prepared.X)
    assert np.isfinite(matrix).all()


def test_categories_must_be_encoded(icu):
    recipe = Recipe(steps=(DefineOutcome(column="In-hospital_death"), DropColumns(columns=("set",)),
                           RecodeCategories(column="ICUType", mapping=((1, "coronary"), (2, "cardiac"),
                                                                       (3, "medical"), (4, "surgical"))),
                           Impute()))
    prepared = prepare(recipe, icu)
    with pytest.raises(RecipeError) as info:
        build_preprocessor(recipe, prepared)
    assert info.value.key == "recipe.categorical_not_encoded" and info.value.params["columns"] == ["ICUType"]


def test_nan_only_without_imputation(icu):
    base = (DefineOutcome(column="In-hospital_death"), DropColumns(columns=("set", "Survival", "Length_of_stay")))
    raw = Recipe(steps=base + (Scale(),))
    prepared = prepare(raw, icu)
    assert np.isnan(build_preprocessor(raw, prepared).fit(prepared.X, prepared.y).transform(prepared.X)).any()
    imputed = Recipe(steps=base + (Impute(numeric="iterative"), Scale()))
    matrix = build_preprocessor(imputed, prepared).fit(prepared.X, prepared.y).transform(prepared.X)
    assert np.isfinite(matrix).all()


def test_fitted_preprocessor_saves_with_skops_and_trusted_types_only(icu):
    recipe = Recipe(steps=(
        DefineOutcome(column="In-hospital_death"), DropColumns(columns=("RecordID", "Survival", "Length_of_stay")),
        RecodeCategories(column="ICUType", mapping=((1, "coronary"), (2, "cardiac"), (3, "medical"), (4, "surgical"))),
        Impute(numeric="iterative"), ClipOutliers(), LogTransform(columns=("SOFA",)),
        GroupRareCategories(min_fraction=0.2), Encode(method="target"), Scale(),
    ))
    prepared = prepare(recipe, icu)
    pipe = build_preprocessor(recipe, prepared).fit(prepared.X, prepared.y)
    blob = sio.dumps(pipe)
    untrusted = sio.get_untrusted_types(data=blob)
    assert set(untrusted) <= set(TRUSTED_TYPES)
    loaded = sio.loads(blob, trusted=list(TRUSTED_TYPES))
    np.testing.assert_array_equal(loaded.transform(prepared.X), pipe.transform(prepared.X))
    with pytest.raises(UntrustedTypesFoundException):
        sio.loads(blob, trusted=[])


def _keys_in_code() -> set[str]:
    keys: set[str] = set()
    for path in [*(REPO / "pipelines" / "recipe").glob("*.py"), REPO / "pipelines" / "splits.py"]:
        keys |= set(re.findall(r'"(recipe\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return keys


def test_every_message_key_is_in_both_catalogues():
    en = json.loads((REPO / "workbench/locales/en/recipe.json").read_text(encoding="utf-8"))
    ko = json.loads((REPO / "workbench/locales/ko/recipe.json").read_text(encoding="utf-8"))
    used = _keys_in_code()
    assert len(used) > 50
    assert used <= set(en), sorted(used - set(en))
    assert set(en) == set(ko)
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
    for key in en:
        assert fields(en[key]) == fields(ko[key]), key
        assert re.search(r"[가-힣]", ko[key]), key


def test_grid_edits_are_recorded_steps(icu):
    from pipelines.recipe import EditCell, MergeCategories, RenameColumn

    row = icu.index[icu["RecordID"] == 132540][0]
    old = float(icu.loc[row, "Weight"])
    recipe = Recipe(steps=(
        DefineOutcome(column="In-hospital_death"),
        EditCell(column="Weight", key_column="RecordID", row_key=132540, old_value=old, new_value=81.5),
        RenameColumn(column="SAPS-I", new_name="SAPS I score"),
        MergeCategories(column="ICUType", labels=(2, 4), into="surgical"),
    ))
    prepared = prepare(recipe, icu)
    assert prepared.frame.loc[row, "Weight"] == 81.5 and icu.loc[row, "Weight"] == old  # upload untouched
    assert "SAPS I score" in prepared.features and "SAPS-I" not in prepared.frame
    assert (prepared.frame["ICUType"] == "surgical").sum() == int(icu["ICUType"].isin([2, 4]).sum())
    step = recipe.steps[1]
    assert Recipe.from_json(recipe.to_json()).steps[1] == step  # row key, column, old and new value are kept
    # the same edit on changed data refuses instead of overwriting a value nobody saw
    changed = icu.copy()
    changed.loc[row, "Weight"] = old + 1
    with pytest.raises(RecipeError) as info:
        prepare(recipe, changed)
    assert info.value.key == "recipe.cell_stale" and info.value.params["step"] == 2


def test_rows_without_an_outcome_are_excluded_with_a_reason(icu):
    recipe = Recipe(steps=(DefineOutcome(column="Survival", task="regression"),
                           DropColumns(columns=("RecordID", "Length_of_stay", "In-hospital_death"))))
    prepared = prepare(recipe, icu)
    first = prepared.cohort_flow[0]
    assert first.excluded == 5009 and first.reason_key == "recipe.flow_outcome_missing"
    assert prepared.task == "regression" and prepared.positive_label is None
    assert prepared.rows_in == 8000 and len(prepared.frame) == 2991
