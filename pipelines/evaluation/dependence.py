"""What a SHAP dependence plot and a single-patient waterfall show beside the SHAP values: the
feature values in the units of the analysis table, and the feature that interacts most.

A learner sees scaled, imputed columns, so its own values read "age 1.63"; a physician reads
"age 65". And a dependence plot is coloured by the feature whose values best explain the vertical
spread of the points (the approximation the ``shap`` package uses: within slices of the plotted
feature, how strongly its SHAP values correlate with each other feature).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from pipelines.errors import EvaluationError
from pipelines.evaluation.explain import Contributions

__all__ = ["in_input_units", "strongest_interaction", "ranked_features"]


def in_input_units(contributions: Contributions, frame: pd.DataFrame) -> Contributions:
    """The same contributions with ``data`` in the units of ``frame`` (the analysis-table rows the
    SHAP values were computed for, in the same order) wherever a learner column is one numeric
    input column, scaled or transformed. Others (one-hot indicators, codes) keep the learner's
    values. A column is taken only when its order agrees with the learner's (rank correlation
    above 0.99 where both are known), so rows given in another order change nothing. A value missing
    in the table (imputed for the model) stays missing: the reader sees that it was not measured."""
    if len(frame) != contributions.values.shape[0]:
        return contributions
    data = np.array(contributions.data, dtype=float, copy=True)
    for j, name in enumerate(contributions.features):
        if name not in frame.columns:
            continue
        raw = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        known = np.isfinite(raw) & np.isfinite(data[:, j])
        if known.sum() < 3 or np.ptp(raw[known]) == 0 or np.ptp(data[known, j]) == 0:
            continue
        if spearmanr(raw[known], data[known, j]).statistic > 0.99:
            data[:, j] = raw
    return dataclasses.replace(contributions, data=data)


def ranked_features(contributions: Contributions) -> tuple[str, ...]:
    """Features by mean |SHAP| (the order of the summary plot), most important first."""
    return tuple(contributions.features[j] for j in np.argsort(-contributions.mean_abs(), kind="stable"))


def _index(contributions: Contributions, feature: str) -> int:
    if feature not in contributions.features:
        raise EvaluationError("figures.unknown_feature", feature=feature, allowed=list(contributions.features)[:20])
    return contributions.features.index(feature)


def strongest_interaction(contributions: Contributions, feature: str) -> str | None:
    """The other feature whose values track the spread of ``feature``'s SHAP values at equal
    ``feature`` values most closely; None when no other feature varies alongside."""
    j = _index(contributions, feature)
    x = contributions.data[:, j]
    keep = np.isfinite(x)
    order = np.flatnonzero(keep)[np.argsort(x[keep], kind="stable")]
    shap = contributions.values[order, j]
    step = max(min(len(order) // 10, 50), 1)
    best, best_score = None, 0.0
    for k, name in enumerate(contributions.features):
        if k == j:
            continue
        other = contributions.data[order, k]
        score = 0.0
        for start in range(0, len(order), step):
            a, b = shap[start:start + step], other[start:start + step]
            ok = np.isfinite(b)
            if ok.sum() > 2 and np.std(a[ok]) > 0 and np.std(b[ok]) > 0:
                score += abs(float(np.corrcoef(a[ok], b[ok])[0, 1]))
        if score > best_score:
            best, best_score = name, score
    return best
