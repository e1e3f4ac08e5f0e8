"""Sections of the results page: leaderboard with CIs, the model to report, DeLong, run
comparison and the owner's sharing control. Each takes the page context and one run."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from pages._results_charts import pr_chart, roc_chart, trials_chart
from pages._run_picker import family_name, metric_name, model_namer
from pages._run_settings import settings_rows
from pages._shell import PageContext, attempt, succeeded
from permissions.actions import Action
from permissions.disclosure import SMALL_COUNT_THRESHOLD
from permissions.roles import FACETS
from workbench.i18n import key
from workbench.services import results
from workbench.services._measure_disclosure import WithheldEstimate

__all__ = ["leaderboard", "choose", "curves", "delong", "trials", "compare", "sharing", "FACET_ORDER"]

FACET_ORDER = ("metrics", "figures", "tables", "model_card", "paper_pack", "validation", "calculator")



def _num(value: Any, digits: int = 3) -> str:
    return "" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


_BOARD_METRICS = ("auroc", "auprc", "brier", "calibration_slope")


def leaderboard(ctx: PageContext, view: results.RunResults, evaluations: dict[int, Any]) -> None:
    """One line per model: rank, CV score, and the main metrics with their 95% CIs."""
    rows, withheld = [], False
    for row in view.rows:
        e = evaluations.get(row.model_id)
        record = {
            ctx.t("results.col.rank"): row.rank,
            ctx.t("results.col.model"): family_name(ctx, row.name) + (" \u2605" if row.model_id == view.reported_model_id else ""),
            ctx.t("results.col.cv", metric=metric_name(ctx, row.metric)): f"{_num(row.cv_mean)} \u00b1 {_num(row.cv_sd)}",
        }
        if e is not None:
            main = e.main
            estimates = main.metrics.estimates()
            names = [m for m in _BOARD_METRICS if m in estimates] if e.task == "binary" else list(estimates)
            for name in names:
                label = ctx.t(key("figures.metric.", name))
                record[ctx.t("results.col.metric", metric=label, part=ctx.t(key("results.part_", main.part)))] = \
                    estimates[name].format(3, lang=ctx.lang)
                withheld |= isinstance(estimates[name], WithheldEstimate)
        rows.append(record)
    frame = pd.DataFrame(rows).set_index(ctx.t("results.col.rank"))
    st.table(frame)
    if withheld:  # a restricted reader's multiclass macro F1 and accuracy beside a small confusion cell
        st.caption(ctx.t("figures.table.note_metric_suppressed_multiclass", label=ctx.t("figures.table.metric_suppressed"),
                         limit=SMALL_COUNT_THRESHOLD - 1))
    for row in view.rows:
        if row.time_cut:  # the first trial, shortened so that the run kept its time budget
            changes = ", ".join(f"{name} {asked} \u2192 {used}" for name, (asked, used) in row.time_cut.items())
            st.caption(ctx.t("results.time_cut", model=family_name(ctx, row.name), changes=changes))
    first = next(iter(evaluations.values()), None)
    if first is not None:
        st.caption(ctx.t("results.ci_note", n=first.options.n_resamples, seed=first.options.seed,
                         source=ctx.t(key("results.threshold_from_", first.threshold_source))))


def choose(ctx: PageContext, view: results.RunResults) -> None:
    if not ctx.can(Action.RESULTS_CHOOSE_MODEL):
        return
    done = st.session_state.pop("res_chosen_msg", None)
    if done:  # shown after the rerun that moved the star
        st.success(done, icon=":material/check:")
    ids = [r.model_id for r in view.rows]
    current = ids.index(view.reported_model_id)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = model_namer(ctx, view)
    chosen = left.selectbox(ctx.t("results.choose"), ids, index=current, key=f"res_choose_{view.run_id}",
                            format_func=name)
    if right.button(ctx.t("results.choose_button"), key=f"res_choose_btn_{view.run_id}", disabled=chosen == view.chosen_model_id):
        if succeeded(ctx.lang, results.choose_model, ctx.workbench, ctx.actor, view.run_id, chosen):
            st.session_state["res_chosen_msg"] = ctx.t("results.chosen", model=name(chosen))
            st.rerun()


def curves(ctx: PageContext, view: results.RunResults, evaluations: dict[int, Any]) -> None:
    shown = [e for e in evaluations.values() if e.task == "binary" or e.main.multiclass_curves is not None]
    if not shown:
        return
    left, right = st.columns(2)
    macro = ctx.t("export.page.macro")  # multiclass: one-vs-rest curves and their macro average
    names = {e.model_id: model_namer(ctx, view)(e.model_id) for e in shown}
    left.plotly_chart(roc_chart(shown, x=ctx.t("results.roc_x"), y=ctx.t("results.roc_y"), macro=macro, names=names,
                                lang=ctx.lang), width="stretch", key=f"res_roc_{view.run_id}")
    right.plotly_chart(pr_chart(shown, x=ctx.t("results.pr_x"), y=ctx.t("results.pr_y"), macro=macro, names=names,
                               lang=ctx.lang), width="stretch", key=f"res_pr_{view.run_id}")
    left_out = sorted({c for e in shown if e.main.multiclass_curves for c in e.main.multiclass_curves.suppressed})
    if left_out:  # a restricted reader's copy (results service): small classes' curves are not drawn
        st.caption(ctx.t("results.curves_suppressed", classes=", ".join(left_out), limit=SMALL_COUNT_THRESHOLD - 1))


def delong(ctx: PageContext, view: results.RunResults) -> None:
    if view.task != "binary" or len(view.rows) < 2:
        return
    ids = [r.model_id for r in view.rows]
    name = model_namer(ctx, view)
    a_col, b_col, part_col = st.columns(3)
    a = a_col.selectbox(ctx.t("results.delong_a"), ids, index=0, format_func=name, key=f"dl_a_{view.run_id}")
    b = b_col.selectbox(ctx.t("results.delong_b"), ids, index=1, format_func=name, key=f"dl_b_{view.run_id}")
    part = part_col.radio(ctx.t("results.part"), ["test", "train"], horizontal=True, key=f"dl_part_{view.run_id}",
                          format_func=lambda p: ctx.t(key("results.part_", p)))
    if a == b:
        st.caption(ctx.t("results.delong_same"))
        return
    test = attempt(ctx.lang, results.compare_models, ctx.workbench, ctx.actor, run_id=view.run_id, model_a=a, model_b=b,
                   part=part)
    if test is not None:
        p = "<0.001" if test.p_value < 0.001 else f"{test.p_value:.3f}"
        st.markdown(ctx.t("results.delong_result", a=name(a), b=name(b), auc_a=test.auroc_a.format(3, lang=ctx.lang),
                          auc_b=test.auroc_b.format(3, lang=ctx.lang),
                          diff=test.difference.format(3, lang=ctx.lang), p=p))


def trials(ctx: PageContext, view: results.RunResults) -> None:
    if not view.trials:
        return
    chart = trials_chart(view.trials, x=ctx.t("results.trial_number"), y=metric_name(ctx, view.metric),
                         best=ctx.t("results.best_so_far"), greater=bool(view.summary.get("greater_is_better", True)),
                         family=lambda f: family_name(ctx, f))
    st.plotly_chart(chart, width="stretch", key=f"res_trials_{view.run_id}")


def compare(ctx: PageContext, runs: list[results.RunOverview]) -> None:
    if len(runs) < 2:
        st.caption(ctx.t("results.compare_one"))
        return
    ids = [r.run_id for r in runs]
    chosen = st.multiselect(ctx.t("results.compare_pick"), ids, default=ids[:2], key="res_compare",
                            format_func=lambda rid: ctx.t("results.run_option", run=rid),
                            select_all=ctx.select_all, placeholder=ctx.t("app.choose"))
    if len(chosen) < 2:
        return
    views = attempt(ctx.lang, results.compare_runs, ctx.workbench, ctx.actor, chosen) or []
    table: dict[str, dict[str, Any]] = {}
    settings: set[str] = set()
    for v in views:  # settings labelled as on the Train page, models and metrics by name
        column = settings_rows(ctx, v)
        settings |= set(column)
        column[ctx.t("results.col.best")] = family_name(ctx, v.rows[0].name)
        column[ctx.t("results.col.cv", metric=metric_name(ctx, v.metric))] = _num(v.rows[0].cv_mean)
        column[ctx.t("results.col.test", metric=metric_name(ctx, v.metric))] = _num(v.rows[0].test_score)
        column[ctx.t("results.col.trials")] = "" if v.summary.get("n_trials") is None else str(v.summary["n_trials"])
        table[ctx.t("results.run_option", run=v.run_id)] = column
    frame = pd.DataFrame(table)
    differs = (frame.nunique(axis=1) > 1) & frame.index.isin(list(settings))  # the settings, not their results
    st.dataframe(frame, width="stretch", column_config={"_index": st.column_config.TextColumn(width="large")})
    if differs.any():
        st.caption(ctx.t("results.compare_differs", names=", ".join(frame.index[differs][:12])))
    drawn = next((v for v in views if v.summary.get("score_classes") == "drawn"), None)
    if drawn is not None:  # a restricted reader's multiclass holdout score (results._reader_scores)
        st.caption(ctx.t("results.compare_drawn", metric=metric_name(ctx, drawn.metric)))


def sharing(ctx: PageContext) -> None:
    if not ctx.can(Action.SHARING_MANAGE):
        return
    current = results.shared_facets(ctx.workbench, ctx.project_id)
    with st.form("res_share"):
        st.markdown("**" + ctx.t("results.share_title") + "**")
        st.caption(ctx.t("results.share_caption"))
        chosen = st.multiselect(ctx.t("results.share_facets"), [f for f in FACET_ORDER if f in FACETS],
                                default=sorted(current, key=FACET_ORDER.index),
                                format_func=lambda f: ctx.t(key("results.facet_", f)),
                                select_all=ctx.select_all, placeholder=ctx.t("results.share_none"))
        if st.form_submit_button(ctx.t("results.share_save")):
            if succeeded(ctx.lang, results.set_sharing, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                         facets=chosen):
                st.success(ctx.t("results.share_saved"))
