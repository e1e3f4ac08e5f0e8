"""Plotly charts of a validation report: calibration of both cohorts (and the external one after
recalibration) and the decision curves. ROC curves come from the results page's helper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from pages._results_charts import _layout
from pipelines.figures import PALETTE

__all__ = ["calibration_chart", "decision_chart"]


def _counts(curve: Any) -> list[str]:
    """Bin sizes for the hover text. A reader's copy has no bin below 5 (small bins are merged with a
    neighbour in ``for_reader``), so no count here is a suppressed one; a zero would read "<5"."""
    return [str(int(n)) if n else "<5" for n in np.asarray(curve.counts)]


def calibration_chart(cohorts: Sequence[Any], *, recalibrated: Any | None, x: str, y: str, recalibrated_name: str
                      ) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="#999999", width=1),
                             showlegend=False, hoverinfo="skip"))
    for i, cohort in enumerate(cohorts):
        curve = cohort.main.calibration
        fig.add_trace(go.Scatter(
            x=curve.predicted, y=curve.observed, mode="lines+markers", name=cohort.label,
            line=dict(color=PALETTE[i % len(PALETTE)], width=2),
            error_y=dict(type="data", symmetric=False, array=curve.observed_upper - curve.observed,
                         arrayminus=curve.observed - curve.observed_lower, width=3),
            customdata=_counts(curve), hovertemplate="%{x:.2f} \u2192 %{y:.2f} (n=%{customdata})<extra></extra>"))
    if recalibrated is not None:
        fig.add_trace(go.Scatter(x=recalibrated.predicted, y=recalibrated.observed, mode="lines+markers",
                                 name=recalibrated_name, line=dict(color=PALETTE[1], width=1.5, dash="dot"),
                                 marker=dict(symbol="circle-open"), customdata=_counts(recalibrated),
                                 hovertemplate="%{x:.2f} \u2192 %{y:.2f} (n=%{customdata})<extra></extra>"))
    fig = _layout(fig, x, y)
    fig.update_layout(legend=dict(yanchor="top", y=0.98, xanchor="left", x=0.02))
    return fig


def decision_chart(cohorts: Sequence[Any], *, x: str, y: str, treat_all: str, treat_none: str) -> go.Figure:
    """Net benefit of the model in each cohort, against treating everyone (with each cohort's own
    prevalence) and treating no one."""
    fig = go.Figure()
    low = 0.0
    for i, cohort in enumerate(cohorts):
        curve = cohort.main.decision
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=curve.thresholds, y=curve.net_benefit, mode="lines", name=cohort.label,
                                 line=dict(color=color, width=2)))
        fig.add_trace(go.Scatter(x=curve.thresholds, y=curve.treat_all, mode="lines", name=f"{treat_all} ({cohort.label})",
                                 line=dict(color=color, width=1, dash="dash")))
        low = min(low, float(np.nanmin(curve.net_benefit)))
    fig.add_hline(y=0, line=dict(color="#000000", width=1), annotation_text=treat_none,
                  annotation_position="bottom right")
    top = max(float(c.main.decision.prevalence) for c in cohorts) if cohorts else 1.0
    fig.update_layout(template="simple_white", height=420, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=x, range=[0, 1]), yaxis=dict(title=y, range=[max(low, -0.05), top * 1.1]),
                      legend=dict(yanchor="top", y=0.98, xanchor="right", x=0.98))
    return fig
