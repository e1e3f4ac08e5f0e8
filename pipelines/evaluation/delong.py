"""DeLong's test for two correlated AUROCs, and the DeLong interval of one AUROC.

Two models scored on the same patients are compared with the nonparametric covariance of their
AUROCs (DeLong, DeLong & Clarke-Pearson, Biometrics 1988), computed from placement values with
the O(n log n) algorithm of Sun & Xu (IEEE SPL 2014). A bootstrap would also do, but reviewers
ask for DeLong by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

from pipelines.errors import EvaluationError
from pipelines.evaluation._estimate import Estimate, as_binary_arrays

__all__ = ["DeLongTest", "delong_test", "delong_auroc"]


@dataclass(frozen=True)
class DeLongTest:
    """AUROC of model A and B, their difference A - B with its CI, z and two-sided p-value."""

    auroc_a: Estimate
    auroc_b: Estimate
    difference: Estimate
    z: float
    p_value: float
    correlation: float


def _placements(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUROCs and placement values ``V10`` (per positive) and ``V01`` (per negative), per model."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    aucs, v10, v01 = [], [], []
    for k in range(scores.shape[0]):
        tx = rankdata(pos[k])
        ty = rankdata(neg[k])
        tz = rankdata(np.r_[pos[k], neg[k]])
        aucs.append((tz[:m].sum() - m * (m + 1) / 2) / (m * n))
        v10.append((tz[:m] - tx) / n)
        v01.append(1.0 - (tz[m:] - ty) / m)
    return np.array(aucs), np.array(v10), np.array(v01)


def _covariance(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    aucs, v10, v01 = _placements(y, scores)
    m, n = v10.shape[1], v01.shape[1]
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return aucs, s10 / m + s01 / n


def _ci(value: float, var: float, level: float, clip: bool = True) -> Estimate:
    half = norm.ppf(0.5 + level / 2) * np.sqrt(max(var, 0.0))
    lo, hi = value - half, value + half
    if clip:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return Estimate(float(value), float(lo), float(hi), level)


def delong_auroc(y_true: Sequence | np.ndarray, y_prob: Sequence | np.ndarray, *, level: float = 0.95) -> tuple[Estimate, float]:
    """AUROC with its DeLong interval, and the DeLong standard error."""
    y, p = as_binary_arrays(y_true, y_prob)
    aucs, cov = _covariance(y, p[None, :])
    return _ci(aucs[0], cov[0, 0], level), float(np.sqrt(cov[0, 0]))


def delong_test(
    y_true: Sequence | np.ndarray,
    prob_a: Sequence | np.ndarray,
    prob_b: Sequence | np.ndarray,
    *,
    level: float = 0.95,
) -> DeLongTest:
    """Paired DeLong test of ``AUROC(A) == AUROC(B)`` on the same patients."""
    y, pa = as_binary_arrays(y_true, prob_a)
    _, pb = as_binary_arrays(y_true, prob_b)
    aucs, cov = _covariance(y, np.vstack([pa, pb]))
    diff = aucs[0] - aucs[1]
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    if var <= 0:
        if abs(diff) > 0:
            raise EvaluationError("evaluation.delong_degenerate")
        z, pval = 0.0, 1.0
    else:
        z = diff / np.sqrt(var)
        pval = 2 * norm.sf(abs(z))
    denom = np.sqrt(cov[0, 0] * cov[1, 1])
    return DeLongTest(
        auroc_a=_ci(aucs[0], cov[0, 0], level),
        auroc_b=_ci(aucs[1], cov[1, 1], level),
        difference=_ci(diff, var, level, clip=False),
        z=float(z),
        p_value=float(pval),
        correlation=float(cov[0, 1] / denom) if denom > 0 else float("nan"),
    )
