"""The upload half of the validation page: what the file needs, the column check, the choices
(column mapping, subgroups, keep or discard) and the start. The check holds aggregates only and is
remembered per file and mapping, so a rerun neither reads the file again nor audits it twice."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages import _validate_report as report_part
from pages._shell import PageContext, attempt
from pages._units import unit_name
from pages._validate_report import describe_issue
from workbench.i18n import key
from workbench.services import validation

__all__ = ["render"]

_NOT_MAPPED = ""



def _needs(ctx: PageContext, inputs: validation.InputsView) -> None:
    rows = []
    for field in inputs.fields:
        if field.kind == "numeric" and field.train_min is not None:
            values = ctx.t("validation.needs_range_central" if field.central else "validation.needs_range",
                           low=f"{field.train_min:g}", high=f"{field.train_max:g}", unit=unit_name(ctx, field.unit))
        elif field.kind == "binary":
            values = "0 / 1"
        elif field.kind == "numeric":
            values = ctx.t("validation.needs_numbers")
        else:
            values = ", ".join(map(str, field.categories[:12]))
        rows.append({ctx.t("validation.col.column"): field.name, ctx.t("validation.col.values"): values})
    with st.expander(ctx.t("validation.needs", n=len(inputs.fields), outcome=inputs.outcome_column,
                           event=inputs.positive_label), icon=":material/checklist:"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _mapping(ctx: PageContext, check: validation.CohortCheck, file_id: str) -> dict[str, str]:
    """A column of the file for each input it lacks (the look-alike is suggested, never assumed)."""
    lacking = [i for i in check.columns.issues if i.kind in ("missing", "renamed")]
    chosen = dict(st.session_state.get(f"val_map_{file_id}", {}))
    if not lacking and not chosen:
        return chosen
    st.markdown("**" + ctx.t("validation.map_title") + "**")
    options = [_NOT_MAPPED, *check.file_columns]
    for name in sorted({*(i.column for i in lacking), *chosen}):
        current = chosen.get(name, _NOT_MAPPED)
        value = st.selectbox(ctx.t("validation.map_column", column=name), options,
                             index=options.index(current) if current in options else 0,
                             format_func=lambda c: c or ctx.t("validation.map_none"), key=f"val_map_{file_id}_{name}")
        if value:
            chosen[name] = value
        else:
            chosen.pop(name, None)
    return chosen


def _check(ctx: PageContext, run_id: int, upload: Any, renames: dict[str, str]) -> validation.CohortCheck | None:
    checked = (upload.file_id, run_id, tuple(sorted(renames.items())))
    cached = st.session_state.get("val_check")
    if cached and cached[0] == checked:
        return cached[1]
    check = attempt(ctx.lang, validation.check_cohort, ctx.workbench, ctx.actor, run_id=run_id,
                    data=upload.getvalue(), filename=upload.name, renames=renames)
    if check is not None:
        st.session_state["val_check"] = (checked, check)
    return check


def _show_check(ctx: PageContext, check: validation.CohortCheck, inputs: validation.InputsView) -> None:
    for issue in check.columns.errors:
        st.error(describe_issue(ctx, issue), icon=":material/error:")
    if not check.columns.outcome_found:
        st.error(ctx.t("validation.issue.outcome", outcome=inputs.outcome_column, event=inputs.positive_label),
                 icon=":material/error:")
    for issue in check.columns.warnings:
        st.warning(describe_issue(ctx, issue), icon=":material/warning:")
    if check.ready:
        st.success(ctx.t("validation.check_ok", read=check.n_read, used=check.n_used, events=check.n_events),
                   icon=":material/check:")


def render(ctx: PageContext, inputs: validation.InputsView) -> None:
    _needs(ctx, inputs)
    round_ = st.session_state.get("val_round", 0)  # a new uploader after each start: the file leaves the page
    limit = ctx.workbench.settings.max_upload_mb  # the box's own English texts cannot be translated (streamlit#13500)
    st.caption(ctx.t("validation.file_caption", limit=limit))
    upload = st.file_uploader(ctx.t("validation.file"), key=f"val_file_{round_}", max_upload_size=limit,
                              type=["csv", "tsv", "txt", "gz", "xlsx", "xls", "parquet", "sav", "sas7bdat", "dta"])
    current = st.session_state.get("val_current")
    if upload is None:
        if current is not None:
            report_part.follow(ctx, current)
        return
    renames = dict(st.session_state.get(f"val_map_{upload.file_id}", {}))
    check = _check(ctx, inputs.run_id, upload, renames)
    if check is None:
        return
    _show_check(ctx, check, inputs)
    mapped = _mapping(ctx, check, upload.file_id)
    if mapped != renames:
        st.session_state[f"val_map_{upload.file_id}"] = mapped
        st.rerun()
    if not check.ready:
        return
    names = [f.name for f in inputs.fields]
    subgroups = st.multiselect(ctx.t("validation.subgroups"), names,
                               default=[c for c in ("sex", "age") if c in names], key="val_subgroups",
                               select_all=ctx.select_all, placeholder=ctx.t("app.choose"))
    configured = int(ctx.workbench.settings.bootstrap_resamples)
    resamples = st.select_slider(ctx.t("validation.resamples"), sorted({200, 500, 1000, 2000, configured}),
                                 value=configured, key="val_resamples", help=ctx.t("validation.resamples_help"))
    keep = st.radio(ctx.t("validation.data_choice"), ["discard", "keep"], key="val_keep",
                    format_func=lambda c: ctx.t(key("validation.choice_", c)))
    st.caption(ctx.t(key("validation.choice_help_", keep)))
    confirmed = True
    if check.columns.warnings:
        confirmed = st.checkbox(ctx.t("validation.confirm"), key=f"val_confirm_{upload.file_id}")
    if st.button(ctx.t("validation.start"), type="primary", icon=":material/play_arrow:"):
        started = attempt(ctx.lang, validation.start_validation, ctx.workbench, ctx.actor, run_id=inputs.run_id,
                          data=upload.getvalue(), filename=upload.name, keep=keep == "keep", renames=mapped,
                          subgroups=subgroups, accept_warnings=confirmed, resamples=int(resamples))
        if started is not None:
            st.session_state["val_current"] = started
            st.session_state.pop("val_check", None)
            st.session_state["val_round"] = round_ + 1
            st.rerun()
    if current is not None:
        report_part.follow(ctx, current)
