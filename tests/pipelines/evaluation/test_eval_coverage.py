"""Bootstrap and DeLong intervals cover the true AUROC about 95% of the time on simulated data.

Binormal data with positives ~ N(d, 1) and negatives ~ N(0, 1) have a known AUROC of
Phi(d / sqrt(2)); 200 simulated studies of 150 patients give a coverage estimate with a
standard error of about 1.5 points, so 0.91-0.99 is a fair acceptance band (2.6 standard errors
below 95 %): an interval of 80 % or 99.9 % instead of 95 % falls outside it. The stratified
bootstrap is the one ``binary_metrics`` uses, run here on the AUROC alone (200 resamples per
study) to keep it quick.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import norm

from pipelines.evaluation import _scores, binary_metrics, delong_auroc
from pipelines.evaluation._estimate import bootstrap


def _study(rng: np.random.Generator, d: float) -> tuple[np.ndarray, np.ndarray]:
    y = np.r_[np.ones(50, dtype=int), np.zeros(100, dtype=int)]
    return y, expit(np.r_[rng.normal(d, 1, 50), rng.normal(0, 1, 100)])


LEVEL = 0.95


@pytest.mark.slow
def test_auroc_interval_coverage_on_simulated_studies():
    rng = np.random.default_rng(2024)
    d = 1.0
    truth = norm.cdf(d / np.sqrt(2))
    hits_boot = hits_delong = 0
    studies = 200
    for k in range(studies):
        y, p = _study(rng, d)
        lo, hi = bootstrap(lambda idx: _scores.auroc(y[idx], p[idx]), strata=y, n=len(y), groups=None,
                           n_resamples=200, seed=k, level=LEVEL)
        hits_boot += lo[0] <= truth <= hi[0]
        est, _ = delong_auroc(y, p)
        hits_delong += est.lower <= truth <= est.upper
    assert 0.91 <= hits_boot / studies <= 0.99, hits_boot / studies
    assert 0.91 <= hits_delong / studies <= 0.99, hits_delong / studies


@pytest.mark.slow
def test_binary_metrics_intervals_cover_truth_in_most_studies():
    rng = np.random.default_rng(7)
    truth = norm.cdf(1 / np.sqrt(2))
    hits = sum(
        (m := binary_metrics(*_study(rng, 1.0), n_resamples=200, seed=k)).auroc.lower <= truth <= m.auroc.upper
        for k in range(40)
    )
    assert hits >= 34  # P(X <= 33) < 1% for Binomial(40, 0.95)
