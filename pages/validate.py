"""External validation: check a shared model on one's own cohort, beside the development results.

A collaborator (or a member) uploads a file; the columns are checked against the model's inputs
and every problem is named; the validation runs as a job; the report shows discrimination,
calibration with recalibration, net benefit and subgroups for both cohorts. The uploader chooses to
keep the data in a space only they can see, or (the default) to discard it. The project owner reads
the aggregate reports, never the rows."""

from __future__ import annotations

import streamlit as st

from pages import _validate_report as report_part
from pages import _validate_upload as upload_part
from pages._run_picker import pick_run
from pages._shell import attempt, page_context
from permissions.actions import Action
from workbench.services import results, validation

ctx = page_context()
st.title(ctx.t("validation.title"))
st.caption(ctx.t("validation.caption"))

if not results.can(ctx.workbench, ctx.actor, Action.MODEL_VALIDATE_EXTERNAL, project_id=ctx.project_id,
                   part="validation"):
    st.info(ctx.t("validation.not_shared"), icon=":material/lock:")
    st.stop()

run_id, _ = pick_run(ctx, key="val_run", label_key="validation.run", empty_key="validation.no_runs",
                     action=Action.MODEL_VALIDATE_EXTERNAL, part="validation")
inputs = attempt(ctx.lang, validation.validation_inputs, ctx.workbench, ctx.actor, run_id)
if inputs is None:
    st.stop()

new, earlier = st.tabs([ctx.t("validation.tab_new"), ctx.t("validation.tab_reports")])
with new:
    upload_part.render(ctx, inputs)
with earlier:
    report_part.history(ctx, run_id)
