"""The run and model pickers of the results, export, calculator and validation pages.

One way to name a run everywhere (number, time, best model and its score), listed through the
action and shared part the page needs (a collaborator may reach runs through the paper pack or the
validation facet only), newest first. A project without a finished run gets a hint for this user
(what to do next if they can train, whom to ask if they cannot) and the page stops there.

Models and metrics are named for people here too (``hist_gb`` reads "Histogram gradient boosting",
``roc_auc`` reads "AUROC"), from the same catalogue entries the Train page uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from pages._shell import PageContext, attempt
from permissions.actions import Action
from workbench.i18n import named
from workbench.services import projects, results

__all__ = ["run_label", "pick_run", "pick_models", "family_name", "metric_name", "model_namer", "no_run_hint"]


def family_name(ctx: PageContext, family: str) -> str:
    """A model family (or ``ensemble``) as the Train page names it."""
    return named("train.family.", family, ctx.lang)


def metric_name(ctx: PageContext, metric: str) -> str:
    return named("figures.metric.", metric, ctx.lang)


def model_namer(ctx: PageContext, view: results.RunResults) -> Callable[[int], str]:
    """model id -> the model's name for people (a ``format_func`` for pickers of the run's models)."""
    names = {r.model_id: family_name(ctx, r.name) for r in view.rows}
    return lambda model_id: names.get(model_id, str(model_id))


def run_label(ctx: PageContext, run: results.RunOverview) -> str:
    return ctx.t("results.run_label", run=run.run_id, when=f"{run.created_at:%Y-%m-%d %H:%M}",
                 best=family_name(ctx, run.best), metric=metric_name(ctx, run.metric), score=f"{run.best_cv or 0:.3f}")


def no_run_hint(ctx: PageContext, empty_key: str) -> str:
    """What this user can do about a project without a finished run (or, on the Train page, without
    an approved recipe): ``empty_key`` when the next step is training itself."""
    if not ctx.can(Action.TRAINING_START):  # a collaborator: runs come from the owners
        members = attempt(ctx.lang, projects.list_members, ctx.workbench, ctx.actor, ctx.project_id) or []
        owners = ", ".join(name for name, role, _ in members if role == "owner")
        return ctx.t("results.no_runs_ask_owner", owners=owners or "-")
    progress = attempt(ctx.lang, projects.project_progress, ctx.workbench, ctx.actor, ctx.project_id) or {}
    if not progress.get("upload"):
        return ctx.t("results.no_runs_no_data")
    if not progress.get("review"):
        return ctx.t("results.no_runs_no_recipe" if ctx.can(Action.RECIPE_APPROVE) else "results.no_runs_ask_approval")
    return ctx.t(empty_key)


def pick_run(ctx: PageContext, *, key: str, label_key: str, empty_key: str, action: Action = Action.RESULTS_VIEW,
             part: str = "metrics") -> tuple[int, list[results.RunOverview]]:
    """The chosen run's id and every run the picker offered (the results page compares them)."""
    runs = attempt(ctx.lang, results.project_runs, ctx.workbench, ctx.actor, ctx.project_id, action=action,
                   part=part) or []
    if not runs:
        st.info(no_run_hint(ctx, empty_key), icon=":material/model_training:")
        st.stop()
    by_id = {r.run_id: r for r in runs}
    run_id = st.selectbox(ctx.t(label_key), list(by_id), key=key, format_func=lambda rid: run_label(ctx, by_id[rid]))
    return int(run_id), runs


def pick_models(ctx: PageContext, view: results.RunResults, *, key: str, label_key: str,
                default: Sequence[int]) -> list[int]:
    """Models of the run to draw or export together, named as on the leaderboard."""
    ids = [r.model_id for r in view.rows]
    return list(st.multiselect(ctx.t(label_key), ids, default=[m for m in default if m in ids],
                               format_func=model_namer(ctx, view), key=key, select_all=ctx.select_all,
                               placeholder=ctx.t("app.choose")))
