from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn import metrics as skm

from pipelines.errors import EvaluationError
from pipelines.evaluation import (
    binary_metrics,
    calibration_curve,
    decision_curve,
    pr_curve,
    roc_curve,
    threshold_curve,
)


def test_roc_curve_points_equal_scikit_learn_and_band_surrounds_curve(hf):
    curve = roc_curve(hf.y, hf.p_hgb, label="HGB", n_resamples=200, seed=0)
    fpr, tpr, _ = skm.roc_curve(hf.y, hf.p_hgb, drop_intermediate=False)
    np.testing.assert_allclose(curve.fpr, fpr)
    np.testing.assert_allclose(curve.tpr, tpr)
    on_grid = np.interp(curve.grid, curve.fpr, curve.tpr)
    inside = (curve.tpr_lower - 1e-9 <= on_grid) & (on_grid <= curve.tpr_upper + 1e-9)
    assert inside.mean() > 0.95
    assert curve.auroc.value == pytest.approx(skm.roc_auc_score(hf.y, hf.p_hgb))


def test_pr_curve_matches_scikit_learn(bc):
    curve = pr_curve(bc.y, bc.p_lr, n_resamples=100)
    precision, recall, _ = skm.precision_recall_curve(bc.y, bc.p_lr)
    # scikit-learn lists from high to low threshold reversed; compare as sets of (recall, precision)
    ours = set(zip(np.round(curve.recall[1:], 12), np.round(curve.precision[1:], 12)))
    theirs = set(zip(np.round(recall[:-1], 12), np.round(precision[:-1], 12)))
    assert ours == theirs
    assert curve.prevalence == pytest.approx(bc.y.mean())
    assert curve.auprc.value == pytest.approx(skm.average_precision_score(bc.y, bc.p_lr))


def test_calibration_bins_use_exact_intervals(hf):
    curve = calibration_curve(hf.y, hf.p_lr, n_bins=10, n_resamples=100)
    assert curve.counts.sum() == 299 and len(curve.counts) == 10
    assert np.all(np.abs(curve.counts - 30) <= 1)  # quantile bins: equal numbers of patients
    for k, n, lo, hi, obs in zip(np.round(curve.observed * curve.counts), curve.counts, curve.observed_lower,
                                 curve.observed_upper, curve.observed):
        ci = binomtest(int(k), int(n)).proportion_ci(method="exact")
        assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)
        assert lo <= obs <= hi
    metrics = binary_metrics(hf.y, hf.p_lr, n_resamples=100)
    assert curve.slope.value == pytest.approx(metrics.calibration_slope.value)
    assert curve.histogram_events.sum() == 96 and curve.histogram_non_events.sum() == 203
    uniform = calibration_curve(hf.y, hf.p_lr, strategy="uniform", n_bins=5, n_resamples=0)
    assert np.all(np.diff(uniform.predicted) > 0)
    with pytest.raises(EvaluationError) as err:
        calibration_curve(hf.y, hf.p_lr, strategy="kmeans", n_resamples=0)  # type: ignore[arg-type]
    assert err.value.key == "evaluation.bad_bin_strategy"


def test_decision_curve_known_answers(hf):
    curve = decision_curve(hf.y, hf.p_lr)
    prevalence = 96 / 299
    t = curve.thresholds
    pred = hf.p_lr[None, :] >= t[:, None]
    tp = (pred & (hf.y == 1)).sum(axis=1)
    fp = (pred & (hf.y == 0)).sum(axis=1)
    np.testing.assert_allclose(curve.net_benefit, tp / 299 - fp / 299 * t / (1 - t))
    # treat-all crosses zero at the prevalence; a perfect model earns the prevalence everywhere
    assert np.interp(prevalence, t, curve.treat_all) == pytest.approx(0, abs=0.01)
    perfect = decision_curve(hf.y, hf.y.astype(float))
    np.testing.assert_allclose(perfect.net_benefit, prevalence)
    assert np.all(curve.treat_none == 0)
    with pytest.raises(EvaluationError) as err:
        decision_curve(hf.y, hf.p_lr, thresholds=[0.0, 0.5])
    assert err.value.key == "evaluation.bad_dca_thresholds"


def test_threshold_curve_agrees_with_binary_metrics(hf):
    curve = threshold_curve(hf.y, hf.p_lr, thresholds=[0.2, 0.35, 0.5])
    for i, t in enumerate(curve.thresholds):
        m = binary_metrics(hf.y, hf.p_lr, threshold=float(t), n_resamples=0)
        assert curve.sensitivity[i] == pytest.approx(m.sensitivity.value)
        assert curve.specificity[i] == pytest.approx(m.specificity.value)
        assert curve.ppv[i] == pytest.approx(m.ppv.value)
        assert curve.npv[i] == pytest.approx(m.npv.value)
    assert np.all(np.diff(curve.fraction_positive) <= 0)
