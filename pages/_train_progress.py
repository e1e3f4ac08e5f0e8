"""The live part of the Train page: progress, cancel and the leaderboard filling as trials finish.

Everything is read from the job and run rows, so closing the tab and coming back shows the same.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._run_picker import metric_name
from pages._shell import PageContext, attempt, succeeded
from permissions.actions import Action
from workbench.i18n import named, t
from workbench.jobs import TERMINAL_STATES
from workbench.services import training
from workbench.services.job_control import cancel_job

__all__ = ["show_training"]

_REFRESH_SECONDS = 2


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _minutes(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _calibration(ctx: PageContext, method: str) -> str:
    """``none`` / ``sigmoid`` / ``isotonic`` / ``not applicable`` named for people."""
    return named("train.calibration.", str(method).replace(" ", "_"), ctx.lang)


def _live_table(ctx: PageContext, rows: tuple[dict, ...], metric: str) -> pd.DataFrame:
    return pd.DataFrame({
        ctx.t("train.col.model"): [ctx.t("train.family." + r["family"]) for r in rows],
        ctx.t("train.col.cv", metric=metric): [f"{_score(r['cv_mean'])} ± {_score(r.get('cv_sd'))}" for r in rows],
        ctx.t("train.col.test", metric=metric): [_score(r.get("test_score")) for r in rows],
        ctx.t("train.col.device"): [r.get("device", "") for r in rows],
    })


def _run_table(ctx: PageContext, view: training.RunView) -> pd.DataFrame:
    metric = metric_name(ctx, view.summary["metric"])
    rows = view.summary["leaderboard"]
    return pd.DataFrame({
        ctx.t("train.col.rank"): [r["rank"] for r in rows],
        ctx.t("train.col.model"): [ctx.t("train.family." + r["name"]) for r in rows],
        ctx.t("train.col.cv", metric=metric): [f"{_score(r['cv_mean'])} ± {_score(r['cv_sd'])}" for r in rows],
        ctx.t("train.col.test", metric=metric): [_score(r["test_score"]) for r in rows],
        ctx.t("train.col.calibration"): [_calibration(ctx, r["calibration"]) for r in rows],
        ctx.t("train.col.final"): ["✓" if r["final"] else "" for r in rows],
    })


def _trials_table(ctx: PageContext, trials: tuple[dict, ...]) -> pd.DataFrame:
    return pd.DataFrame({
        "#": [tr["number"] for tr in trials],
        ctx.t("train.col.model"): [ctx.t("train.family." + tr["family"]) for tr in trials],
        ctx.t("train.col.state"): [ctx.t("train.trial_state." + tr["state"]) for tr in trials],
        ctx.t("train.col.value"): [_score(tr["value"]) for tr in trials],
        ctx.t("train.col.seconds"): [round(tr["seconds"], 2) for tr in trials],
        ctx.t("train.col.device"): [tr["device"] for tr in trials],
        ctx.t("train.col.params"): [", ".join(f"{k}={v}" for k, v in tr["params"].items()) for tr in trials],
    })


def _body(ctx: PageContext, job_id: int) -> None:
    progress = attempt(ctx.lang, training.run_progress, ctx.workbench, ctx.actor, job_id)
    if progress is None:
        return
    metric = metric_name(ctx, progress.metric) if progress.metric else "-"
    st.markdown(f"**{ctx.t('train.job', job_id=progress.job_id)}** · {ctx.t('train.state.' + progress.state)}")
    trials = str(progress.trials_done) + (f" / {progress.trials_total}" if progress.trials_total else "")
    elapsed = _minutes(progress.elapsed_s) + (f" / {_minutes(progress.time_budget_s)}" if progress.time_budget_s else "")
    best = _score(progress.best_score)
    columns = st.columns(4)
    columns[0].metric(ctx.t("train.trials_done"), trials)
    columns[1].metric(ctx.t("train.best_so_far", metric=metric), best,
                      help=ctx.t("train.best_help", family=ctx.t("train.family." + progress.best_family), metric=metric)
                      if progress.best_family else None)
    columns[2].metric(ctx.t("train.elapsed"), elapsed)
    columns[3].metric(ctx.t("train.device_used"), (progress.device or "-").upper())
    # Blocks whose number of elements changes between refreshes sit in their own containers, so a
    # refresh replaces them instead of leaving stale copies behind.
    with st.container():
        for notice in progress.notices:
            if notice.key.startswith(("training.device", "training.gpu", "training.override")):
                st.caption(t(notice.key, ctx.lang, **notice.params))
    with st.container():
        _state(ctx, progress, job_id)
    st.subheader(ctx.t("train.leaderboard"))
    with st.container():
        _leaderboard(ctx, progress, metric)
    with st.container():
        if progress.trials:
            with st.expander(ctx.t("train.trials_table", count=len(progress.trials))):
                st.dataframe(_trials_table(ctx, progress.trials), hide_index=True, width="stretch")


def _state(ctx: PageContext, progress: training.TrainingProgress, job_id: int) -> None:
    if progress.state not in TERMINAL_STATES:
        st.progress(progress.fraction, text=ctx.t("train.stage." + progress.stage))
        if ctx.can(Action.TRAINING_CANCEL) and st.button(ctx.t("train.cancel"), key=f"train_cancel_{job_id}",
                                                         icon=":material/stop_circle:"):
            succeeded(ctx.lang, cancel_job, ctx.workbench, ctx.actor, job_id)
    elif progress.state == "failed" and progress.error_key:
        st.error(t(progress.error_key, ctx.lang, **progress.error_params))
    elif progress.state == "cancelled":
        st.warning(ctx.t("train.was_cancelled"))


def _leaderboard(ctx: PageContext, progress: training.TrainingProgress, metric: str) -> None:
    if progress.run_id is not None:
        view = attempt(ctx.lang, training.get_run, ctx.workbench, ctx.actor, progress.run_id)
        if view is not None:
            st.dataframe(_run_table(ctx, view), hide_index=True, width="stretch")
            final = view.summary["final"]
            key = "train.final_single" if final["kind"] == "single" else "train.final_ensemble"
            st.caption(ctx.t(key, calibration=_calibration(ctx, final["calibration"]),
                             n_train=view.summary["n_train"], n_test=view.summary["n_test"]))
    elif progress.leaderboard:
        st.dataframe(_live_table(ctx, progress.leaderboard, metric), hide_index=True, width="stretch")
    else:
        st.caption(ctx.t("train.leaderboard_empty"))


def show_training(ctx: PageContext, job_id: int) -> None:
    """The job's progress, refreshed every few seconds while the page is open."""

    @st.fragment(run_every=_REFRESH_SECONDS)
    def _live() -> None:
        _body(ctx, job_id)

    _live()
