"""DeLong's test against a literature example and against the 1988 definitions computed directly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from pipelines.evaluation import delong_auroc, delong_test

# Hanley & McNeil, Radiology 1982;143:29-36, Table 1: CT ratings (1 = definitely normal ...
# 5 = definitely abnormal) of 58 normal and 51 abnormal patients; area under the ROC = 0.893.
HM_NORMAL = [33, 6, 6, 11, 2]
HM_ABNORMAL = [3, 2, 2, 11, 33]


def _hanley_mcneil():
    y = np.r_[np.zeros(sum(HM_NORMAL)), np.ones(sum(HM_ABNORMAL))].astype(int)
    rating = np.r_[np.repeat(np.arange(1, 6), HM_NORMAL), np.repeat(np.arange(1, 6), HM_ABNORMAL)]
    return y, rating / 5.0


def _delong_by_definition(y, scores):
    """Structural components exactly as in DeLong, DeLong & Clarke-Pearson (1988), O(m*n)."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    k = scores.shape[0]
    psi = [(pos[r][:, None] > neg[r][None, :]) + 0.5 * (pos[r][:, None] == neg[r][None, :]) for r in range(k)]
    theta = np.array([p.mean() for p in psi])
    v10 = np.array([p.mean(axis=1) for p in psi])  # per positive
    v01 = np.array([p.mean(axis=0) for p in psi])  # per negative
    s10 = np.array([[np.sum((v10[a] - theta[a]) * (v10[b] - theta[b])) / (m - 1) for b in range(k)] for a in range(k)])
    s01 = np.array([[np.sum((v01[a] - theta[a]) * (v01[b] - theta[b])) / (n - 1) for b in range(k)] for a in range(k)])
    return theta, s10 / m + s01 / n


def test_hanley_mcneil_area_and_standard_error():
    y, score = _hanley_mcneil()
    est, se = delong_auroc(y, score)
    assert est.value == pytest.approx(0.893, abs=5e-4)  # the published area
    # Hanley & McNeil's own approximation gives SE 0.032; DeLong's nonparametric SE is close to it
    assert se == pytest.approx(0.032, abs=0.002)
    theta, cov = _delong_by_definition(y, score[None, :])
    assert se == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
    assert est.lower == pytest.approx(theta[0] - norm.ppf(0.975) * se)


def test_paired_test_equals_the_definition(hf):
    result = delong_test(hf.y, hf.p_lr, hf.p_hgb)
    theta, cov = _delong_by_definition(hf.y, np.vstack([hf.p_lr, hf.p_hgb]))
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (theta[0] - theta[1]) / np.sqrt(var)
    assert result.auroc_a.value == pytest.approx(theta[0])
    assert result.auroc_b.value == pytest.approx(theta[1])
    assert result.z == pytest.approx(z, rel=1e-9)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-9)
    assert result.difference.lower < result.difference.value < result.difference.upper
    assert -1 <= result.correlation <= 1


def test_clearly_better_model_is_significant_and_identical_models_are_not(bc, hf):
    rng = np.random.default_rng(0)
    noisy = np.clip(bc.p_lr * 0.3 + rng.random(len(bc.y)) * 0.7, 0, 1)
    better = delong_test(bc.y, bc.p_lr, noisy)
    assert better.difference.value > 0.1 and better.p_value < 1e-6
    same = delong_test(hf.y, hf.p_lr, hf.p_lr)
    assert same.z == 0.0 and same.p_value == 1.0
