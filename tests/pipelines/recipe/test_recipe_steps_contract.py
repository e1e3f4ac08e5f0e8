"""Contract over EVERY step kind: JSON round trip, validation error keys, deterministic output, a
switched-off step does nothing, and for model-level steps no leakage across folds."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from pipelines.errors import RecipeError
from pipelines.recipe import (
    STEP_KINDS,
    AggregateTimeSeries,
    ClipOutliers,
    ConvertUnits,
    DefineOutcome,
    DeriveColumn,
    DropColumns,
    EditCell,
    Encode,
    FilterRows,
    GroupRareCategories,
    Impute,
    LogTransform,
    MergeCategories,
    OrderCategories,
    PlausibleRange,
    Recipe,
    RecodeCategories,
    RenameColumn,
    Scale,
    build_preprocessor,
    prepare,
    schema_of,
)
from pipelines.recipe._base import step_from_dict, step_to_dict


@pytest.fixture(scope="module")
def data(datasets_dir) -> dict[str, pd.DataFrame]:
    return {
        "hf": pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv"),
        "cleveland": pd.read_csv(datasets_dir / "heart_cleveland.csv"),
        "pima": pd.read_csv(datasets_dir / "pima_diabetes.csv"),
        "icu": pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv"),
        "icu_ts": pd.read_csv(datasets_dir / "physionet2012_seta_timeseries_long_first1000.csv.gz"),
    }


# kind -> (dataset, a good step, a bad step, the error key the bad step must raise)
DATA_EXAMPLES: dict[str, tuple[str, Any, Any, str]] = {
    "outcome": ("cleveland", DefineOutcome(column="num", expression="num > 0", name="disease"),
                DefineOutcome(column="nums"), "recipe.unknown_column"),
    "filter_rows": ("hf", FilterRows(expression="age >= 60", reason="aged 60 or over"),
                    FilterRows(expression="age + 1"), "recipe.expr_not_condition"),
    "drop_columns": ("hf", DropColumns(columns=("time",)), DropColumns(columns=("tim",)), "recipe.unknown_column"),
    "derive_column": ("icu", DeriveColumn(name="BMI", expression="Weight / (Height / 100) ^ 2"),
                      DeriveColumn(name="Age", expression="Age * 2"), "recipe.column_exists"),
    "recode": ("hf", RecodeCategories(column="sex", mapping=((0, "female"), (1, "male"))),
               RecodeCategories(column="gender", mapping=((0, "female"),)), "recipe.unknown_column"),
    "merge_categories": ("icu", MergeCategories(column="ICUType", labels=(2, 3), into="surgical"),
                         MergeCategories(column="ICU", labels=(2,), into="x"), "recipe.unknown_column"),
    "order_categories": ("icu", OrderCategories(column="set", order=("b", "a")),
                         OrderCategories(column="Age", order=("1", "2")), "recipe.wrong_column_type"),
    "convert_units": ("icu", ConvertUnits(column="Weight", factor=2.20462, unit="lb"),
                      ConvertUnits(column="set", factor=2.0), "recipe.wrong_column_type"),
    "plausible_range": ("pima", PlausibleRange(column="Glucose", missing_codes=(0.0,)),
                        PlausibleRange(column="BMI", low=50.0, high=10.0), "recipe.range_inverted"),
    "edit_cell": ("hf", EditCell(column="age", row_key=0, old_value=75, new_value=76),
                  EditCell(column="age", row_key=0, old_value=74, new_value=76), "recipe.cell_stale"),
    "rename_column": ("hf", RenameColumn(column="time", new_name="follow_up_days"),
                      RenameColumn(column="time", new_name="age"), "recipe.column_exists"),
    "aggregate_timeseries": (
        "icu",
        AggregateTimeSeries(table="icu_ts", id_column="RecordID", time_column="Minutes",
                            variable_column="Parameter", value_column="Value", window_end=2880.0,
                            variables=("HR", "GCS", "Lactate")),
        AggregateTimeSeries(table="missing_table", id_column="RecordID", time_column="Minutes",
                            variable_column="Parameter", value_column="Value"),
        "recipe.missing_table"),
}

# kind -> (a good step, a bad step, error key, whether the step learns values from the rows)
MODEL_EXAMPLES: dict[str, tuple[Any, Any, str, bool]] = {
    "impute": (Impute(numeric="median", add_indicator=True), Impute(numeric="knn"), "recipe.bad_choice", True),
    "clip_outliers": (ClipOutliers(lower=0.05, upper=0.95), ClipOutliers(lower=0.9, upper=0.1),
                      "recipe.quantiles_bad", True),
    "scale": (Scale(method="robust"), Scale(columns=("ICUType",)), "recipe.wrong_column_type", True),
    "log_transform": (LogTransform(columns=("Weight", "SOFA")), LogTransform(), "recipe.param_required", False),
    "encode": (Encode(method="target"), Encode(columns=("Age",)), "recipe.wrong_column_type", True),
    "group_rare": (GroupRareCategories(min_fraction=0.2), GroupRareCategories(min_fraction=0.7),
                   "recipe.bad_param", True),
}


def test_every_kind_has_an_example():
    assert set(DATA_EXAMPLES) | set(MODEL_EXAMPLES) == set(STEP_KINDS)
    assert not set(DATA_EXAMPLES) & set(MODEL_EXAMPLES)
    for kind, cls in STEP_KINDS.items():
        assert cls.kind == kind
        assert cls.level == ("model" if kind in MODEL_EXAMPLES else "data")


def _all_examples():
    for kind, (_, good, bad, key) in DATA_EXAMPLES.items():
        yield kind, good, bad, key
    for kind, (good, bad, key, _) in MODEL_EXAMPLES.items():
        yield kind, good, bad, key


@pytest.mark.parametrize(("kind", "good", "bad", "key"), list(_all_examples()), ids=lambda v: str(v)[:30])
def test_json_round_trip(kind, good, bad, key):
    for step in (good, dataclasses.replace(good, enabled=False)):
        as_dict = step_to_dict(step)
        assert as_dict["kind"] == kind
        text = json.dumps(as_dict)
        back = step_from_dict(STEP_KINDS[kind], json.loads(text))
        assert back == step
        recipe = Recipe(steps=(step,))
        again = Recipe.from_json(recipe.to_json())
        assert again == recipe
        assert again.content_hash() == recipe.content_hash()
    assert Recipe(steps=(good,)).content_hash() != Recipe(steps=(dataclasses.replace(good, enabled=False),)).content_hash()


@pytest.mark.parametrize("kind", sorted(STEP_KINDS))
def test_unknown_and_mistyped_parameters_are_named(kind):
    with pytest.raises(RecipeError) as info:
        step_from_dict(STEP_KINDS[kind], {"kind": kind, "no_such_setting": 1})
    assert info.value.key == "recipe.unknown_param"
    assert info.value.params["param"] == "no_such_setting"
    with pytest.raises(RecipeError) as info:
        step_from_dict(STEP_KINDS[kind], {"kind": kind, "enabled": "yes"})
    assert info.value.key in {"recipe.bad_param", "recipe.param_required"}


def _tables(data):
    return {"icu_ts": data["icu_ts"]}


@pytest.mark.parametrize("kind", sorted(DATA_EXAMPLES))
def test_data_step_validation_error_key(kind, data):
    dataset, _, bad, key = DATA_EXAMPLES[kind]
    frame = data[dataset]
    with pytest.raises(RecipeError) as info:
        bad.validate(schema_of(frame))
        bad.apply(frame, tables=_tables(data))
    assert info.value.key == key
    assert info.value.params["kind"] == kind


@pytest.mark.parametrize("kind", sorted(DATA_EXAMPLES))
def test_data_step_is_deterministic_and_leaves_input_alone(kind, data):
    dataset, good, _, _ = DATA_EXAMPLES[kind]
    frame = data[dataset]
    before = frame.copy()
    good.validate(schema_of(frame))
    first = good.apply(frame, tables=_tables(data))
    second = good.apply(frame, tables=_tables(data))
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(frame, before)
    assert not first.equals(frame)  # the example step really changes something
    # the schema the step promises is the schema it produces
    promised = good.output_schema(schema_of(frame), tables=_tables(data))
    assert promised == schema_of(first)


@pytest.mark.parametrize("kind", sorted(set(DATA_EXAMPLES) - {"outcome"}))
def test_switched_off_data_step_does_nothing(kind, data):
    dataset, good, _, _ = DATA_EXAMPLES[kind]
    frame = data[dataset]
    target = {"hf": "DEATH_EVENT", "cleveland": "num", "pima": "Outcome", "icu": "In-hospital_death"}[dataset]
    off = Recipe(steps=(DefineOutcome(column=target), dataclasses.replace(good, enabled=False)))
    prepared = prepare(off, frame, tables=_tables(data))
    pd.testing.assert_frame_equal(prepared.frame[list(frame.columns)], frame)


# -- model-level steps ------------------------------------------------------------------------

def _icu_base() -> tuple:
    return (
        DefineOutcome(column="In-hospital_death"),
        DropColumns(columns=("RecordID", "Survival", "Length_of_stay")),
        RecodeCategories(column="ICUType", mapping=((1, "coronary"), (2, "cardiac surgery"),
                                                    (3, "medical"), (4, "surgical"))),
    )


def _model_recipe(step) -> Recipe:
    extra = () if isinstance(step, Encode) else (Encode(method="onehot"),)
    return Recipe(steps=_icu_base() + (step,) + extra)


@pytest.fixture(scope="module")
def icu_prepared(data):
    return prepare(Recipe(steps=_icu_base()), data["icu"])


@pytest.mark.parametrize("kind", sorted(MODEL_EXAMPLES))
def test_model_step_validation_error_key(kind, data):
    _, bad, key, _ = MODEL_EXAMPLES[kind]
    with pytest.raises(RecipeError) as info:
        prepare(_model_recipe(bad), data["icu"])
    assert info.value.key == key
    assert info.value.params["kind"] == kind
    assert info.value.params["step"] == 4


@pytest.mark.parametrize("kind", sorted(MODEL_EXAMPLES))
def test_model_step_is_deterministic(kind, data):
    good = MODEL_EXAMPLES[kind][0]
    recipe = _model_recipe(good)
    prepared = prepare(recipe, data["icu"])
    X, y = prepared.X, prepared.y
    a = build_preprocessor(recipe, prepared).fit(X, y).transform(X)
    b = build_preprocessor(recipe, prepared).fit(X, y).transform(X)
    assert a.dtype == np.float64 and a.shape[0] == len(X)
    np.testing.assert_array_equal(a, b)


def _perturb(frame: pd.DataFrame, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Wildly different values in the given rows: numbers x1000 + 7, labels renamed."""
    out = frame.copy()
    for col in columns:
        values = out[col].copy()
        if pd.api.types.is_numeric_dtype(values.dtype):
            values = values.astype("float64")
            values.iloc[rows] = values.iloc[rows] * 1000.0 + 7.0
        else:
            values = values.astype(object)
            values.iloc[rows] = "never seen in training"
            values = values.astype("str")
        out[col] = values
    return out


