"""The run and model pickers of the results, export, calculator and validation pages.

One way to name a run everywhere (number, time, best model and its score), listed through the
action and shared part the page needs (a collaborator may reach runs through the paper pack or the
validation facet only), newest first. A project without a finished run gets the page's own hint
and the page stops there."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from pages._shell import PageContext, attempt
from permissions.actions import Action
from workbench.services import results

__all__ = ["run_label", "pick_run", "pick_models"]


def run_label(ctx: PageContext, run: results.RunOverview) -> str:
    return ctx.t("results.run_label", run=run.run_id, when=f"{run.created_at:%Y-%m-%d %H:%M}", best=run.best,
                 metric=run.metric, score=f"{run.best_cv or 0:.3f}")


def pick_run(ctx: PageContext, *, key: str, label_key: str, empty_key: str, action: Action = Action.RESULTS_VIEW,
             part: str = "metrics") -> tuple[int, list[results.RunOverview]]:
    """The chosen run's id and every run the picker offered (the results page compares them)."""
    runs = attempt(ctx.lang, results.project_runs, ctx.workbench, ctx.actor, ctx.project_id, action=action,
                   part=part) or []
    if not runs:
        st.info(ctx.t(empty_key), icon=":material/model_training:")
        st.stop()
    by_id = {r.run_id: r for r in runs}
    run_id = st.selectbox(ctx.t(label_key), list(by_id), key=key, format_func=lambda rid: run_label(ctx, by_id[rid]))
    return int(run_id), runs


def pick_models(ctx: PageContext, view: results.RunResults, *, key: str, label_key: str,
                default: Sequence[int]) -> list[int]:
    """Models of the run to draw or export together, named as on the leaderboard."""
    ids = [r.model_id for r in view.rows]
    return list(st.multiselect(ctx.t(label_key), ids, default=[m for m in default if m in ids],
                               format_func=view.label, key=key))
