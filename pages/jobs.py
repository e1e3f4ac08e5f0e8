"""Long work of the current project: state, progress, cancel. Survives a closed tab."""

from __future__ import annotations

import streamlit as st

from permissions.actions import Action
from pages._shell import page_context, succeeded
from workbench.i18n import t
from workbench.jobs import TERMINAL_STATES
from workbench.jobs.status import job_status_line
from workbench.services.job_control import cancel_job, project_jobs

ctx = page_context()
st.title(ctx.t("jobs.title"))
st.caption(ctx.t("jobs.caption"))


@st.fragment(run_every=2)
def _jobs() -> None:
    jobs = project_jobs(ctx.workbench, ctx.actor, ctx.project_id)
    if not jobs:
        st.info(ctx.t("jobs.none"))
        return
    for job in jobs:
        with st.container(border=True):
            head, state, action = st.columns([4, 2, 1])
            head.markdown(f"**#{job.id} · {ctx.t('jobs.kind.' + job.kind)}**  \n"
                          f"{job.created_at:%Y-%m-%d %H:%M} UTC")
            state.markdown(ctx.t("jobs.state." + job.state))
            if job.state not in TERMINAL_STATES:
                st.progress(job.progress, text=job_status_line(job, ctx.lang) or ctx.t("jobs.state." + job.state))
                if ctx.can(Action.TRAINING_CANCEL) and action.button(ctx.t("jobs.cancel"), key=f"cancel-{job.id}"):
                    succeeded(ctx.lang, cancel_job, ctx.workbench, ctx.actor, job.id)
            elif job.state == "failed" and job.error_key:
                st.error(t(job.error_key, ctx.lang, **job.error_params))
            elif job.state == "succeeded" and job.status_text:
                st.success(job_status_line(job, ctx.lang))


_jobs()
