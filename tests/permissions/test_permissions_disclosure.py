from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from permissions.disclosure import collaborator_table, drop_identifier_columns, suppress_small_counts, suppressed_label


@pytest.fixture(scope="module")
def heart(datasets_dir: Path) -> pd.DataFrame:
    return pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")


@pytest.mark.parametrize("value", [0, 1, 4, np.int64(3), 2.0, np.float32(4.0), "3 (1.0%)", " 4/299", "2"])
def test_small_counts_become_less_than_five(value) -> None:
    assert suppress_small_counts(value) == "<5"


@pytest.mark.parametrize("value", [5, 12, np.int64(299), 4.5, "12 (4.0%)", "0.84 (0.80-0.88)", "n/a", True, False, None, Decimal("1.5")])
def test_other_values_are_left_alone(value) -> None:
    assert suppress_small_counts(value) is value


def test_threshold_is_a_parameter() -> None:
    assert suppress_small_counts(9, threshold=10) == "<10" == suppressed_label(10)
    assert suppress_small_counts(10, threshold=10) == 10
    with pytest.raises(ValueError):
        suppress_small_counts(3, threshold=0)


def test_crosstab_of_the_real_cohort(heart: pd.DataFrame) -> None:
    counts = pd.crosstab((heart["age"] // 10 * 10).astype(int), heart["DEATH_EVENT"])
    assert (counts.to_numpy() < 5).any() and (counts.to_numpy() >= 5).any()  # the data has both kinds
    shown = suppress_small_counts(counts)
    assert shown.index.equals(counts.index) and list(shown.columns) == list(counts.columns)
    for (age, outcome), n in counts.stack().items():
        cell = shown.loc[age, outcome]
        assert cell == ("<5" if n < 5 else str(n)), (age, outcome, n, cell)
    assert shown.loc[90, 0] == "<5" and shown.loc[80, 1] == "13"
    assert counts.loc[90, 0] == 1, "the input frame is not modified"


def test_formatted_table_one_cells_from_the_real_cohort(heart: pd.DataFrame) -> None:
    groups = (heart["age"] // 5 * 5).astype(int)  # five-year bands: the oldest hold 4 and 2 patients
    n = groups.value_counts().sort_index()
    table = pd.DataFrame(
        {
            "age_group": [f"{g}s" for g in n.index],
            "patients": [f"{k} ({100 * k / len(heart):.1f}%)" for k in n],
            "mean_ejection_fraction": heart.groupby(groups)["ejection_fraction"].mean().round(1).to_numpy(),
        }
    )
    shown = suppress_small_counts(table)
    expected = ["<5" if k < 5 else f"{k} ({100 * k / len(heart):.1f}%)" for k in n]
    assert shown["patients"].tolist() == expected
    assert "<5" in expected
    assert shown["age_group"].tolist() == table["age_group"].tolist()
    assert shown["mean_ejection_fraction"].tolist() == table["mean_ejection_fraction"].tolist()


def test_explicit_columns_and_missing_values(heart: pd.DataFrame) -> None:
    frame = pd.DataFrame({"site": ["A", "B", "C"], "n": [3, None, 40], "year": [2019, 2020, 2021]})
    shown = suppress_small_counts(frame, columns=["n"])
    assert shown["n"].tolist()[0] == "<5" and pd.isna(shown["n"].tolist()[1]) and shown["n"].tolist()[2] == "40"
    assert shown["year"].tolist() == [2019, 2020, 2021]
    with pytest.raises(KeyError):
        suppress_small_counts(frame, columns=["absent"])
    series = suppress_small_counts(heart["smoking"].value_counts())
    assert series.tolist() == [str(v) for v in heart["smoking"].value_counts()]


def test_identifier_columns_never_reach_a_collaborator(datasets_dir: Path) -> None:
    encounters = pd.read_csv(
        datasets_dir / "diabetes_130_us_hospitals.csv.gz", nrows=2000, keep_default_na=False, na_values=[""]
    )
    identifiers = {"encounter_id", "patient_nbr", "not_a_column"}
    kept = drop_identifier_columns(encounters, identifiers)
    assert not {"encounter_id", "patient_nbr"} & set(kept.columns)
    assert len(kept.columns) == len(encounters.columns) - 2 and len(kept) == 2000
    assert "encounter_id" in encounters.columns, "the input frame is not modified"

    per_race = encounters.groupby("race", dropna=False).agg(
        encounters=("encounter_id", "size"), patient_nbr=("patient_nbr", "first")
    ).reset_index()
    shown = collaborator_table(per_race, identifier_columns={"patient_nbr"}, count_columns=["encounters"])
    assert "patient_nbr" not in shown.columns
    raw = per_race.set_index(per_race["race"].astype(str))["encounters"]
    for race, cell in zip(shown["race"].astype(str), shown["encounters"]):
        assert cell == ("<5" if raw[race] < 5 else str(raw[race]))
