from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipelines.errors import EvaluationError
from pipelines.evaluation import age_bands, binary_metrics, subgroup_performance, table_one


def test_subgroup_rows_equal_metrics_on_the_subset(hf, heart_failure):
    sex = np.where(heart_failure["sex"] == 1, "Male", "Female")
    groups = pd.DataFrame({"Sex": sex, "Age": age_bands(heart_failure["age"])})
    result = subgroup_performance(hf.y, hf.p_lr, groups, threshold=0.35, n_resamples=100, seed=3)
    sex_rows = [r for r in result.rows if r.variable == "Sex"]
    assert [r.level for r in sex_rows] == ["Female", "Male"]
    assert sum(r.n for r in sex_rows) == 299
    female = sex == "Female"
    ref = binary_metrics(hf.y[female], hf.p_lr[female], threshold=0.35, n_resamples=100, seed=3)
    row = sex_rows[0]
    assert row.n == int(female.sum()) and row.n_positive == int(hf.y[female].sum())
    assert row.metrics["auroc"] == ref.auroc  # same seeded resamples, same interval
    assert row.metrics["sensitivity"] == ref.sensitivity
    age_levels = [r.level for r in result.rows if r.variable == "Age"]
    assert age_levels == ["<50", "50\u201364", "65\u201379", "\u226580"]  # band order, not alphabetical
    assert result.overall.metrics["auroc"].value == pytest.approx(ref.auroc.value, abs=0.2)


def test_small_and_one_class_subgroups_are_reported_without_metrics(hf):
    site = np.array(["A"] * 290 + ["B"] * 9)
    y = hf.y.copy()
    result = subgroup_performance(y, hf.p_lr, {"Site": site}, threshold=0.35, n_resamples=20)
    small = [r for r in result.rows if r.level == "B"][0]
    assert small.note == "too_small" and small.metrics == {} and small.n == 9
    only_negatives = np.where(y == 1, "pos", np.where(np.arange(299) % 2 == 0, "even", "odd"))
    result = subgroup_performance(y, hf.p_lr, {"Split": only_negatives}, threshold=0.35, n_resamples=20)
    assert {r.level: r.note for r in result.rows} == {"even": "one_class", "odd": "one_class", "pos": "one_class"}
    with pytest.raises(EvaluationError) as err:
        subgroup_performance(y, hf.p_lr, {"Site": site[:10]}, threshold=0.35)
    assert err.value.key == "evaluation.subgroups_length"


def test_table_one_summaries_and_tests(heart_failure):
    result = table_one(heart_failure, outcome="DEATH_EVENT")
    assert result.groups == ("0", "1") and result.group_sizes == (203, 96) and result.n == 299
    rows = {(r.variable, r.level): r for r in result.rows}
    age = rows[("age", "")]
    assert age.kind == "normal" and age.test == "welch_t"
    dead = heart_failure.loc[heart_failure.DEATH_EVENT == 1, "age"]
    alive = heart_failure.loc[heart_failure.DEATH_EVENT == 0, "age"]
    assert age.by_group[1] == f"{dead.mean():.1f} ({dead.std():.1f})"
    assert age.p_value == pytest.approx(stats.ttest_ind(alive, dead, equal_var=False).pvalue)
    creat = rows[("serum_creatinine", "")]
    assert creat.kind == "skewed" and creat.test == "mann_whitney"
    assert creat.overall == "1.1 [0.9, 1.4]"
    anaemia = rows[("anaemia", "1")]  # a yes/no column shows its "yes" line only
    assert anaemia.kind == "categorical" and anaemia.overall == "129 (43.1)"
    assert anaemia.counts == (129, 83, 46)
    assert ("anaemia", "0") not in rows


def test_table_one_missingness_multilevel_and_fisher(datasets_dir):
    icu = pd.read_csv(datasets_dir / "physionet2012_static_outcomes.csv")
    result = table_one(icu, outcome="In-hospital_death", columns=["Age", "Gender", "ICUType", "SAPS-I"])
    rows = {(r.variable, r.level): r for r in result.rows}
    saps = rows[("SAPS-I", "")]
    assert saps.missing == int(icu.loc[icu["In-hospital_death"].notna(), "SAPS-I"].isna().sum()) > 0
    icu_type = [r for r in result.rows if r.variable == "ICUType"]
    assert icu_type[0].level == "" and icu_type[0].test == "chi_square"  # header line carries the test
    assert [r.level for r in icu_type[1:]] == ["1", "2", "3", "4"]
    tiny = pd.DataFrame({"y": [0] * 20 + [1] * 6, "flag": [0] * 18 + [1] * 2 + [0] * 2 + [1] * 4})
    flag = table_one(tiny, outcome="y").rows[0]
    expected = stats.fisher_exact([[18, 2], [2, 4]])
    assert flag.test == "fisher" and flag.p_value == pytest.approx(expected.pvalue)
    with pytest.raises(EvaluationError) as err:
        table_one(tiny, outcome="outcome")
    assert err.value.key == "evaluation.unknown_column"