@pytest.mark.parametrize("kind", sorted(MODEL_EXAMPLES))
def test_model_step_never_sees_other_folds(kind, data):
    good, _, _, learns = MODEL_EXAMPLES[kind]
    recipe = _model_recipe(good)
    prepared = prepare(recipe, data["icu"])
    features = list(prepared.features)
    fit_rows, other_rows = next(KFold(n_splits=5, shuffle=True, random_state=0).split(prepared.frame))
    X, y = prepared.X, prepared.y
    probe = X.iloc[other_rows]

    baseline = build_preprocessor(recipe, prepared).fit(X.iloc[fit_rows], y.iloc[fit_rows]).transform(probe)

    # 1. the fold's rows alone, as a fresh table, give the same transform
    alone_X = X.iloc[fit_rows].reset_index(drop=True).copy()
    alone_y = y.iloc[fit_rows].reset_index(drop=True).copy()
    alone = build_preprocessor(recipe, prepared).fit(alone_X, alone_y).transform(probe)
    np.testing.assert_array_equal(baseline, alone)

    # 2. changing every other fold's values (even in the frame the pipeline is built from) changes nothing
    changed_frame = _perturb(prepared.frame, other_rows, features)
    changed = dataclasses.replace(prepared, frame=changed_frame)
    pipe = build_preprocessor(recipe, changed)
    pipe.fit(changed.X.iloc[fit_rows], changed.y.iloc[fit_rows])
    np.testing.assert_array_equal(pipe.transform(probe), baseline)

    # 3. and the check has teeth: changing the fitting rows does change what a learning step produces
    if learns:
        moved = _perturb(prepared.frame, fit_rows[: len(fit_rows) // 2], features)
        moved_y = y.copy()
        moved_y.iloc[fit_rows[: len(fit_rows) // 3]] = 1 - moved_y.iloc[fit_rows[: len(fit_rows) // 3]]
        other = build_preprocessor(recipe, prepared).fit(moved[features].iloc[fit_rows], moved_y.iloc[fit_rows])
        shifted = other.transform(probe)
        assert shifted.shape != baseline.shape or not np.array_equal(shifted, baseline, equal_nan=True)
