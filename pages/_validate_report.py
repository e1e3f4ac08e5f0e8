"""The report half of the validation page: a running validation's progress, its report beside the
development results, the uploader's kept data, and the list of earlier validations."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd
import streamlit as st

from pages._results_charts import roc_chart
from pages._shell import PageContext, attempt, succeeded
from pages._validate_charts import calibration_chart, decision_chart
from pipelines.evaluation.external import ColumnIssue
from workbench.i18n import key, named, t
from workbench.jobs import TERMINAL_STATES
from workbench.jobs.status import status_line
from workbench.services import validation
from workbench.services._validation_report import SMALL_COUNT

__all__ = ["follow", "history", "show", "describe_issue"]

_METRICS = ("auroc", "auprc", "brier", "sensitivity", "specificity", "ppv", "npv")



def _n(value: Any) -> str:
    return "<5" if value is None else value if isinstance(value, str) else f"{value:,}"  # "x": hidden as well


def _signed(value: float) -> str:
    return "NA" if not math.isfinite(value) else f"{value:+.3f}".replace("-", "\u2212")


def describe_issue(ctx: Any, issue: ColumnIssue) -> str:
    """One column problem as a sentence (shared with the report's list of confirmed warnings)."""
    params: dict[str, Any] = {"column": issue.column, "found": issue.found}
    if issue.share is not None:
        params["share"] = f"{issue.share:.0%}"
    if issue.low is not None:
        params.update(low=f"{issue.low:g}", high=f"{issue.high:g}")
    if issue.kind == "type_differs":
        params["found"] = ctx.t(key("validation.found.", issue.found))
    if issue.kind == "unit_mismatch":
        params["factor"] = f"{issue.factor:.3g}"
        if issue.units:
            params.update(unit_found=issue.units[0], unit_model=issue.units[1])
            return ctx.t("validation.issue.unit_named_central" if issue.central else "validation.issue.unit_named",
                         **params)
    return ctx.t(key("validation.issue.", issue.kind + ("_central" if issue.central else "")), **params)


def follow(ctx: PageContext, validation_id: int) -> None:
    """A validation just started: its progress until it ends, then its report."""
    info = attempt(ctx.lang, validation.validation_status, ctx.workbench, ctx.actor, validation_id)
    if info is None:
        return
    st.subheader(ctx.t("validation.current", id=validation_id))
    if info.state in TERMINAL_STATES:
        show(ctx, info, where="current")
        return

    @st.fragment(run_every=2)
    def _live() -> None:
        now = attempt(ctx.lang, validation.validation_status, ctx.workbench, ctx.actor, validation_id)
        if now is None:
            return
        if now.state in TERMINAL_STATES:
            st.rerun()
        stage = status_line(now.status_text, None, ctx.lang) or ctx.t("validation.queued")
        st.progress(now.progress, text=stage)
        if now.mine and st.button(ctx.t("validation.cancel"), key=f"val_cancel_{validation_id}",
                                  icon=":material/stop_circle:"):
            succeeded(ctx.lang, validation.cancel_validation, ctx.workbench, ctx.actor, validation_id)

    _live()


def _data_state(ctx: PageContext, info: validation.ValidationInfo, where: str) -> None:
    if not info.mine:
        return
    if info.data_state == "discarded":
        st.success(ctx.t("validation.discarded"), icon=":material/delete_forever:")
        return
    if info.data_state != "kept":
        return
    st.info(ctx.t("validation.kept"), icon=":material/lock:")
    with st.expander(ctx.t("validation.kept_rows")):
        rows = attempt(ctx.lang, validation.kept_rows, ctx.workbench, ctx.actor, info.id)
        if rows is not None:
            st.dataframe(rows, width="stretch", hide_index=True)
        if st.button(ctx.t("validation.delete_kept"), key=f"val_delete_{where}_{info.id}", icon=":material/delete:"):
            if succeeded(ctx.lang, validation.delete_kept_data, ctx.workbench, ctx.actor, info.id):
                st.rerun()


def show(ctx: PageContext, info: validation.ValidationInfo, *, where: str) -> None:
    """An ended validation: why it stopped, or its report; and what became of the data."""
    if not info.mine:
        st.caption(ctx.t("validation.uploaded_by", who=info.uploader_name, when=f"{info.created_at:%Y-%m-%d %H:%M}"))
    if info.state == "failed":
        st.error(t(info.error_key or "validation.internal_error", ctx.lang, **info.error_params),
                 icon=":material/error:")
    elif info.state == "cancelled":
        st.warning(ctx.t("validation.was_cancelled"))
    if info.state == "succeeded":
        report = attempt(ctx.lang, validation.validation_report, ctx.workbench, ctx.actor, info.id)
        if report is not None:
            _report(ctx, report, f"{where}_{info.id}")
    _data_state(ctx, info, where)


def _metrics_table(ctx: PageContext, cohorts: list[Any]) -> pd.DataFrame:
    rows = {}
    hidden = ctx.t("figures.table.metric_suppressed")  # as the exported tables print it, not "NA"
    for name in _METRICS:
        rows[ctx.t(key("figures.metric.", name))] = [hidden if name in c.hidden_measures else
                                                     c.part.metrics.estimates()[name].format(3, lang=ctx.lang)
                                                     for c in cohorts]
    rows[ctx.t("validation.citl")] = [c.recalibration.intercept.format(3, lang=ctx.lang) for c in cohorts]
    rows[ctx.t("validation.slope")] = [c.recalibration.slope.format(3, lang=ctx.lang) for c in cohorts]
    rows[ctx.t("validation.patients")] = [f"{_n(c.part.n)} ({_n(c.part.metrics.n_positive)})" for c in cohorts]
    return pd.DataFrame(rows, index=[c.label for c in cohorts]).T


def _subgroup_table(ctx: PageContext, cohorts: list[Any]) -> pd.DataFrame | None:
    if any(c.subgroups is None for c in cohorts):
        return None
    out: dict[tuple[str, str], dict[str, str]] = {}
    for c in cohorts:
        for row in c.subgroups.rows:
            auroc = row.metrics.get("auroc")
            entry = out.setdefault((row.variable, row.level), {})
            entry[ctx.t("validation.col.n", cohort=c.label)] = f"{_n(row.n)} ({_n(row.n_positive)})"
            entry[ctx.t("validation.col.auroc", cohort=c.label)] = auroc.format(3, lang=ctx.lang) if auroc else \
                ctx.t(key("validation.subgroup_note.", row.note or "too_small"))
    frame = pd.DataFrame.from_dict(out, orient="index").fillna("")
    frame.index = [f"{variable} = {level}" for variable, level in frame.index]
    return frame


def _report(ctx: PageContext, report: Any, slot: str) -> None:
    dev = dataclasses.replace(report.development, label=ctx.t("validation.cohort_development"))
    ext = dataclasses.replace(report.external, label=ctx.t("validation.cohort_external"))
    cohorts = [dev, ext]
    columns = st.columns(4)
    columns[0].metric(ctx.t("validation.patients_external"), _n(ext.part.n))
    columns[1].metric(ctx.t("validation.events_external"), _n(ext.part.metrics.n_positive))
    columns[2].metric(ctx.t("validation.auroc_external"), f"{ext.part.metrics.auroc.value:.3f}",
                      delta=f"{ext.part.metrics.auroc.value - dev.part.metrics.auroc.value:+.3f}",
                      help=ctx.t("validation.auroc_delta_help"))
    columns[3].metric(ctx.t("validation.slope"), f"{ext.recalibration.slope.value:.2f}")
    st.caption(ctx.t("validation.report_caption", model=named("train.family.", report.model_label, ctx.lang),
                     target=report.target,
                     event=report.positive_label, threshold=f"{report.threshold.value:.3f}",
                     excluded=_n(report.n_excluded), n=report.n_resamples))
    if report.suppressed:
        st.caption(ctx.t("validation.suppressed_note"))
    for issue in report.warnings:
        st.warning(ctx.t("validation.confirmed_warning", text=describe_issue(ctx, issue)), icon=":material/warning:")
    st.markdown("**" + ctx.t("validation.metrics_title") + "**")
    st.table(_metrics_table(ctx, cohorts))
    if any(c.hidden_measures for c in cohorts):
        st.caption(ctx.t("figures.table.note_metric_suppressed", label=ctx.t("figures.table.metric_suppressed"),
                         limit=SMALL_COUNT - 1))
    left, right = st.columns(2)
    left.plotly_chart(roc_chart(cohorts, x=ctx.t("results.roc_x"), y=ctx.t("results.roc_y"), lang=ctx.lang),
                      width="stretch", key=f"val_roc_{slot}")
    right.plotly_chart(calibration_chart(cohorts, recalibrated=ext.recalibrated, x=ctx.t("validation.predicted"),
                                         y=ctx.t("validation.observed"),
                                         recalibrated_name=ctx.t("validation.recalibrated")),
                       width="stretch", key=f"val_cal_{slot}")
    recal = ext.recalibration
    direction = "low" if recal.intercept.value > 0 else "high"
    st.markdown(ctx.t(key("validation.recal_text_", direction), citl=recal.intercept.format(3, lang=ctx.lang),
                      slope=recal.slope.format(3, lang=ctx.lang)))
    st.caption(ctx.t("validation.recal_formula", a=_signed(recal.slope_intercept), b=f"{recal.slope.value:.3f}"))
    st.markdown("**" + ctx.t("validation.decision_title") + "**")
    st.plotly_chart(decision_chart(cohorts, x=ctx.t("validation.dca_x"), y=ctx.t("validation.dca_y"),
                                   treat_all=ctx.t("validation.treat_all"), treat_none=ctx.t("validation.treat_none")),
                    width="stretch", key=f"val_dca_{slot}")
    table = _subgroup_table(ctx, cohorts)
    if table is not None:
        st.markdown("**" + ctx.t("validation.subgroups_title") + "**")
        st.table(table)


def history(ctx: PageContext, run_id: int) -> None:
    """Earlier validations of this run: all of them for the owner, one's own for a collaborator."""
    found = attempt(ctx.lang, validation.list_validations, ctx.workbench, ctx.actor, ctx.project_id, run_id=run_id)
    if not found:
        st.caption(ctx.t("validation.none_yet"))
        return
    by_id = {v.id: v for v in found}

    def label(vid: int) -> str:
        v = by_id[vid]
        auroc = v.summary.get("auroc")
        return ctx.t("validation.history_label", id=vid, when=f"{v.created_at:%Y-%m-%d %H:%M}",
                     who=ctx.t("validation.by_you") if v.mine else v.uploader_name,
                     state=ctx.t(key("jobs.state.", v.state)), auroc="-" if auroc is None else f"{auroc:.3f}")

    chosen = st.selectbox(ctx.t("validation.history"), list(by_id), format_func=label, key=f"val_history_{run_id}")
    show(ctx, by_id[chosen], where="history")
