from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from pipelines.errors import EvaluationError
from pipelines.evaluation import binary_metrics, choose_threshold, resample_indices
from pipelines.evaluation import _scores as s


@pytest.mark.parametrize("data", ["hf", "bc"])
@pytest.mark.parametrize("model", ["p_lr", "p_hgb"])
def test_kernels_equal_scikit_learn(request, data, model):
    d = request.getfixturevalue(data)
    p = getattr(d, model)
    assert s.auroc(d.y, p) == pytest.approx(skm.roc_auc_score(d.y, p), abs=1e-12)
    assert s.average_precision(d.y, p) == pytest.approx(skm.average_precision_score(d.y, p), abs=1e-12)
    assert s.brier(d.y, p) == pytest.approx(skm.brier_score_loss(d.y, p), abs=1e-12)
    assert s.log_loss(d.y, p) == pytest.approx(skm.log_loss(d.y, p), abs=1e-9)


def test_auroc_and_ap_with_ties_equal_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500) * 0.5 + 0.3 * y, 1)  # heavy ties
    assert s.auroc(y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert s.average_precision(y, p) == pytest.approx(skm.average_precision_score(y, p), abs=1e-12)


def test_threshold_metrics_equal_scikit_learn(hf):
    result = binary_metrics(hf.y, hf.p_lr, n_resamples=50, seed=1)
    t = result.threshold.value
    pred = (hf.p_lr >= t).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(hf.y, pred).ravel()
    assert (result.confusion.tn, result.confusion.fp, result.confusion.fn, result.confusion.tp) == (tn, fp, fn, tp)
    assert result.sensitivity.value == pytest.approx(skm.recall_score(hf.y, pred))
    assert result.specificity.value == pytest.approx(skm.recall_score(1 - hf.y, 1 - pred))
    assert result.ppv.value == pytest.approx(skm.precision_score(hf.y, pred))
    assert result.npv.value == pytest.approx(skm.precision_score(1 - hf.y, 1 - pred))
    assert result.f1.value == pytest.approx(skm.f1_score(hf.y, pred))
    assert result.accuracy.value == pytest.approx(skm.accuracy_score(hf.y, pred))
    assert result.auroc.value == pytest.approx(skm.roc_auc_score(hf.y, hf.p_lr))
    assert result.n == 299 and result.n_positive == 96


def test_intervals_bracket_estimates_and_are_seeded(hf):
    a = binary_metrics(hf.y, hf.p_hgb, n_resamples=200, seed=7)
    b = binary_metrics(hf.y, hf.p_hgb, n_resamples=200, seed=7)
    c = binary_metrics(hf.y, hf.p_hgb, n_resamples=200, seed=8)
    assert a == b
    assert a.auroc.lower != c.auroc.lower
    for name, est in a.estimates().items():
        assert est.lower <= est.value <= est.upper, name
        assert est.upper - est.lower > 0, name
    # 299 patients: an AUROC interval is several points wide, not a sliver
    assert 0.08 < a.auroc.upper - a.auroc.lower < 0.25


def test_youden_threshold_maximises_j(hf):
    choice = choose_threshold(hf.y, hf.p_lr)
    fpr, tpr, thr = skm.roc_curve(hf.y, hf.p_lr, drop_intermediate=False)
    best = np.max(tpr - fpr)
    pred = hf.p_lr >= choice.value
    j = pred[hf.y == 1].mean() - pred[hf.y == 0].mean()
    assert j == pytest.approx(best)


def test_fixed_sensitivity_and_specificity_thresholds(hf):
    sens = choose_threshold(hf.y, hf.p_lr, rule="sensitivity", target=0.8)
    got = (hf.p_lr[hf.y == 1] >= sens.value).mean()
    assert got >= 0.8
    higher = np.unique(hf.p_lr)[np.unique(hf.p_lr) > sens.value]
    assert (hf.p_lr[hf.y == 1] >= higher.min()).mean() < 0.8  # it is the highest such cut-off
    spec = choose_threshold(hf.y, hf.p_lr, rule="specificity", target=0.9)
    assert (hf.p_lr[hf.y == 0] < spec.value).mean() >= 0.9
    lower = np.unique(hf.p_lr)[np.unique(hf.p_lr) < spec.value]
    assert (hf.p_lr[hf.y == 0] < lower.max()).mean() < 0.9
    typed = binary_metrics(hf.y, hf.p_lr, threshold=0.5, n_resamples=0)
    assert typed.threshold.rule == "fixed" and typed.threshold.value == 0.5
    assert np.isnan(typed.auroc.lower)  # no resamples: no interval, never a fake one


def test_calibration_slope_and_intercept():
    rng = np.random.default_rng(0)
    lp = rng.normal(-0.5, 1.2, 20000)
    y_true_model = rng.random(20000) < expit(2.0 * lp)  # predictions too modest: slope 2
    slope, _ = s.logistic_recalibration(y_true_model.astype(int), expit(lp))
    assert slope == pytest.approx(2.0, abs=0.08)
    calibrated = (rng.random(20000) < expit(lp)).astype(int)
    slope, intercept = s.logistic_recalibration(calibrated, expit(lp))
    assert slope == pytest.approx(1.0, abs=0.05) and intercept == pytest.approx(0.0, abs=0.05)
    # same slope as an unpenalised logistic regression on logit(p)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(lp[:, None], calibrated)
    assert slope == pytest.approx(ref.coef_[0, 0], abs=1e-5)
    shifted = (rng.random(20000) < expit(lp + 0.7)).astype(int)
    assert s.logistic_recalibration(shifted, expit(lp))[1] == pytest.approx(0.7, abs=0.06)


def test_stratified_resamples_keep_class_counts(hf):
    for idx in resample_indices(hf.y, n=len(hf.y), n_resamples=20, seed=0):
        assert len(idx) == 299 and hf.y[idx].sum() == 96


def test_patient_level_bootstrap_keeps_patients_whole_and_widens_intervals(hf):
    # every patient recorded three times: a row bootstrap believes it has 897 independent rows
    y = np.repeat(hf.y, 3)
    p = np.repeat(hf.p_lr, 3) + np.tile([0.0, 1e-4, -1e-4], 299)
    p = np.clip(p, 0, 1)
    patients = np.repeat(np.arange(299), 3)
    for idx in resample_indices(y, n=len(y), groups=patients, n_resamples=10, seed=0):
        counts = np.bincount(patients[idx], minlength=299)
        assert np.all(counts % 3 == 0)
    rows = binary_metrics(y, p, n_resamples=300, seed=0)
    grouped = binary_metrics(y, p, groups=patients, n_resamples=300, seed=0)
    assert grouped.patient_level and not rows.patient_level
    width_rows = rows.auroc.upper - rows.auroc.lower
    width_grouped = grouped.auroc.upper - grouped.auroc.lower
    assert width_grouped > 1.4 * width_rows  # about sqrt(3) wider, as it must be


@pytest.mark.parametrize(
    ("y", "p", "key"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "evaluation.labels_not_binary"),
        ([0, 1, 1], [0.1, 1.2, 0.3], "evaluation.not_probabilities"),
        ([1, 1, 1], [0.1, 0.2, 0.3], "evaluation.one_class"),
        ([0, 1], [0.1, 0.2, 0.3], "evaluation.shape_mismatch"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "evaluation.non_finite_predictions"),
    ],
)
def test_bad_input_raises_keyed_errors(y, p, key):
    with pytest.raises(EvaluationError) as err:
        binary_metrics(y, p, n_resamples=0)
    assert err.value.key == key


def test_bad_threshold_rule_and_target(hf):
    with pytest.raises(EvaluationError) as err:
        choose_threshold(hf.y, hf.p_lr, rule="sensitivity")
    assert err.value.key == "evaluation.bad_threshold_target"
    with pytest.raises(EvaluationError) as err:
        choose_threshold(hf.y, hf.p_lr, rule="magic")  # type: ignore[arg-type]
    assert err.value.key == "evaluation.unknown_threshold_rule"


def test_logit_roundtrip_guard():
    assert np.all(np.isfinite(s.logit_safe(np.array([0.0, 1.0, 0.5])))) and logit(0.5) == 0
