"""Plotly figures for the viewer's panels, drawn from the aggregates only (no rows needed)."""

from __future__ import annotations

import plotly.graph_objects as go

from ._summary import ColumnSummary, CorrelationMatrix, MissingnessMap

__all__ = ["column_figure", "missingness_figure", "correlation_figure"]


def column_figure(summary: ColumnSummary) -> go.Figure:
    """A histogram for numbers (with the plausible range shaded), a bar chart of top values otherwise."""
    fig = go.Figure()
    if summary.histogram_counts:
        edges = summary.histogram_edges
        centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
        widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
        fig.add_bar(x=centres, y=list(summary.histogram_counts), width=widths, name=summary.name)
        if summary.range_low is not None and summary.range_high is not None:
            fig.add_vrect(x0=summary.range_low, x1=summary.range_high, opacity=0.08, line_width=0)
    else:
        labels = [v for v, _ in summary.top_values]
        fig.add_bar(x=[n for _, n in summary.top_values], y=labels, orientation="h", name=summary.name)
        fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=summary.name, showlegend=False, bargap=0.02, margin=dict(l=40, r=10, t=40, b=30))
    return fig


def missingness_figure(missing: MissingnessMap) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=[list(r) for r in missing.fractions],
            x=list(missing.row_starts),
            y=list(missing.columns),
            zmin=0,
            zmax=1,
            colorscale="Greys",
        )
    )
    fig.update_layout(xaxis_title="row", margin=dict(l=40, r=10, t=20, b=30))
    return fig


def correlation_figure(matrix: CorrelationMatrix) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=[list(r) for r in matrix.values],
            x=list(matrix.columns),
            y=list(matrix.columns),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
        )
    )
    fig.update_layout(margin=dict(l=40, r=10, t=20, b=30))
    return fig
