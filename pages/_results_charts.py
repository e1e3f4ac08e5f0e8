"""Interactive plotly charts of the results page: overlaid ROC and PR curves, the trial history.

A multiclass run shows one-vs-rest curves: for one model every class and the macro average, for
several models their macro averages side by side. Exploration only; the publication versions of
the same curves are drawn by ``pipelines.figures`` on the export page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from pages._chart_style import simple_white
from pipelines.figures import PALETTE

__all__ = ["roc_chart", "pr_chart", "trials_chart"]


def _layout(fig: go.Figure, x: str, y: str) -> go.Figure:
    # the legend below the axes: inside them, long model names covered the curves in a half-width column
    simple_white(fig).update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=x, range=[0, 1]), yaxis=dict(title=y, range=[0, 1.02]),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0))
    return fig


def _band(fig: go.Figure, grid: Any, lower: Any, upper: Any, color: str) -> None:
    fig.add_trace(go.Scatter(x=list(grid) + list(grid[::-1]), y=list(upper) + list(lower[::-1]), fill="toself",
                             fillcolor=color, opacity=0.15, line=dict(width=0), showlegend=False, hoverinfo="skip"))


def _name(e: Any, names: Mapping[int, str] | None) -> str:
    """The model's name for people (the page's), else the label stored with its evaluation."""
    return names.get(e.model_id, e.label) if names else e.label


def _one_vs_rest(evaluations: Sequence[Any], kind: str, macro: str,
                 names: Mapping[int, str] | None) -> list[tuple[str, Any, str, bool]]:
    """(name, curve, colour, with band) to draw: every class of one model, or each model's macro average."""
    shown = [e for e in evaluations if e.main.multiclass_curves is not None]
    if len(shown) == 1:
        curves = shown[0].main.multiclass_curves
        per_class = curves.roc if kind == "roc" else curves.pr
        out = [(c.label, c, PALETTE[i % len(PALETTE)], False) for i, c in enumerate(per_class)]
        return out + [(f"{_name(shown[0], names)} {macro}", curves.macro_roc if kind == "roc" else curves.macro_pr,
                       "#000000", True)]
    return [(f"{_name(e, names)} {macro}", getattr(e.main.multiclass_curves, f"macro_{kind}"), PALETTE[i % len(PALETTE)],
             True) for i, e in enumerate(shown)]


def roc_chart(evaluations: Sequence[Any], *, x: str, y: str, macro: str = "macro",
              names: Mapping[int, str] | None = None, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="#999999", width=1),
                             showlegend=False, hoverinfo="skip"))
    if evaluations and evaluations[0].task == "multiclass":
        for name, roc, color, band in _one_vs_rest(evaluations, "roc", macro, names):
            if band:
                _band(fig, roc.grid, roc.tpr_lower, roc.tpr_upper, color)
            fig.add_trace(go.Scatter(x=roc.fpr, y=roc.tpr, mode="lines",
                                     name=f"{name}  {roc.auroc.format(2, lang=lang)}",
                                     line=dict(shape="hv", color=color, width=2.5 if band else 1.5)))
        return _layout(fig, x, y)
    for i, e in enumerate(evaluations):
        roc = e.main.roc
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=list(roc.grid) + list(roc.grid[::-1]), y=list(roc.tpr_upper) + list(roc.tpr_lower[::-1]),
                                 fill="toself", fillcolor=color, opacity=0.15, line=dict(width=0), showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=roc.fpr, y=roc.tpr, mode="lines", line=dict(shape="hv", color=color, width=2),
                                 name=f"{_name(e, names)}  {roc.auroc.format(2, lang=lang)}"))
    return _layout(fig, x, y)


def pr_chart(evaluations: Sequence[Any], *, x: str, y: str, macro: str = "macro",
             names: Mapping[int, str] | None = None, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    if evaluations and evaluations[0].task == "multiclass":
        for name, pr, color, band in _one_vs_rest(evaluations, "pr", macro, names):
            if band:
                _band(fig, pr.grid, pr.precision_lower, pr.precision_upper, color)
            precision = np.maximum.accumulate(np.asarray(pr.precision)[::-1])[::-1]
            fig.add_trace(go.Scatter(x=pr.recall, y=precision, mode="lines",
                                     name=f"{name}  {pr.auprc.format(2, lang=lang)}",
                                     line=dict(shape="vh" if not band else "linear", color=color,
                                               width=2.5 if band else 1.5)))
        return _layout(fig, x, y)
    for i, e in enumerate(evaluations):
        pr = e.main.pr
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=list(pr.grid) + list(pr.grid[::-1]),
                                 y=list(pr.precision_upper) + list(pr.precision_lower[::-1]), fill="toself",
                                 fillcolor=color, opacity=0.15, line=dict(width=0), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=pr.recall, y=pr.precision, mode="lines", line=dict(shape="vh", color=color, width=2),
                                 name=f"{_name(e, names)}  {pr.auprc.format(2, lang=lang)}"))
    if evaluations:
        fig.add_hline(y=evaluations[0].main.pr.prevalence, line=dict(dash="dash", color="#999999", width=1))
    return _layout(fig, x, y)


def trials_chart(trials: Sequence[dict[str, Any]], *, x: str, y: str, best: str, greater: bool = True,
                 family: Callable[[str], str] = str) -> go.Figure:
    """Each trial's cross-validated score by trial number, per family, with the running best."""
    fig = go.Figure()
    done = [t for t in trials if t.get("value") is not None and t.get("state", "complete") == "complete"]
    families = sorted({str(t.get("family")) for t in done})
    for i, name in enumerate(families):
        rows = [t for t in done if str(t.get("family")) == name]
        fig.add_trace(go.Scatter(
            x=[t["number"] for t in rows], y=[t["value"] for t in rows], mode="markers", name=family(name),
            marker=dict(color=PALETTE[i % len(PALETTE)], size=8),
            text=[", ".join(f"{k}={v}" for k, v in (t.get("params") or {}).items()) for t in rows],
            hovertemplate="#%{x}: %{y:.4f}<br>%{text}<extra></extra>"))
    ordered = sorted(done, key=lambda t: t["number"])
    running, best_so_far = [], None
    for t in ordered:
        pick = max if greater else min
        best_so_far = t["value"] if best_so_far is None else pick(best_so_far, t["value"])
        running.append(best_so_far)
    if ordered:
        fig.add_trace(go.Scatter(x=[t["number"] for t in ordered], y=running, mode="lines", name=best,
                                 line=dict(color="#000000", width=1.5, shape="hv")))
    simple_white(fig).update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=x, **_whole_numbers([t["number"] for t in ordered])), yaxis=dict(title=y))
    return fig


def _whole_numbers(numbers: Sequence[int]) -> dict[str, Any]:
    """Ticks at whole trial numbers: plotly's own steps for a few trials are 0.5 (trial "1.5" does not
    exist). A step of 1, 2, 5, 10, 20, ... that gives at most ten ticks over the trials shown."""
    span = max(numbers) - min(numbers) if numbers else 0
    step = 1
    while span / step > 10:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2  # 1, 2, 5, 10, 20, 50, ...
    return dict(tickmode="linear", tick0=0, dtick=step, tickformat="d")
