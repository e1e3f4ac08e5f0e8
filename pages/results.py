"""Results: compare runs and models (leaderboard with CIs; in tabs: the performance table at the chosen
threshold, overlaid curves, DeLong, subgroups, what drives the predictions, trial history, settings side
by side), choose the model to report, and share results with collaborators.

Evaluations are computed once per model and options by the ``evaluate`` job and read back after
(the page shows the job's progress and never computes a bootstrap itself); a collaborator sees what
the owner shared and never a patient row."""

from __future__ import annotations

import streamlit as st

from pages import _comments
from pages import _results_evaluation as evaluation
from pages import _results_parts as parts
from pages import _results_tables as tables
from pages._lazy_tabs import lazy_tabs
from pages._run_picker import pick_models, pick_run
from pages._shell import attempt, page_context
from permissions.actions import Action
from workbench.i18n import key
from workbench.services import results

ctx = page_context()

st.title(ctx.t("results.title"))
st.caption(ctx.t("results.caption"))

if not results.can(ctx.workbench, ctx.actor, Action.RESULTS_VIEW, project_id=ctx.project_id, part="metrics"):
    st.info(ctx.t("results.not_shared"), icon=":material/lock:")
    st.stop()

parts.sharing(ctx)
run_id, runs = pick_run(ctx, key="res_run", label_key="results.run", empty_key="results.no_runs")
view = attempt(ctx.lang, results.run_results, ctx.workbench, ctx.actor, run_id)
if view is None:
    st.stop()

features = [str(c) for c in view.summary.get("features", [])]
with st.expander(ctx.t("results.options"), icon=":material/tune:"):
    rule = st.radio(ctx.t("results.threshold_rule"), ["youden", "sensitivity", "specificity", "fixed"], horizontal=True,
                    key=f"res_rule_{run_id}", format_func=lambda r: ctx.t(key("results.rule_", r)))
    target = None
    if rule != "youden":
        target = st.number_input(ctx.t("results.threshold_target"), 0.01, 0.99, 0.9 if rule != "fixed" else 0.5, 0.01,
                                 key=f"res_target_{run_id}")
    groups = st.multiselect(ctx.t("results.subgroups"), features,
                            default=list(results.suggested_subgroups(features, view.task)), key=f"res_groups_{run_id}",
                            disabled=view.task != "binary", select_all=ctx.select_all, placeholder=ctx.t("app.choose"))
    configured = int(ctx.workbench.settings.bootstrap_resamples)  # what was evaluated after training
    resamples = st.select_slider(ctx.t("results.resamples"), sorted({200, 500, 1000, 2000, 5000, configured}),
                                 value=configured, key=f"res_resamples_{run_id}", help=ctx.t("results.resamples_help"))
options = results.default_options(ctx.workbench, threshold_rule=rule, threshold_target=target,
                                  subgroup_columns=tuple(groups), n_resamples=int(resamples))
st.session_state[f"res_options_{run_id}"] = options  # the export page evaluates with the same choice

ids = [r.model_id for r in view.rows]
# stored evaluations at once; the evaluate job computes the others (never this request)
evaluations = evaluation.evaluations(ctx, view, options)

st.subheader(ctx.t("results.leaderboard"))
parts.leaderboard(ctx, view, evaluations)
parts.choose(ctx, view)


def _curves() -> None:
    shown = pick_models(ctx, view, key=f"res_curves_{run_id}", label_key="results.curves_models", default=ids[:3])
    parts.curves(ctx, view, {m: evaluations[m] for m in shown if m in evaluations})


# The rest in tabs of which only the open one runs and is drawn (each holds a table, charts or a test).
panels = {}
shares_tables = tables.has_tables(ctx, view)
if evaluations and shares_tables:  # first: a plain table opens at once; charts load when chosen
    panels["performance"] = ("results.perf_tab", lambda: tables.performance(ctx, view, options, evaluations))
if view.task in ("binary", "multiclass") and evaluations:
    panels["curves"] = ("results.curves", _curves)
if view.task == "binary" and evaluations and len(view.rows) >= 2:
    panels["delong"] = ("results.delong", lambda: parts.delong(ctx, view))
if view.task == "binary" and evaluations and shares_tables:
    panels["subgroups"] = ("results.table_subgroups", lambda: tables.subgroups(ctx, view, options))
if evaluation.has_explanations(view, evaluations):
    panels["explain"] = ("results.explain", lambda: evaluation.explanations(ctx, view, evaluations))
if view.trials:
    panels["trials"] = ("results.trials", lambda: parts.trials(ctx, view))
panels["runs"] = ("results.compare", lambda: parts.compare(ctx, runs))
lazy_tabs(ctx, panels, key=f"res_tab_{run_id}", remembered="res_panel")

_comments.panel(ctx, run_id)
