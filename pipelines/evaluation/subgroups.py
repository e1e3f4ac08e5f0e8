"""Performance within subgroups (sex, age band, site), each with its own bootstrap CI.

Consortia and reviewers ask whether a model works as well for women as for men; a subgroup
table with intervals answers it and a forest plot shows it. Subgroups too small or with one
outcome class only are reported with their counts and no metrics, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.errors import EvaluationError
from pipelines.evaluation import _scores as s
from pipelines.evaluation._estimate import Estimate, as_binary_arrays, as_groups, bootstrap_rows
from pipelines.evaluation.binary import AT_THRESHOLD

__all__ = ["SubgroupRow", "SubgroupPerformance", "subgroup_performance", "age_bands", "SUBGROUP_METRICS"]

SUBGROUP_METRICS = ("auroc", "auprc", "brier", "sensitivity", "specificity", "ppv", "npv")


@dataclass(frozen=True)
class SubgroupRow:
    variable: str
    level: str
    n: int
    n_positive: int
    metrics: Mapping[str, Estimate] = field(default_factory=dict)
    note: str = ""  # "too_small" or "one_class" when no metric could be computed


@dataclass(frozen=True)
class SubgroupPerformance:
    overall: SubgroupRow
    rows: tuple[SubgroupRow, ...]
    threshold: float
    metrics: tuple[str, ...]
    n_resamples: int
    seed: int


def age_bands(age: Sequence | np.ndarray | pd.Series, *, edges: Sequence[float] = (0, 50, 65, 80, 200)) -> pd.Series:
    """Age as ordered bands ``<50``, ``50-64``, ``65-79``, ``>=80`` (lower-inclusive edges), for subgroups."""
    e = list(edges)
    labels = [f"<{e[1]:g}"] + [f"{lo:g}\u2013{hi - 1:g}" for lo, hi in zip(e[1:-2], e[2:-1])] + [f"\u2265{e[-2]:g}"]
    return pd.Series(pd.cut(np.asarray(age, dtype=float), bins=e, right=False, labels=labels, ordered=True))


_FREE_ROWS = {"auroc": s.auroc_rows, "auprc": s.average_precision_rows, "brier": s.brier_rows, "log_loss": s.log_loss_rows}


def _metric_rows(Y: np.ndarray, P: np.ndarray, threshold: float, metrics: tuple[str, ...]) -> np.ndarray:
    """``metrics`` of every row (resamples x patients of one subgroup): resamples x metrics."""
    at = s.threshold_metrics(*s.confusion_rows(Y, P, threshold))
    return np.column_stack([at[m] if m in AT_THRESHOLD else _FREE_ROWS[m](Y, P) for m in metrics])


def _row(variable: str, level: str, y, p, g, *, threshold, metrics, n_resamples, seed, level_ci, min_size) -> SubgroupRow:
    n, n_pos = len(y), int(y.sum())
    if n < min_size:
        return SubgroupRow(variable, level, n, n_pos, {}, "too_small")
    if n_pos == 0 or n_pos == n:
        return SubgroupRow(variable, level, n, n_pos, {}, "one_class")
    point = _metric_rows(y[None, :], p[None, :], threshold, metrics)[0]
    lo, hi = bootstrap_rows(
        lambda idx: _metric_rows(y[idx], p[idx], threshold, metrics),
        strata=y, n=n, groups=g, n_resamples=n_resamples, seed=seed, level=level_ci,
    )
    return SubgroupRow(
        variable, level, n, n_pos,
        {m: Estimate(float(point[i]), float(lo[i]), float(hi[i]), level_ci) for i, m in enumerate(metrics)},
    )


def subgroup_performance(
    y_true: Sequence | np.ndarray,
    y_prob: Sequence | np.ndarray,
    subgroups: pd.DataFrame | Mapping[str, Sequence],
    *,
    threshold: float,
    metrics: Sequence[str] = SUBGROUP_METRICS,
    groups: Sequence | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_size: int = 10,
) -> SubgroupPerformance:
    """Metrics per level of every subgrouping column, at one fixed threshold for all subgroups."""
    y, p = as_binary_arrays(y_true, y_prob)
    g = as_groups(groups, len(y))
    known = set(SUBGROUP_METRICS) | {"log_loss", "f1", "accuracy"}
    bad = [m for m in metrics if m not in known]
    if bad:
        raise EvaluationError("evaluation.unknown_metric", metric=bad[0], allowed=sorted(known))
    frame = pd.DataFrame(dict(subgroups)) if not isinstance(subgroups, pd.DataFrame) else subgroups
    if len(frame) != len(y):
        raise EvaluationError("evaluation.subgroups_length", n_subgroups=len(frame), n_rows=len(y))
    metrics = tuple(metrics)
    common = dict(threshold=threshold, metrics=metrics, n_resamples=n_resamples, seed=seed, level_ci=level, min_size=min_size)
    overall = _row("", "", y, p, g, **common)
    rows: list[SubgroupRow] = []
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            order = [str(c) for c in series.cat.categories]  # keep the categories' own order (age bands)
        else:
            order = sorted(set(series.dropna().astype("string").tolist()))
        values = series.astype("string").fillna("(missing)").to_numpy()
        present = set(values.tolist())
        for value in [v for v in order if v in present] + (["(missing)"] if "(missing)" in present else []):
            mask = values == value
            rows.append(_row(str(column), str(value), y[mask], p[mask], None if g is None else g[mask], **common))
    return SubgroupPerformance(overall, tuple(rows), float(threshold), metrics, n_resamples, seed)
