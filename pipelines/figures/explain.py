"""Explanation figures: SHAP summary (beeswarm), dependence and feature importance bars (the
single-patient waterfall is in ``waterfall``).

Beeswarm and dependence plot one point per patient, so they refuse to draw when
``collaborator_safe`` is set: outside collaborators may see aggregate results only.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from pipelines.errors import EvaluationError
from pipelines.evaluation import Contributions, FeatureImportance
from pipelines.figures._base import new_figure, refuse_patient_level, tidy_axes
from pipelines.figures._style import GREY, LIGHT_GREY, PALETTE, FigureStyle, figure_style

__all__ = ["shap_summary_figure", "shap_dependence_figure", "importance_figure"]

# low values blue, high values vermillion: the two most distinct Okabe-Ito colours
_VALUE_CMAP = LinearSegmentedColormap.from_list("okabe_ito_diverging", [PALETTE[0], "#E8E8E8", PALETTE[1]])


def _scaled(column: np.ndarray) -> np.ndarray:
    """Feature values mapped to 0..1 by their 5th-95th percentiles, so outliers do not wash out colour."""
    finite = column[np.isfinite(column)]
    if len(finite) == 0:
        return np.full_like(column, 0.5)
    lo, hi = np.percentile(finite, [5, 95])
    if hi <= lo:
        lo, hi = finite.min(), finite.max()
    if hi <= lo:
        return np.full_like(column, 0.5)
    return np.clip((column - lo) / (hi - lo), 0, 1)


def _swarm_offsets(values: np.ndarray, *, width: float = 0.38, bins: int = 60, seed: int = 0) -> np.ndarray:
    """Vertical jitter proportional to local density, the way SHAP's beeswarm spreads points."""
    if len(values) == 0:
        return values
    span = values.max() - values.min() or 1.0
    which = np.clip(((values - values.min()) / span * bins).astype(int), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    rng = np.random.default_rng(seed)
    offsets = np.zeros(len(values))
    for b in np.flatnonzero(counts):
        members = np.flatnonzero(which == b)
        spread = width * min(1.0, counts[b] / max(counts.max(), 1) * 1.6)
        offsets[members] = rng.uniform(-spread, spread, len(members))
    return offsets


def shap_summary_figure(
    contributions: Contributions,
    *,
    style: FigureStyle | None = None,
    max_features: int = 12,
    collaborator_safe: bool = False,
) -> Figure:
    """Beeswarm: one dot per patient and feature, coloured by the feature's value."""
    refuse_patient_level(collaborator_safe, "SHAP summary")
    style = style or figure_style()
    order = np.argsort(contributions.mean_abs())[::-1][:max_features]
    k = len(order)
    with style.context():
        fig = new_figure(style, height_mm=max(50.0, 8.0 * k + 16.0))
        ax = fig.add_subplot()
        ax.axvline(0, color=GREY, lw=0.5, zorder=0)
        for row, j in enumerate(order):
            y = k - 1 - row
            values = contributions.values[:, j]
            ax.scatter(values, y + _swarm_offsets(values, seed=j), c=_scaled(contributions.data[:, j]), cmap=_VALUE_CMAP,
                       vmin=0, vmax=1, s=2.5, lw=0, rasterized=True)
        ax.set_yticks(range(k), [contributions.features[j] for j in order][::-1])
        ax.set_ylim(-0.6, k - 0.4)
        ax.set_xlabel(style.text("figures.shap.x"))
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        bar = fig.colorbar(ax.collections[-1], ax=ax, aspect=25, pad=0.02, fraction=0.035, shrink=0.5)
        bar.set_ticks([0, 1], labels=[style.text("figures.shap.low"), style.text("figures.shap.high")])
        bar.set_label(style.text("figures.shap.feature_value"), labelpad=-2)
        bar.outline.set_visible(False)
        bar.ax.tick_params(length=0)
        tidy_axes(ax)
    return fig


def _feature_index(contributions: Contributions, feature: str) -> int:
    if feature not in contributions.features:
        raise EvaluationError("figures.unknown_feature", feature=feature, allowed=list(contributions.features)[:20])
    return contributions.features.index(feature)


def _jitter(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """A little horizontal spread for a feature with few values (0/1, a score), so stacked patients
    show as a cloud instead of one dot; continuous features are left exactly where they are."""
    levels = np.unique(x[np.isfinite(x)])
    if levels.size < 2 or levels.size > 10:
        return x
    width = 0.08 * float(np.min(np.diff(levels)))
    return x + np.random.default_rng(seed).uniform(-width, width, len(x))


def shap_dependence_figure(
    contributions: Contributions,
    feature: str,
    *,
    colour_by: str | None = None,
    style: FigureStyle | None = None,
    collaborator_safe: bool = False,
) -> Figure:
    """How one feature's value maps to its contribution, one dot per patient, coloured by the
    values of ``colour_by`` (the feature it interacts with most, see
    ``pipelines.evaluation.strongest_interaction``), with the mean contribution per decile."""
    refuse_patient_level(collaborator_safe, "SHAP dependence")
    style = style or figure_style()
    j = _feature_index(contributions, feature)
    x = contributions.data[:, j]
    y = contributions.values[:, j]
    with style.context():
        fig = new_figure(style, style.plot_aspect(0.75))
        ax = fig.add_subplot()
        ax.axhline(0, color=GREY, lw=0.5, zorder=0)
        shown = _jitter(x)
        if colour_by is None:
            ax.scatter(shown, y, s=5, color=PALETTE[0], lw=0.2, edgecolors="white", rasterized=True)
        else:
            c = contributions.data[:, _feature_index(contributions, colour_by)]
            known = np.isfinite(c)
            finite = c[known]
            lo, hi = (np.percentile(finite, [5, 95]) if finite.size else (0.0, 1.0))
            if hi <= lo:
                lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if hi <= lo:
                hi = lo + 1.0
            ax.scatter(shown[~known], y[~known], s=5, color=LIGHT_GREY, lw=0.2, edgecolors="white", rasterized=True)
            points = ax.scatter(shown[known], y[known], s=5, c=np.clip(finite, lo, hi), cmap=_VALUE_CMAP, vmin=lo,
                                vmax=hi, lw=0.2, edgecolors="white", rasterized=True)
            bar = fig.colorbar(points, ax=ax, aspect=25, pad=0.02, fraction=0.05)
            levels = np.unique(finite)
            if levels.size <= 5 and np.all(levels == np.round(levels)):  # 0/1 or a short score: its own values
                bar.set_ticks(levels[(levels >= lo) & (levels <= hi)])
            bar.set_label(colour_by, labelpad=2)
            bar.outline.set_visible(False)
            bar.ax.tick_params(length=1.5, labelsize=style.base_pt - 1)
        finite = np.isfinite(x)
        if np.unique(x[finite]).size > 10:
            edges = np.unique(np.percentile(x[finite], np.linspace(0, 100, 11)))
            which = np.clip(np.searchsorted(edges[1:-1], x[finite], side="right"), 0, len(edges) - 2)
            centers = np.array([np.median(x[finite][which == b]) for b in range(len(edges) - 1) if np.any(which == b)])
            means = np.array([y[finite][which == b].mean() for b in range(len(edges) - 1) if np.any(which == b)])
            ax.plot(centers, means, color="#000000", lw=0.8, zorder=3)
        ax.set_xlabel(feature)
        ax.set_ylabel(style.text("figures.shap.dependence_y", feature=feature))
        tidy_axes(ax)
    return fig


def importance_figure(
    importance: FeatureImportance | Contributions,
    *,
    style: FigureStyle | None = None,
    max_features: int = 15,
) -> Figure:
    """Horizontal bars, most important at the top: permutation importance (with the spread of
    repeats) or mean |SHAP| (an aggregate, so it may be shared)."""
    style = style or figure_style()
    if isinstance(importance, Contributions):
        means = importance.mean_abs()
        lower = upper = None
        label = style.text("figures.importance.shap")
        features = importance.features
    else:
        means, lower, upper = importance.mean, importance.lower, importance.upper
        label = style.text("figures.importance.permutation", metric=style.metric(importance.metric))
        features = importance.features
    order = np.argsort(means)[::-1][:max_features]
    k = len(order)
    with style.context():
        fig = new_figure(style, height_mm=max(40.0, 5.5 * k + 16.0))
        ax = fig.add_subplot()
        ypos = np.arange(k)[::-1]
        ax.barh(ypos, means[order], color=PALETTE[0], height=0.65, lw=0)
        if lower is not None and upper is not None:
            ax.errorbar(means[order], ypos, xerr=[means[order] - lower[order], upper[order] - means[order]],
                        fmt="none", ecolor="#333333", elinewidth=0.6, capsize=1.2, capthick=0.6)
        ax.axvline(0, color="#222222", lw=0.6)
        ax.set_yticks(ypos, [features[j] for j in order])
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(label)
        ax.set_ylim(-0.6, k - 0.4)
        tidy_axes(ax)
    return fig
