"""Train: recommended settings with their reasons, overrides for data scientists, start, live
progress, cancel, and the leaderboard. The state lives in the database, so the page can be closed
and reopened at any time."""

from __future__ import annotations

import streamlit as st

from pages._run_picker import no_run_hint
from pages._shell import attempt, page_context
from pages._train_progress import show_training
from pages._train_settings import settings_form, show_recommended
from permissions.actions import Action
from workbench.services import training

ctx = page_context()
st.title(ctx.t("train.title"))
st.caption(ctx.t("train.caption"))

jobs = attempt(ctx.lang, training.training_jobs, ctx.workbench, ctx.actor, ctx.project_id) or []


def _new_training() -> None:
    if not (ctx.can(Action.TRAINING_START) and ctx.can(Action.RECIPE_VIEW)):
        return
    with st.container(border=True):
        st.subheader(ctx.t("train.new"))
        recipes = attempt(ctx.lang, training.trainable_recipes, ctx.workbench, ctx.actor, ctx.project_id) or []
        if not recipes:
            st.info(no_run_hint(ctx, "train.no_approved_recipe"), icon=":material/rule:")
            return
        by_id = {version.id: (version, approval) for version, approval in recipes}
        version_id = st.selectbox(
            ctx.t("train.recipe"), list(by_id), key="train_recipe",
            format_func=lambda vid: ctx.t("train.recipe_option", version=by_id[vid][0].version,
                                          approved=f"{by_id[vid][1].approved_at:%Y-%m-%d %H:%M}"))
        cache_key = f"train_rec_{version_id}_{len(jobs)}"
        if cache_key not in st.session_state:  # settings and reasons only: no patient rows
            with st.spinner(ctx.t("train.recommending")):
                st.session_state[cache_key] = attempt(ctx.lang, training.recommended_settings, ctx.workbench,
                                                      ctx.actor, recipe_version_id=version_id)
        rec = st.session_state[cache_key]
        if rec is None:
            return
        show_recommended(ctx, rec)
        choice = settings_form(ctx, rec, project_id=ctx.project_id)
        label = ctx.t("train.start_own") if choice is not None and choice.settings is not None \
            else ctx.t("train.start_recommended")
        if st.button(label, type="primary", icon=":material/play_arrow:", disabled=choice is None, key="train_start"):
            job_id = attempt(ctx.lang, training.start_training, ctx.workbench, ctx.actor, recipe_version_id=version_id,
                             settings=choice.settings, overrides_text=choice.overrides_text, n_folds=choice.n_folds,
                             distributed=choice.distributed)
            if job_id is not None:
                st.session_state["train_started"] = job_id
                st.rerun()


def _runs() -> None:
    st.subheader(ctx.t("train.runs"))
    if not jobs:
        st.caption(ctx.t("train.no_runs"))
        return
    by_job = {job.id: job for job in jobs}
    started = st.session_state.pop("train_started", None)
    if started in by_job:
        st.session_state["train_job"] = started
    elif st.session_state.get("train_job") not in by_job:
        st.session_state["train_job"] = jobs[0].id
    job_id = st.selectbox(ctx.t("train.show_job"), list(by_job), key="train_job",
                          format_func=lambda jid: ctx.t("train.job_option", job_id=jid,
                                                        created=f"{by_job[jid].created_at:%Y-%m-%d %H:%M}"))
    show_training(ctx, job_id)


# A training under way or finished comes first: that is what a returning user looks for.
if jobs:
    _runs()
    _new_training()
else:
    _new_training()
    _runs()
