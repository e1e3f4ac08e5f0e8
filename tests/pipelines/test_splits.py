"""Split plans: grouped by patient, stratified, temporal; reproducible by seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import RecipeError
from pipelines.recipe import DefineOutcome, DropColumns, Recipe, prepare
from pipelines.splits import SplitSpec, make_split_plan


@pytest.fixture(scope="module")
def diabetes(datasets_dir):
    frame = pd.read_csv(datasets_dir / "diabetes_130_us_hospitals.csv.gz", keep_default_na=False,
                        na_values=[""], low_memory=False)
    recipe = Recipe(
        steps=(DefineOutcome(column="readmitted", expression='readmitted == "<30"', name="readmitted_30d"),
               DropColumns(columns=("encounter_id",))),
        split=SplitSpec(kind="grouped_kfold", n_folds=5, test_fraction=0.2, group_column="patient_nbr"),
    )
    return recipe, prepare(recipe, frame)


@pytest.fixture(scope="module")
def heart_failure(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    return prepare(Recipe(steps=(DefineOutcome(column="DEATH_EVENT"),)), frame)


def _check_partition(plan, n: int) -> None:
    assert len(np.intersect1d(plan.train_index, plan.test_index)) == 0
    assert len(plan.train_index) + len(plan.test_index) == n
    seen = np.concatenate([val for _, val in plan.folds])
    assert np.array_equal(np.sort(seen), np.arange(len(plan.train_index)))  # every training row validated once
    for fit, val in plan.folds:
        assert len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == len(plan.train_index)


def test_no_patient_in_two_parts_of_the_diabetes_readmission_split(diabetes):
    recipe, prepared = diabetes
    assert prepared.group_column == "patient_nbr" and "patient_nbr" not in prepared.features
    plan = make_split_plan(recipe.split, prepared, seed=7)
    _check_partition(plan, len(prepared.frame))
    patients = prepared.frame["patient_nbr"].to_numpy()
    assert not set(patients[plan.train_index]) & set(patients[plan.test_index])
    train_patients = patients[plan.train_index]
    for fit, val in plan.folds:
        assert not set(train_patients[fit]) & set(train_patients[val])
    # the grouping matters on this table: a plain stratified split would share thousands of patients
    plain = make_split_plan(SplitSpec(kind="stratified_kfold"), prepared, seed=7)
    shared = set(patients[plain.train_index]) & set(patients[plain.test_index])
    assert len(shared) > 1000
    # about 20 % held out, outcome rate kept (11.2 % overall)
    y = prepared.y.to_numpy()
    assert abs(len(plan.test_index) / len(y) - 0.2) < 0.01
    assert abs(y[plan.test_index].mean() - y.mean()) < 0.005
    for _, val in plan.folds:
        assert abs(y[plan.train_index][val].mean() - y.mean()) < 0.005


def test_stratified_split_is_reproducible_and_balanced(heart_failure):
    spec = SplitSpec()
    a = make_split_plan(spec, heart_failure, seed=1)
    b = make_split_plan(spec, heart_failure, seed=1)
    c = make_split_plan(spec, heart_failure, seed=2)
    _check_partition(a, 299)
    assert np.array_equal(a.test_index, b.test_index)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a.folds, b.folds))
    assert not np.array_equal(a.test_index, c.test_index)
    y = heart_failure.y.to_numpy()
    assert len(a.test_index) == 60 and y[a.test_index].sum() in (19, 20)
    for _, val in a.folds:
        assert abs(y[a.train_index][val].mean() - y.mean()) < 0.03


def test_cross_validation_only(heart_failure):
    plan = make_split_plan(SplitSpec(test_fraction=0.0, n_folds=3), heart_failure, seed=0)
    assert len(plan.test_index) == 0 and len(plan.folds) == 3
    _check_partition(plan, 299)


def test_temporal_split_tests_on_the_latest_rows(heart_failure):
    spec = SplitSpec(kind="temporal", time_column="time", n_folds=4, test_fraction=0.25)
    prepared = dataclasses.replace(heart_failure, time_column="time",
                                   features=tuple(f for f in heart_failure.features if f != "time"))
    plan = make_split_plan(spec, prepared, seed=0)
    times = prepared.frame["time"].to_numpy()
    assert times[plan.train_index].max() <= times[plan.test_index].min()
    assert len(plan.test_index) == 75
    train_times = times[plan.train_index]
    for fit, val in plan.folds:
        assert train_times[fit].max() <= train_times[val].min()  # never trained on the future


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (SplitSpec(kind="grouped_kfold"), "recipe.split_needs_column"),
        (SplitSpec(kind="temporal"), "recipe.split_needs_column"),
        (SplitSpec(n_folds=1), "recipe.split_bad_folds"),
        (SplitSpec(test_fraction=0.9), "recipe.split_bad_test_fraction"),
        (SplitSpec(kind="grouped_kfold", group_column="no_such_column"), "recipe.unknown_column"),
        (SplitSpec(n_folds=20, test_fraction=0.0), "recipe.split_too_few_in_class"),
    ],
)
def test_impossible_splits_say_why(spec, key, datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv")
    prepared = prepare(Recipe(steps=(DefineOutcome(column="num"),)), frame)  # class 4 has 13 patients
    with pytest.raises(RecipeError) as info:
        make_split_plan(spec, prepared, seed=0)
    assert info.value.key == key


def test_split_json_refuses_unknown_settings():
    with pytest.raises(RecipeError) as info:
        SplitSpec.from_dict({"kind": "stratified_kfold", "folds": 3})
    assert info.value.key == "recipe.unknown_param" and info.value.params["param"] == "folds"
    assert SplitSpec.from_dict(SplitSpec(kind="grouped_kfold", group_column="id").to_dict()) == \
        SplitSpec(kind="grouped_kfold", group_column="id")
