"""The bootstrap asks its statistics once per stack of resamples: the row kernels give
scikit-learn's numbers row by row, the recalibration fits equal one fit per resample, and the
intervals (binary, multiclass, regression, curves) equal those of scikit-learn's metrics computed
resample by resample (rows or patients, stacks split anywhere)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from pipelines.evaluation import (
    _estimate,
    binary_metrics,
    calibration_curve,
    curves,
    multiclass_metrics,
    pr_curve,
    regression_metrics,
    resample_indices,
    roc_curve,
)
from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import bootstrap, bootstrap_rows


def _stack(seed: int, rows: int = 40, n: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 2, (rows, n))
    P = np.clip(rng.random((rows, n)) * 0.6 + 0.3 * Y, 0, 1)
    P[::2] = np.round(P[::2], 1)  # every other row heavily tied
    return Y, P


def test_row_kernels_equal_scikit_learn_row_by_row():
    Y, P = _stack(0)
    Y[3] = 0  # resamples with one class: no AUROC (no AP either without positives)
    Y[5] = 1  # (a row with unrounded predictions: none is 0, where log loss clips differently)
    for kernel, reference in [(s.auroc_rows, skm.roc_auc_score), (s.average_precision_rows, skm.average_precision_score),
                              (s.brier_rows, skm.brier_score_loss), (s.log_loss_rows, skm.log_loss)]:
        got = kernel(Y, P)
        for i, (y, p) in enumerate(zip(Y, P)):
            if (i == 3 and kernel in (s.auroc_rows, s.average_precision_rows)) or (i == 5 and kernel is s.auroc_rows):
                assert np.isnan(got[i])
                continue
            expected = reference(y, p, labels=[0, 1]) if reference is skm.log_loss else reference(y, p)
            assert got[i] == pytest.approx(expected, abs=1e-12), (kernel.__name__, i)


def test_confusion_rows_and_their_ratios_equal_one_row_at_a_time():
    Y, P = _stack(1)
    tn, fp, fn, tp = s.confusion_rows(Y, P, 0.5)
    stacked = s.threshold_metrics(tn, fp, fn, tp)
    for i, (y, p) in enumerate(zip(Y, P)):
        assert skm.confusion_matrix(y, p >= 0.5, labels=[0, 1]).ravel().tolist() == [tn[i], fp[i], fn[i], tp[i]]
        one = s.threshold_metrics(tn[i], fp[i], fn[i], tp[i])
        assert {k: stacked[k][i] for k in one} == pytest.approx(one, nan_ok=True)
    none_flagged = s.threshold_metrics(*s.confusion_rows(Y[:2], np.zeros_like(P[:2]), 0.5))
    assert np.isnan(none_flagged["ppv"]).all() and (none_flagged["specificity"] == 1).all()


def test_recalibration_rows_equal_one_maximum_likelihood_fit_per_row():
    rng = np.random.default_rng(2)
    lp = rng.normal(-0.5, 1.2, (12, 400))
    truth = rng.uniform(0.5, 2.0, (12, 1))  # each row its own slope
    Y = (rng.random(lp.shape) < expit(truth * lp + 0.3)).astype(int)
    slopes, intercepts = s.logistic_recalibration_rows(Y, expit(lp))
    for i in range(len(Y)):
        ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(lp[i][:, None], Y[i])
        assert slopes[i] == pytest.approx(ref.coef_[0, 0], abs=1e-5)
        # calibration-in-the-large: the offset model's score equation sum(y - expit(lp + c)) = 0
        root = brentq(lambda c, i=i: np.sum(Y[i] - expit(lp[i] + c)), -10, 10, xtol=1e-14)
        assert intercepts[i] == pytest.approx(root, abs=1e-9)
    separated = np.array([[0, 0, 0, 1, 1, 1]])
    slope, _ = s.logistic_recalibration_rows(separated, np.array([[0.1, 0.2, 0.3, 0.7, 0.8, 0.9]]))
    assert not np.isfinite(slope[0]) or abs(slope[0]) > 10  # no maximum exists: never a plausible slope


def _auroc_and_mean(idx: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.column_stack([s.auroc_rows(y[idx], p[idx]), p[idx].mean(axis=1)])


@pytest.mark.parametrize("patients", [False, True])
def test_stacks_split_anywhere_give_the_intervals_of_one_resample_at_a_time(hf, monkeypatch, patients):
    groups = np.arange(len(hf.y)) // 2 if patients else None
    common = dict(strata=hf.y, n=len(hf.y), groups=groups, n_resamples=101, seed=5)
    draws = [_auroc_and_mean(idx[None, :], hf.y, hf.p_lr)[0] for idx in resample_indices(**common)]
    one_by_one = np.quantile(np.array(draws), [0.05, 0.95], axis=0)
    monkeypatch.setattr(_estimate, "STACKED_CELLS", 7 * len(hf.y))  # 14 full stacks and one of 3
    stacked = bootstrap_rows(lambda idx: _auroc_and_mean(idx, hf.y, hf.p_lr), **common, level=0.9)
    np.testing.assert_allclose(stacked, one_by_one, rtol=1e-13)
    generic = bootstrap(lambda idx: _auroc_and_mean(idx[None, :], hf.y, hf.p_lr)[0], **common, level=0.9)
    np.testing.assert_allclose(generic, one_by_one, rtol=1e-13)  # the one-resample statistic, through the stacks


def test_binary_intervals_equal_scikit_learn_resample_by_resample(hf):
    result = binary_metrics(hf.y, hf.p_hgb, n_resamples=80, seed=9, level=0.9)
    t = result.threshold.value
    draws = []
    for idx in resample_indices(hf.y, n=len(hf.y), n_resamples=80, seed=9):
        y, p = hf.y[idx], hf.p_hgb[idx]
        tn, fp, fn, tp = skm.confusion_matrix(y, p >= t, labels=[0, 1]).ravel()
        draws.append([skm.roc_auc_score(y, p), skm.average_precision_score(y, p), skm.brier_score_loss(y, p),
                      tp / (tp + fn), tn / (tn + fp), skm.f1_score(y, p >= t)])
    lower, upper = np.quantile(np.array(draws), [0.05, 0.95], axis=0)
    got = [getattr(result, k) for k in ("auroc", "auprc", "brier", "sensitivity", "specificity", "f1")]
    assert [e.lower for e in got] == pytest.approx(lower.tolist(), abs=1e-12)
    assert [e.upper for e in got] == pytest.approx(upper.tolist(), abs=1e-12)


def test_calibration_curve_and_metrics_bootstrap_the_same_fits(hf):
    metrics = binary_metrics(hf.y, hf.p_lr, n_resamples=120, seed=4)
    curve = calibration_curve(hf.y, hf.p_lr, n_resamples=120, seed=4)
    assert (curve.slope.lower, curve.slope.upper) == pytest.approx(
        (metrics.calibration_slope.lower, metrics.calibration_slope.upper), abs=1e-12)
    assert (curve.intercept.lower, curve.intercept.upper) == pytest.approx(
        (metrics.calibration_intercept.lower, metrics.calibration_intercept.upper), abs=1e-12)


def test_resamples_are_the_ones_rng_choice_draws(hf):
    """Evaluations stored by earlier versions were drawn with ``rng.choice``: the same seed draws the same rows."""
    rng = np.random.default_rng(12)
    buckets = [np.flatnonzero(hf.y == c) for c in (0, 1)]
    for idx in resample_indices(hf.y, n=len(hf.y), n_resamples=25, seed=12):
        expected = np.concatenate([rng.choice(b, size=len(b), replace=True) for b in buckets])
        assert idx.tolist() == expected.tolist()


@pytest.mark.parametrize("case", range(12))
def test_patient_resamples_are_the_drawn_patients_rows_in_order(case):
    """Patients drawn as before (``rng.choice`` per stratum of patients, a patient with any positive
    row an event patient), each bringing all their rows in row order: the resamples of stored
    evaluations are drawn again exactly. Patient IDs of any kind, one to three rows each, with and
    without strata."""
    rng = np.random.default_rng(case)
    n = int(rng.integers(2, 250))
    ids = rng.integers(0, max(1, n // int(rng.integers(1, 4))), n)
    groups = np.array([f"p{i:03d}" for i in ids]) if case % 3 == 0 else ids
    strata = None if case % 4 == 0 else (rng.random(n) < 0.3).astype(int)
    patients = np.unique(groups)
    rows_of = [np.flatnonzero(groups == g) for g in patients]
    event = np.zeros(len(patients), dtype=int) if strata is None else np.array([strata[r].max() for r in rows_of])
    buckets = [np.flatnonzero(event == c) for c in np.unique(event)]
    draw = np.random.default_rng(40 + case)
    for idx in resample_indices(strata, n=n, groups=groups, n_resamples=15, seed=40 + case):
        chosen = np.concatenate([draw.choice(b, size=len(b), replace=True) for b in buckets])
        assert idx.tolist() == np.concatenate([rows_of[i] for i in chosen]).tolist()


def test_curve_bands_equal_the_curves_of_each_resample(hf):
    roc = roc_curve(hf.y, hf.p_hgb, n_resamples=60, seed=2, level=0.9)
    pr = pr_curve(hf.y, hf.p_hgb, n_resamples=60, seed=2, level=0.9)
    tprs, precisions = [], []
    for idx in resample_indices(hf.y, n=len(hf.y), n_resamples=60, seed=2):
        y, p = hf.y[idx], hf.p_hgb[idx]
        fpr, tpr, _ = skm.roc_curve(y, p, drop_intermediate=False)
        tprs.append(np.interp(roc.grid, fpr, tpr))
        precisions.append(curves._precision_grid(*curves._pr_points(y, p)))  # the point curve's path, one resample
    for band, draws in (((roc.tpr_lower, roc.tpr_upper), tprs), ((pr.precision_lower, pr.precision_upper), precisions)):
        np.testing.assert_allclose(band, np.quantile(np.array(draws), [0.05, 0.95], axis=0), atol=1e-12)


def test_multiclass_and_regression_intervals_equal_scikit_learn_resample_by_resample():
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 3, 240)
    logits = rng.normal(0, 1, (240, 3))
    logits[np.arange(240), codes] += 1.0
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array(["mild", "moderate", "severe"])
    multi = multiclass_metrics(labels[codes], prob, classes=list(labels), n_resamples=70, seed=3, level=0.9)
    y = rng.normal(50, 10, 240)
    q = y + rng.normal(0, 4, 240)
    reg = regression_metrics(y, q, n_resamples=70, seed=3, level=0.9)
    multi_draws, reg_draws = [], []
    for idx in resample_indices(codes, n=240, n_resamples=70, seed=3):
        c, p = codes[idx], prob[idx]
        multi_draws.append([skm.roc_auc_score(c, p, multi_class="ovr"), skm.accuracy_score(c, p.argmax(axis=1)),
                            skm.log_loss(c, p, labels=[0, 1, 2]), skm.f1_score(c, p.argmax(axis=1), average="macro")])
    for idx in resample_indices(None, n=240, n_resamples=70, seed=3):
        reg_draws.append([skm.root_mean_squared_error(y[idx], q[idx]), skm.mean_absolute_error(y[idx], q[idx]),
                          skm.r2_score(y[idx], q[idx])])
    for got, draws in (([multi.macro_auroc, multi.accuracy, multi.log_loss, multi.macro_f1], multi_draws),
                       ([reg.rmse, reg.mae, reg.r2], reg_draws)):
        lower, upper = np.quantile(np.array(draws), [0.05, 0.95], axis=0)
        assert [e.lower for e in got] == pytest.approx(lower.tolist(), abs=1e-12)
        assert [e.upper for e in got] == pytest.approx(upper.tolist(), abs=1e-12)
