"""Risk calculator: one patient's values in, the model's predicted risk out, with its place on the
holdout calibration curve and the inputs that raised or lowered it.

The values typed here live only in this rerun: they are not kept in the session or stored, and
the prediction is audited without them."""

from __future__ import annotations

import dataclasses

import streamlit as st

from pages import _calculator_form as form_part
from pages import _calculator_result as result_part
from pages._run_picker import family_name, pick_run
from pages._shell import attempt, page_context
from permissions.actions import Action
from workbench.services import calculator, results

ctx = page_context()
st.title(ctx.t("calculator.title"))
st.caption(ctx.t("calculator.caption"))

if not results.can(ctx.workbench, ctx.actor, Action.MODEL_PREDICT, project_id=ctx.project_id):
    st.info(ctx.t("calculator.not_allowed"), icon=":material/lock:")
    st.stop()

run_id, _ = pick_run(ctx, key="calc_run", label_key="calculator.run", empty_key="calculator.no_runs")
form = attempt(ctx.lang, calculator.calculator_form, ctx.workbench, ctx.actor, run_id)
if form is None:
    st.stop()
form = dataclasses.replace(form, model_name=family_name(ctx, form.model_name))  # "XGBoost", not its code

values = form_part.inputs(ctx, form)
if values is not None:
    result = attempt(ctx.lang, calculator.predict_risk, ctx.workbench, ctx.actor, run_id=run_id, values=values)
    if result is not None:
        result_part.show(ctx, form, result)
