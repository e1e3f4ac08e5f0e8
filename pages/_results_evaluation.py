"""The results page's evaluation: the stored evaluations at once, the ``evaluate`` job's progress
while it computes the rest (refreshed, so the tab can be closed and reopened), and what drives each
model's predictions (permutation importance and mean |SHAP|, named by the real inputs).

Nothing here computes a bootstrap: a page request only reads what the job stored.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from pages._chart_style import simple_white
from pages._run_picker import metric_name, model_namer
from pages._shell import PageContext, attempt, succeeded
from permissions.actions import Action
from pipelines.figures import PALETTE
from workbench.i18n import t
from workbench.jobs.status import status_line
from workbench.services import evaluation_job, results
from workbench.services.job_control import cancel_job

__all__ = ["evaluations", "explanations", "has_explanations"]

_REFRESH_SECONDS = 2
_TOP = 15


def _status(ctx: PageContext, run_id: int, options: results.EvalOptions) -> evaluation_job.EvaluationStatus | None:
    return attempt(ctx.lang, evaluation_job.evaluation_status, ctx.workbench, ctx.actor, run_id=run_id, options=options)


def evaluations(ctx: PageContext, view: results.RunResults, options: results.EvalOptions) -> dict[int, Any]:
    """The stored evaluations for ``options``; starts the job for missing ones (once: a failed or
    cancelled job is shown with a button instead of being restarted on every rerun)."""
    status = _status(ctx, view.run_id, options)
    if status is None:
        return {}
    if status.pending and status.state not in ("queued", "running", "failed", "cancelled"):
        if attempt(ctx.lang, evaluation_job.request_evaluation, ctx.workbench, ctx.actor, run_id=view.run_id,
                   options=options) is not None:
            status = _status(ctx, view.run_id, options) or status
    if status.running:
        _progress(ctx, view, status)
    elif status.pending and status.state in ("failed", "cancelled"):
        if status.state == "failed" and status.error_key:
            st.error(t(status.error_key, ctx.lang, **status.error_params), icon=":material/error:")
        else:
            st.warning(ctx.t("results.evaluation_cancelled"), icon=":material/stop_circle:")
        if st.button(ctx.t("results.evaluate_again"), key=f"res_eval_again_{view.run_id}", icon=":material/refresh:"):
            if succeeded(ctx.lang, evaluation_job.request_evaluation, ctx.workbench, ctx.actor, run_id=view.run_id,
                         options=options):
                st.rerun()
    return status.evaluations


def _progress(ctx: PageContext, view: results.RunResults, first: evaluation_job.EvaluationStatus) -> None:
    """A progress bar that follows the job; the whole page reruns when a model is done."""

    @st.fragment(run_every=_REFRESH_SECONDS)
    def _live() -> None:
        status = attempt(ctx.lang, evaluation_job.evaluation_status, ctx.workbench, ctx.actor, run_id=view.run_id,
                         options=first.options, read=False)  # counts only: nothing decoded every 2 s
        if status is None:
            return
        if not status.running or len(status.pending) < len(first.pending):
            st.rerun()  # new numbers to show (or the job ended): redraw the page around them
        live = status.live
        # the job's own line names the model by its number; here it is named as in the results table
        total = live.get("models_total", len(status.pending))
        if live.get("model_id"):
            text = status_line("results.evaluation_progress", {
                "number": int(live.get("models_done", 0)) + 1, "total": total,
                "model": model_namer(ctx, view)(int(live["model_id"])), "step": str(live.get("step", "start"))}, ctx.lang)
        else:  # queued, or the job has not named its first model yet
            text = ctx.t("results.evaluation_starting", total=total)
        st.progress(status.fraction, text=text)
        st.caption(ctx.t("results.evaluation_background", n=status.options.n_resamples))
        if ctx.can(Action.TRAINING_CANCEL) and st.button(ctx.t("results.evaluation_cancel"), icon=":material/stop_circle:",
                                                         key=f"res_eval_cancel_{view.run_id}_{status.job_id}"):
            succeeded(ctx.lang, cancel_job, ctx.workbench, ctx.actor, status.job_id)

    _live()


def _bars(names: list[str], values: list[float], *, title: str, color: str,
          low: list[float] | None = None, high: list[float] | None = None) -> go.Figure:
    names, values = names[::-1], values[::-1]  # the largest at the top
    error = None
    if low is not None and high is not None:
        low, high = low[::-1], high[::-1]
        error = dict(type="data", symmetric=False, array=[h - v for h, v in zip(high, values)],
                     arrayminus=[v - lo for v, lo in zip(values, low)], color="#555555", thickness=1)
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=color, error_x=error))
    simple_white(fig).update_layout(height=max(260, 26 * len(names) + 80), margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title=title), yaxis=dict(automargin=True))
    return fig


def _explained(view: results.RunResults, evaluated: dict[int, Any]) -> list[int]:
    return [m for m in (r.model_id for r in view.rows) if m in evaluated and evaluated[m].importance is not None]


def has_explanations(view: results.RunResults, evaluated: dict[int, Any]) -> bool:
    return bool(_explained(view, evaluated))


def explanations(ctx: PageContext, view: results.RunResults, evaluated: dict[int, Any]) -> None:
    """Permutation importance (every model) beside mean |SHAP| (models that break down exactly)."""
    ids = _explained(view, evaluated)
    if not ids:
        return
    default = ids.index(view.reported_model_id) if view.reported_model_id in ids else 0
    model_id = st.selectbox(ctx.t("results.explain_model"), ids, index=default, format_func=model_namer(ctx, view),
                            key=f"res_explain_{view.run_id}")
    e = evaluated[model_id]
    left, right = st.columns(2)
    imp = e.importance
    order = sorted(range(len(imp.features)), key=lambda i: -float(imp.mean[i]))[:_TOP]
    left.markdown("**" + ctx.t("results.explain_permutation") + "**")
    left.plotly_chart(_bars([imp.features[i] for i in order], [float(imp.mean[i]) for i in order],
                            low=[float(imp.lower[i]) for i in order], high=[float(imp.upper[i]) for i in order],
                            title=ctx.t("results.explain_permutation_x", metric=metric_name(ctx, imp.metric)), color=PALETTE[0]),
                      width="stretch", key=f"res_perm_{view.run_id}_{model_id}")
    right.markdown("**" + ctx.t("results.explain_shap") + "**")
    if e.shap_importance:
        top = list(e.shap_importance)[:_TOP]
        right.plotly_chart(_bars([name for name, _ in top], [value for _, value in top],
                                 title=ctx.t("results.explain_shap_x"), color=PALETTE[1]),
                           width="stretch", key=f"res_shap_{view.run_id}_{model_id}")
    elif e.shap_missing:
        key, params = e.shap_missing
        right.info(t(key, ctx.lang, **params), icon=":material/info:")
    st.caption(ctx.t("results.explain_note", n=len(imp.features)))
