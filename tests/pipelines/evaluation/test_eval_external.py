"""External validation, pure parts: column checks on the real heart failure table (renamed, missing,
wrong type, creatinine in umol/L) and recalibration against answers known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from pipelines.errors import EvaluationError
from pipelines.evaluation import roc_curve, pr_curve
from pipelines.evaluation.external import (
    ExpectedColumn,
    coarsen_pr,
    coarsen_roc,
    compare_columns,
    recalibrate,
    recalibration,
)


def _expected(frame: pd.DataFrame) -> list[ExpectedColumn]:
    out = []
    for name in frame.columns:
        values = frame[name]
        kind = "binary" if set(values.unique()) <= {0, 1} else "numeric"
        out.append(ExpectedColumn(name, kind, float(values.min()), float(values.max()), float(values.median())))
    return out


@pytest.fixture(scope="module")
def halves(heart_failure):
    X = heart_failure.drop(columns="DEATH_EVENT")
    development, external = X.iloc[::2].reset_index(drop=True), X.iloc[1::2].reset_index(drop=True)
    return _expected(development), external.assign(DEATH_EVENT=heart_failure["DEATH_EVENT"].iloc[1::2].to_numpy())


def test_the_same_columns_pass(halves):
    expected, external = halves
    report = compare_columns(expected, external, outcome="DEATH_EVENT")
    assert report.usable and report.issues == ()
    assert set(report.matched) == {e.name for e in expected} and report.n_rows == len(external)


def test_renamed_and_missing_columns_are_named(halves):
    expected, external = halves
    changed = external.rename(columns={"serum_creatinine": "Serum Creatinine", "ejection_fraction": "LVEF"})
    changed = changed.drop(columns=["smoking"])
    report = compare_columns(expected, changed, outcome="DEATH_EVENT")
    by_column = {i.column: i for i in report.issues}
    assert by_column["serum_creatinine"].kind == "renamed" and by_column["serum_creatinine"].found == "Serum Creatinine"
    # LVEF is another name of the same clinical quantity (pipelines/data/clinical_ranges.csv)
    assert by_column["ejection_fraction"].kind == "renamed" and by_column["ejection_fraction"].found == "LVEF"
    assert by_column["smoking"].kind == "missing" and by_column["smoking"].found == ""
    assert not report.usable and {i.severity for i in report.issues} == {"error"}
    # once the user maps the renamed ones, only the truly missing column is left
    mapped = compare_columns(expected, changed, outcome="DEATH_EVENT",
                             renames={"serum_creatinine": "Serum Creatinine", "ejection_fraction": "LVEF"})
    assert [(i.column, i.kind) for i in mapped.issues] == [("smoking", "missing")]


def test_a_missing_outcome_makes_the_table_unusable(halves):
    expected, external = halves
    report = compare_columns(expected, external.drop(columns="DEATH_EVENT"), outcome="DEATH_EVENT")
    assert report.issues == () and not report.outcome_found and not report.usable


def test_creatinine_in_micromol_is_a_unit_mismatch_with_its_factor(halves):
    expected, external = halves
    converted = external.assign(serum_creatinine=external["serum_creatinine"] * 88.4)
    (issue,) = compare_columns(expected, converted, outcome="DEATH_EVENT").issues
    assert issue.column == "serum_creatinine" and issue.kind == "unit_mismatch" and issue.severity == "warning"
    assert issue.factor == pytest.approx(88.4) and issue.units == ("µmol/L", "mg/dL")
    assert issue.share > 0.9  # nearly every value is above the development maximum
    # platelets per µL reported per nL: the generic factor of 1000, without named units
    (issue,) = compare_columns(expected, external.assign(platelets=external["platelets"] / 1000)).issues
    assert issue.kind == "unit_mismatch" and issue.factor == pytest.approx(0.001) and issue.units is None


def test_values_outside_the_development_range_without_a_factor(halves):
    expected, external = halves
    shifted = external.assign(age=external["age"] + 60)  # no conversion factor explains this
    (issue,) = compare_columns(expected, shifted).issues
    assert issue.kind == "out_of_range" and issue.share > 0.5
    assert (issue.low, issue.high) == (next(e.train_min for e in expected if e.name == "age"),
                                       next(e.train_max for e in expected if e.name == "age"))


def test_types_that_differ(halves):
    expected, external = halves
    text = external.assign(sex=np.where(external["sex"] == 1, "M", "F"), age=external["age"].astype(str) + " y")
    by_column = {i.column: i for i in compare_columns(expected, text).issues}
    assert by_column["sex"].kind == "type_differs" and by_column["age"].kind == "type_differs"
    coded = external.assign(sex=external["sex"] + 1)  # coded 1/2 instead of 0/1
    (issue,) = compare_columns(expected, coded).issues
    assert issue.kind == "type_differs" and issue.found == "not_binary"
    empty = external.assign(diabetes=np.nan)
    (issue,) = compare_columns(expected, empty).issues
    assert issue.kind == "all_missing" and issue.severity == "warning"


def test_categories_not_seen_in_development():
    expected = [ExpectedColumn("ward", "categorical", categories=("cardiology", "icu"))]
    report = compare_columns(expected, pd.DataFrame({"ward": ["surgery"] * 8 + ["icu"] * 2}))
    (issue,) = report.issues
    assert issue.kind == "unseen_categories" and issue.share == pytest.approx(0.8)
    (issue,) = compare_columns(expected, pd.DataFrame({"ward": [1, 2, 1]})).issues
    assert issue.kind == "type_differs"


# --------------------------------------------------------------------------- recalibration


def test_calibration_in_the_large_of_a_constant_prediction_is_known_in_closed_form():
    y = np.r_[np.ones(30), np.zeros(70)].astype(int)
    result = recalibration(y, np.full(100, 0.2))
    # logit P(y) = a + logit(0.2) is fitted exactly by the observed rate 0.3
    assert result.intercept.value == pytest.approx(logit(0.3) - logit(0.2), abs=1e-9)
    se = 1 / np.sqrt(100 * 0.3 * 0.7)
    assert result.intercept.lower == pytest.approx(result.intercept.value - 1.959964 * se, abs=1e-6)
    assert result.intercept.upper == pytest.approx(result.intercept.value + 1.959964 * se, abs=1e-6)
    assert (result.n, result.n_events) == (100, 30)


def test_the_slope_with_two_risk_levels_is_known_in_closed_form():
    # two groups of patients with predicted risks 0.1 and 0.4 and observed rates 0.2 and 0.5:
    # a saturated logistic model, so the fitted line passes through both observed logits
    p = np.r_[np.full(50, 0.1), np.full(40, 0.4)]
    y = np.r_[np.ones(10), np.zeros(40), np.ones(20), np.zeros(20)].astype(int)
    result = recalibration(y, p)
    dx = logit(0.4) - logit(0.1)
    assert result.slope.value == pytest.approx((logit(0.5) - logit(0.2)) / dx, abs=1e-9)
    assert result.slope_intercept == pytest.approx(logit(0.2) - result.slope.value * logit(0.1), abs=1e-9)
    se = np.sqrt(1 / (50 * 0.2 * 0.8) + 1 / (40 * 0.5 * 0.5)) / dx
    assert (result.slope.upper - result.slope.lower) / 2 == pytest.approx(1.959964 * se, abs=1e-6)


def test_recalibration_matches_an_unpenalised_logistic_regression(hf):
    result = recalibration(hf.y, hf.p_hgb)
    lp = logit(np.clip(hf.p_hgb, 1e-10, 1 - 1e-10))
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(lp[:, None], hf.y)
    assert result.slope.value == pytest.approx(reference.coef_[0, 0], abs=1e-5)
    assert result.slope_intercept == pytest.approx(reference.intercept_[0], abs=1e-5)
    assert result.slope.lower < result.slope.value < result.slope.upper


def test_recalibration_converges_for_risks_far_from_the_observed_rate():
    # every predicted risk between 80% and 98% while a third have the outcome (creatinine in the
    # wrong unit does this): Newton steps from slope 1 overshoot, the fit must still be found
    rng = np.random.default_rng(5)
    lp = rng.uniform(1.4, 3.7, 60)
    y = rng.binomial(1, expit(-3.7 + 1.5 * lp))
    result = recalibration(y, expit(lp))
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(lp[:, None], y)
    assert result.slope.value == pytest.approx(reference.coef_[0, 0], abs=1e-4)
    assert result.slope_intercept == pytest.approx(reference.intercept_[0], abs=1e-4)
    assert result.slope.lower < result.slope.value < result.slope.upper


def test_recalibrated_risks_are_calibrated_in_the_large_and_in_slope(hf):
    original = recalibration(hf.y, hf.p_hgb)
    logistic = recalibration(hf.y, recalibrate(hf.p_hgb, original, method="logistic"))
    assert logistic.slope.value == pytest.approx(1.0, abs=1e-6)
    assert logistic.intercept.value == pytest.approx(0.0, abs=1e-6)
    in_the_large = recalibration(hf.y, recalibrate(hf.p_hgb, original, method="intercept"))
    assert in_the_large.intercept.value == pytest.approx(0.0, abs=1e-6)
    assert in_the_large.slope.value == pytest.approx(original.slope.value, abs=1e-6)  # the intercept alone keeps it


def test_simulated_miscalibration_is_recovered_within_its_interval():
    rng = np.random.default_rng(11)
    p = rng.uniform(0.02, 0.9, 4000)
    y = rng.binomial(1, expit(-0.5 + 0.7 * logit(p)))  # risks too high and too extreme
    result = recalibration(y, p)
    assert result.slope.lower < 0.7 < result.slope.upper and result.slope.upper < 1
    assert result.slope_intercept == pytest.approx(-0.5, abs=0.15)
    assert result.intercept.upper < 0  # too high on average: a negative calibration-in-the-large


def test_recalibration_refuses_one_outcome_class():
    with pytest.raises(EvaluationError) as raised:
        recalibration(np.zeros(10, dtype=int), np.full(10, 0.3))
    assert raised.value.key == "evaluation.one_class"


def test_curves_on_a_grid_keep_no_patient_vertex(hf):
    roc = roc_curve(hf.y, hf.p_lr, n_resamples=0)
    coarse = coarsen_roc(roc)
    assert np.array_equal(coarse.fpr, roc.grid) and len(coarse.tpr) == len(roc.grid) == 101
    assert np.all(np.diff(coarse.tpr) >= 0) and coarse.tpr[-1] == 1.0
    assert coarse.auroc == roc.auroc
    pr = coarsen_pr(pr_curve(hf.y, hf.p_lr, n_resamples=0))
    assert np.array_equal(pr.recall, pr.grid) and np.all(np.diff(pr.precision) <= 1e-12)
