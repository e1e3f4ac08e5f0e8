"""The upload part of the data page: file, reading options, types, missing codes, identifiers."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages._shell import PAGES_DIR, PageContext, attempt
from pipelines.errors import IngestError, WorkbenchError
from pipelines.ingest import COLUMN_TYPES
from workbench.i18n import message
from workbench.services import datasets
from workbench.services.datasets import IdentifierDecision, UploadChoices

__all__ = ["render"]

_ENCODINGS = ("", "utf-8", "cp949", "utf-16", "latin-1")


def render(ctx: PageContext) -> None:
    # Streamlit 1.67 has no way to translate the box's own texts ("Upload", "per file",
    # streamlit/streamlit#13500): this line says it in the user's language, with the limit the box enforces.
    limit = ctx.workbench.settings.max_upload_mb
    st.caption(ctx.t("data.upload.caption", limit=limit))
    upload = st.file_uploader(ctx.t("data.upload.file"), key="upload_file", max_upload_size=limit,
                              type=["csv", "tsv", "txt", "gz", "xlsx", "xls", "parquet", "sav", "sas7bdat", "dta"])
    if upload is None:
        return
    staged = st.session_state.get("upload_staged")
    if staged and staged["file_id"] == upload.file_id and staged.get("error"):
        st.error(staged["error"], icon=":material/error:")  # already rejected and discarded: say it again
        return
    if not staged or staged["file_id"] != upload.file_id:
        digest = attempt(ctx.lang, datasets.stage_upload, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                         data=upload.getvalue(), filename=upload.name)
        if digest is None:
            return
        staged = {"file_id": upload.file_id, "digest": digest, "name": upload.name}
        st.session_state["upload_staged"] = staged

    left, middle, right = st.columns(3)
    encoding = left.selectbox(ctx.t("data.upload.encoding"), _ENCODINGS,
                              format_func=lambda e: e or ctx.t("data.upload.detect"))
    header_row = middle.number_input(ctx.t("data.upload.header_row"), min_value=0, max_value=1000, value=None, step=1,
                                     placeholder=ctx.t("data.upload.detect"))
    sheet_key = f"upload_sheet_{staged['digest'][:12]}"  # picked from the workbook's own sheets (below), once read
    base = UploadChoices(encoding=encoding or None, header_row=None if header_row is None else int(header_row),
                         sheet=st.session_state.get(sheet_key))
    try:
        result = datasets.read_upload(ctx.workbench, ctx.actor, project_id=ctx.project_id, raw_digest=staged["digest"],
                                      filename=staged["name"], choices=base)
    except IngestError as error:
        detected = _read_as_detected(ctx, staged) if base.read_overridden else None
        if detected is None:  # the file itself cannot be read: discarded; remember the verdict for this upload
            staged["error"] = message(error, ctx.lang)
            st.error(staged["error"], icon=":material/error:")
            return
        # only the chosen encoding, sheet or header row failed: the file stays, another choice is read at once
        st.error(message(error, ctx.lang) + " " + ctx.t("data.upload.choice_failed"), icon=":material/error:")
        _sheet_picker(ctx, right, detected, sheet_key)
        return
    except WorkbenchError as error:
        st.error(message(error, ctx.lang), icon=":material/error:")
        return

    shape = {"format": result.format.upper(), "rows": f"{len(result.frame):,}", "columns": result.frame.shape[1]}
    st.success(ctx.t("data.upload.read_ok", encoding=result.encoding_label, **shape) if result.encoding_label
               else ctx.t("data.upload.read_ok_binary", **shape))  # a workbook or Parquet file has no text encoding
    if _sheet_picker(ctx, right, result, sheet_key) and not any(w.key == "ingest.sheet_chosen" for w in result.warnings):
        st.info(ctx.t("data.upload.sheets", sheet=result.sheet, sheets=", ".join(result.sheet_names)))
    for warning in result.warnings:
        st.warning(ctx.t(warning.key, **warning.params))

    st.subheader(ctx.t("data.upload.columns"))
    table = [{"column": c.name, "type": c.inferred_type, "missing": c.missing_count,
              "codes": ", ".join(f"{code} ({n})" for code, n in c.proposed_missing)} for c in result.columns]
    edited = st.data_editor(
        table, hide_index=True, width="stretch", key=f"types_{staged['digest'][:12]}", disabled=["column", "missing", "codes"],
        column_config={
            "column": st.column_config.TextColumn(ctx.t("data.upload.col.name")),
            "type": st.column_config.SelectboxColumn(ctx.t("data.upload.col.type"), options=list(COLUMN_TYPES), required=True),
            "missing": st.column_config.NumberColumn(ctx.t("data.upload.col.missing")),
            "codes": st.column_config.TextColumn(ctx.t("data.upload.col.codes")),
        })
    overrides = {row["column"]: row["type"] for row, info in zip(edited, result.columns, strict=True)
                 if row["type"] != info.inferred_type}

    proposed = sorted({code for c in result.columns for code, _ in c.proposed_missing})
    agreed = st.multiselect(ctx.t("data.upload.missing_codes"), proposed, default=[],
                            help=ctx.t("data.upload.missing_codes_help"), select_all=ctx.select_all,
                            placeholder=ctx.t("app.choose"))
    extra = st.text_input(ctx.t("data.upload.extra_codes"), placeholder="999, -9")
    codes = tuple(agreed) + tuple(c.strip() for c in extra.split(",") if c.strip())
    missing_codes = {c.name: codes for c in result.columns} if codes else {}

    decisions: dict[str, IdentifierDecision] = {}
    if result.identifier_flags:
        st.subheader(ctx.t("data.upload.identifiers"))
        st.caption(ctx.t("data.upload.identifiers_caption"))
        for flag in result.identifier_flags:
            with st.container(border=True):
                st.markdown(ctx.t("data.upload.flag", column=flag.column, category=ctx.t("ingest.phi." + flag.category),
                                  evidence=ctx.t("data.upload.evidence." + flag.evidence)))
                action = st.radio(ctx.t("data.upload.decision"), ("drop", "pseudonymise", "keep"), horizontal=True,
                                  key=f"decide_{flag.column}", format_func=lambda a: ctx.t("data.upload.action." + a))
                reason = st.text_input(ctx.t("data.upload.keep_reason"), key=f"reason_{flag.column}") if action == "keep" else ""
                decisions[flag.column] = IdentifierDecision(action, reason)

    with st.expander(ctx.t("data.upload.preview"), expanded=True):
        st.dataframe(result.frame.head(50), width="stretch")

    choices = UploadChoices(encoding=base.encoding, sheet=base.sheet, header_row=base.header_row,
                            missing_codes=missing_codes, type_overrides=overrides, identifier_decisions=decisions)
    if st.button(ctx.t("data.upload.create"), type="primary", icon=":material/save:"):
        job_id = attempt(ctx.lang, datasets.submit_version_job, ctx.workbench, ctx.actor, project_id=ctx.project_id,
                         raw_digest=staged["digest"], filename=staged["name"], choices=choices)
        if job_id is not None:
            st.session_state.pop("upload_staged", None)
            st.success(ctx.t("data.upload.submitted", job_id=job_id))
            st.page_link(str(PAGES_DIR / "jobs.py"), label=ctx.t("app.page.jobs"), icon=":material/pending_actions:")


def _read_as_detected(ctx: PageContext, staged: dict) -> Any:
    """The staged file read with every setting detected, or None when even that fails (the service
    then discards it)."""
    try:
        return datasets.read_upload(ctx.workbench, ctx.actor, project_id=ctx.project_id, raw_digest=staged["digest"],
                                    filename=staged["name"], choices=UploadChoices())
    except IngestError:
        return None


def _sheet_picker(ctx: PageContext, column: Any, result: Any, key: str) -> bool:
    """The workbook's own sheets to pick from (when it has more than one); whether it was shown."""
    if not result.sheet_names or len(result.sheet_names) < 2:
        return False
    column.selectbox(ctx.t("data.upload.sheet"), result.sheet_names, index=result.sheet_names.index(result.sheet),
                     key=key)
    return True
