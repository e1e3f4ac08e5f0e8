"""The calculator's answer: the risk, range flags, the calibration curve with the patient on it, and
the factors that raised or lowered the risk."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from pages._run_picker import family_name
from pipelines.figures import PALETTE
from workbench.services.calculator import CalculatorForm, RiskResult

__all__ = ["show"]

_TOP = 12


def _calibration_chart(ctx: Any, result: RiskResult) -> go.Figure:
    bins = result.calibration
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="#999999", width=1),
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[b.predicted for b in bins], y=[b.observed for b in bins], mode="lines+markers",
        line=dict(color=PALETTE[0]), name=ctx.t("calculator.holdout"),
        error_y=dict(type="data", symmetric=False, array=[b.observed_upper - b.observed for b in bins],
                     arrayminus=[b.observed - b.observed_lower for b in bins]),
        customdata=[b.count for b in bins], hovertemplate="%{x:.2f} → %{y:.2f} (n=%{customdata})<extra></extra>"))
    fig.add_vline(x=result.risk, line=dict(color=PALETTE[1], width=2))
    if result.calibration_bin is not None:
        here = bins[result.calibration_bin]
        fig.add_trace(go.Scatter(x=[result.risk], y=[here.observed], mode="markers", name=ctx.t("calculator.patient"),
                                 marker=dict(color=PALETTE[1], size=14, symbol="diamond")))
    fig.update_layout(template="simple_white", height=380, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=ctx.t("calculator.predicted"), range=[0, 1]),
                      yaxis=dict(title=ctx.t("calculator.observed"), range=[0, 1.02]),
                      legend=dict(yanchor="top", y=0.98, xanchor="left", x=0.02))
    return fig


def _factors_chart(ctx: Any, result: RiskResult) -> go.Figure:
    """Largest contributions first (top of the chart); log-odds for risks, outcome units for values."""
    top = list(result.factors[:_TOP])[::-1]
    colours = [PALETTE[1] if f.contribution > 0 else PALETTE[0] for f in top]
    fig = go.Figure(go.Bar(x=[f.contribution for f in top], y=[f.feature for f in top], orientation="h",
                           marker_color=colours, hovertemplate="%{y}: %{x:+.3f}<extra></extra>"))
    fig.update_layout(template="simple_white", height=60 + 28 * len(top), margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title=ctx.t("calculator.contribution") if result.task != "regression"
                                 else ctx.t("calculator.contribution_value"), zeroline=True))
    return fig


def show(ctx: Any, form: CalculatorForm, result: RiskResult) -> None:
    st.subheader(ctx.t("calculator.result"))
    for flag in result.flags:
        key = f"calculator.flag_{flag.kind}"  # implausible, outside_training or outside_central
        st.warning(ctx.t(key, name=flag.name, value=f"{flag.value:g}", low=f"{flag.low:g}", high=f"{flag.high:g}"),
                   icon=":material/warning:")
    if result.task == "regression":
        st.metric(ctx.t("calculator.prediction", target=form.target), f"{result.prediction:.3g}")
    elif result.task == "multiclass":
        st.table({ctx.t("calculator.class"): list(result.probabilities),
                  ctx.t("calculator.probability"): [f"{p:.1%}" for p in result.probabilities.values()]})
    else:
        st.metric(ctx.t("calculator.risk", target=form.target), f"{result.risk:.1%}")
        if result.calibration_bin is not None:
            here = result.calibration[result.calibration_bin]
            st.markdown(ctx.t("calculator.calibration_text", n=here.count, predicted=f"{here.predicted:.0%}",
                              observed=f"{here.observed:.0%}", lower=f"{here.observed_lower:.0%}",
                              upper=f"{here.observed_upper:.0%}"))
            st.plotly_chart(_calibration_chart(ctx, result), width="stretch", key="calc_calibration")
        else:
            st.info(ctx.t("calculator.no_calibration"), icon=":material/info:")
    st.subheader(ctx.t("calculator.factors"))
    if result.task == "multiclass":
        st.info(ctx.t("calculator.not_explainable_multiclass", n=len(result.probabilities)), icon=":material/info:")
        return
    if not result.explained:
        st.info(ctx.t("calculator.not_explainable", model=family_name(ctx, result.model_name)), icon=":material/info:")
        return
    regression = result.task == "regression"
    st.caption(ctx.t("calculator.factors_caption_regression" if regression else "calculator.factors_caption"))
    st.plotly_chart(_factors_chart(ctx, result), width="stretch", key="calc_factors")
