"""External validation: a collaborator (or a member) checks a shared run's model on their own cohort.

The path: :func:`validation_inputs` says which columns the file needs; :func:`check_cohort` reads an
upload exactly as ingest does and names every missing, renamed-looking, differently typed or
differently scaled column (nothing is stored); :func:`start_validation` stages the file and starts
the ``validate`` job; :func:`validation_status` follows it; :func:`validation_report` returns the
aggregate report beside the development results. The uploader chooses to keep their data (in a
space only they can read: :func:`kept_rows`, :func:`delete_kept_data`) or to discard it, the
default: then nothing of the file remains in the artifact store or the database.

Who may do what: starting needs ``model.validate_external`` (for a collaborator, the owner must
have shared ``validation``). The report goes to its uploader and to members who see the project's
results themselves (the owner), with the cohort's small counts suppressed for them; other
collaborators see neither it nor its existence. Rows go to nobody but their uploader.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import select

from permissions.actions import Action
from permissions.policy import Actor, Resource, check
from pipelines.errors import InputError, PermissionDenied, WorkbenchError
from pipelines.evaluation.external import ColumnReport
from workbench.context import Workbench
from workbench.db.engine import read_all, session_scope
from workbench.db.models import ExternalValidation, Job, User, utcnow
from workbench.services import _codec, audit, calculator
from workbench.services._access import authorize
from workbench.services._validation_cohort import ModelInputs, check_subgroups, examine
from workbench.services._validation_report import ValidationReport, for_reader
from workbench.services._validation_store import ACTION, discard_data, get_record, new_key, seal, settle_orphan, unseal
from workbench.services.results import is_restricted, results_resource

__all__ = ["MAX_RESAMPLES", "InputsView", "CohortCheck", "ValidationInfo", "validation_inputs", "check_cohort",
           "start_validation", "validation_status", "list_validations", "validation_report", "kept_rows", "delete_kept_data",
           "cancel_validation"]

MAX_RESAMPLES = 20000


@dataclass(frozen=True)
class InputsView:
    """What a cohort needs: the model's inputs with development aggregates, and the outcome."""

    run_id: int
    model_label: str
    fields: tuple[calculator.InputField, ...]
    outcome_column: str
    positive_label: str


@dataclass(frozen=True)
class CohortCheck:
    """The answer to an upload: its columns against the model's inputs, and what would be used."""

    columns: ColumnReport
    n_read: int
    n_used: int
    n_events: int
    file_columns: tuple[str, ...]  # the upload's own column names (for mapping a renamed one)

    @property
    def ready(self) -> bool:
        return self.columns.usable and self.n_used > 0


@dataclass(frozen=True)
class ValidationInfo:
    id: int
    project_id: int
    run_id: int
    uploaded_by: int
    uploader_name: str
    mine: bool
    state: str
    progress: float
    status_text: str
    error_key: str | None
    error_params: dict[str, Any]
    keep: bool
    data_state: str
    created_at: datetime
    summary: dict[str, Any]


# --------------------------------------------------------------------------- helpers


def _model_inputs(workbench: Workbench, actor: Actor, run_id: int) -> ModelInputs:
    """The run's model and its inputs, for someone allowed to validate it (for a collaborator, the
    owner must share ``validation``: the calculator's loader checks the action against the sharing)."""
    context = calculator._load(workbench, actor, run_id, action=Action.MODEL_VALIDATE_EXTERNAL)
    summary = context.run.summary or {}
    if summary.get("task") != "binary":
        raise InputError("validation.binary_only", task=str(summary.get("task", "")))
    fields = {f.name: f for f in calculator._fields(context, actor)}  # a collaborator: middle-90 % ranges
    outcome = context.recipe.outcome
    return ModelInputs(context=context, fields=fields, outcome_column=outcome.column, target=outcome.target,
                       positive_label=summary.get("positive_label"), model_label=context.model_name)


def _audit(workbench: Workbench, actor: Actor, *, project_id: int, outcome: str, resource_id: Any,
           details: dict[str, Any], reason: str = "") -> None:
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action=ACTION,
                     outcome=outcome, resource_type="external_validation", resource_id=resource_id,
                     project_id=project_id, reason=reason, details=details)


def _file_kind(filename: str) -> str:
    return "".join(Path(filename).suffixes[-2:]).lower()[:16]


def _sees_results(actor: Actor, project_id: int) -> bool:
    """Members who see the project's results without any sharing (owner, clinicians, data
    scientists); a collaborator's results.view always depends on what was shared."""
    return check(actor, Action.RESULTS_VIEW, Resource.project(project_id), now=utcnow()).allowed


def _readable(workbench: Workbench, actor: Actor, record: ExternalValidation) -> None:
    """The uploader, or a member who sees the project's results; anyone else is refused (audited)."""
    if actor is not None and actor.user_id == record.uploaded_by:
        authorize(workbench, actor, Action.MODEL_VALIDATE_EXTERNAL, project_id=record.project_id,
                  resource=results_resource(workbench, record.project_id, "validation"))
        return
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=record.project_id)


def _only_uploader(workbench: Workbench, actor: Actor, record: ExternalValidation, step: str) -> None:
    authorize(workbench, actor, Action.MODEL_VALIDATE_EXTERNAL, project_id=record.project_id,
              resource=results_resource(workbench, record.project_id, "validation"))
    if actor.user_id != record.uploaded_by:
        _audit(workbench, actor, project_id=record.project_id, outcome="denied", resource_id=record.id,
               details={"step": step}, reason="not_uploader")
        raise PermissionDenied("validation.not_yours", validation_id=record.id)


def _info(workbench: Workbench, actor: Actor, record: ExternalValidation) -> ValidationInfo:
    record = settle_orphan(workbench, record)
    progress, text, params = 0.0, "", {}
    with session_scope(workbench.engine) as session:
        uploader = session.get(User, record.uploaded_by)
        name = uploader.username if uploader is not None else ""
        job = session.get(Job, record.job_id) if record.job_id is not None else None
        if job is not None:
            progress, text, params = job.progress, job.status_text, dict(job.error_params or {})
    if record.state == "succeeded":
        progress = 1.0
    return ValidationInfo(id=record.id, project_id=record.project_id, run_id=record.run_id,
                          uploaded_by=record.uploaded_by, uploader_name=name,
                          mine=actor.user_id == record.uploaded_by, state=record.state,
                          progress=float(progress or 0.0), status_text=text or "", error_key=record.error_key,
                          error_params=params, keep=bool(record.keep), data_state=record.data_state,
                          created_at=record.created_at, summary=dict(record.summary or {}))


def _refuse(columns: ColumnReport, outcome: str, *, accept_warnings: bool) -> None:
    """The one precise message for a cohort that cannot (yet) be validated."""
    if not columns.outcome_found:
        raise InputError("validation.outcome_missing", column=outcome)
    renamed = [i for i in columns.issues if i.kind == "renamed"]
    missing = [i.column for i in columns.issues if i.kind in ("missing", "renamed")]
    if renamed:
        raise InputError("validation.missing_renamed", columns=", ".join(missing),
                         renamed=", ".join(f"{i.column} \u2190 '{i.found}'" for i in renamed))
    if missing:
        raise InputError("validation.missing_columns", columns=", ".join(missing))
    differ = [i.column for i in columns.issues if i.kind == "type_differs"]
    if differ:
        raise InputError("validation.type_differs", columns=", ".join(differ))
    warned = [i.column for i in columns.warnings]
    if warned and not accept_warnings:
        raise InputError("validation.confirm_warnings", columns=", ".join(warned))


# --------------------------------------------------------------------------- public


def validation_inputs(workbench: Workbench, actor: Actor, run_id: int) -> InputsView:
    """The columns a cohort must have (with units and development ranges) and its outcome column."""
    inputs = _model_inputs(workbench, actor, run_id)
    return InputsView(run_id=run_id, model_label=inputs.model_label, fields=tuple(inputs.fields.values()),
                      outcome_column=inputs.outcome_column, positive_label=str(inputs.positive_label))


def check_cohort(workbench: Workbench, actor: Actor, *, run_id: int, data: bytes, filename: str,
                 renames: Mapping[str, str] | None = None) -> CohortCheck:
    """Read an upload and compare it with the model's inputs. Nothing of the file is stored."""
    inputs = _model_inputs(workbench, actor, run_id)
    project_id = inputs.context.run.project_id
    try:
        examined = examine(workbench, inputs, data=data, filename=filename, renames=renames)
    except WorkbenchError as error:  # the file cannot be used: said to the user, audited without its content
        _audit(workbench, actor, project_id=project_id, outcome="failed", resource_id=f"run:{run_id}",
               details={"step": "check", "run_id": run_id}, reason=error.key)
        raise
    _audit(workbench, actor, project_id=project_id, outcome="succeeded", resource_id=f"run:{run_id}",
           details={"step": "check", "run_id": run_id, "errors": len(examined.columns.errors),
                    "warnings": len(examined.columns.warnings)})
    return CohortCheck(columns=examined.columns, n_read=examined.n_read, n_used=examined.n_used,
                       n_events=examined.n_events, file_columns=examined.file_columns)


def start_validation(workbench: Workbench, actor: Actor, *, run_id: int, data: bytes, filename: str, keep: bool = False,
                     renames: Mapping[str, str] | None = None, subgroups: Sequence[str] = (),
                     accept_warnings: bool = False, resamples: int | None = None) -> int:
    """Stage the file and start the ``validate`` job; returns the validation's id.

    ``keep`` False (the default) discards the file once the report exists; True keeps it, with
    the rows and their predicted risks, where only the uploader can read or delete it.
    ``resamples``: bootstrap resamples of the CIs (default: the ``bootstrap_resamples`` setting)."""
    from workbench.jobs import create_job

    inputs = _model_inputs(workbench, actor, run_id)
    run = inputs.context.run
    chosen = check_subgroups(subgroups, inputs)
    resamples = int(workbench.settings.bootstrap_resamples) if resamples is None else resamples
    if not isinstance(resamples, int) or not 0 < resamples <= MAX_RESAMPLES:
        raise InputError("validation.bad_resamples", value=str(resamples)[:20], limit=MAX_RESAMPLES)
    examined = examine(workbench, inputs, data=data, filename=filename, renames=renames)
    _refuse(examined.columns, inputs.outcome_column, accept_warnings=accept_warnings)
    key = new_key()
    digest = seal(workbench, data, key=key, purpose="upload")
    with session_scope(workbench.engine) as session:
        record = ExternalValidation(project_id=run.project_id, run_id=run.id, model_id=inputs.context.model.id,
                                    uploaded_by=actor.user_id, keep=bool(keep), file_kind=_file_kind(filename),
                                    options={"renames": dict(renames or {}), "subgroups": list(chosen), "resamples": resamples,
                                             "key": key},
                                    upload_sha256=digest, state="queued", data_state="staged")
        session.add(record)
        session.flush()
        validation_id = record.id
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action=ACTION,
                     outcome="succeeded", resource_type="external_validation", resource_id=validation_id,
                     project_id=run.project_id,
                     details={"step": "start", "run_id": run.id, "keep": bool(keep), "rows": examined.n_used,
                              "warnings_confirmed": [i.column for i in examined.columns.warnings]})
    job_id = create_job(workbench, kind="validate", project_id=run.project_id, user_id=actor.user_id,
                        params={"validation_id": validation_id})
    with session_scope(workbench.engine) as session:
        session.get(ExternalValidation, validation_id).job_id = job_id
    workbench.jobs.submit(job_id)
    return validation_id


def validation_status(workbench: Workbench, actor: Actor, validation_id: int) -> ValidationInfo:
    record = get_record(workbench, validation_id)
    _readable(workbench, actor, record)
    return _info(workbench, actor, record)


def list_validations(workbench: Workbench, actor: Actor, project_id: int, *, run_id: int | None = None
                     ) -> list[ValidationInfo]:
    """Newest first: every validation of the project for members who see its results, one's own
    validations for a collaborator."""
    query = select(ExternalValidation).where(ExternalValidation.project_id == project_id)
    if _sees_results(actor, project_id):
        authorize(workbench, actor, Action.RESULTS_VIEW, project_id=project_id)
    else:
        authorize(workbench, actor, Action.MODEL_VALIDATE_EXTERNAL, project_id=project_id,
                  resource=results_resource(workbench, project_id, "validation"))
        query = query.where(ExternalValidation.uploaded_by == actor.user_id)
    if run_id is not None:
        query = query.where(ExternalValidation.run_id == run_id)
    rows = read_all(workbench.engine, query.order_by(ExternalValidation.id.desc()))
    return [_info(workbench, actor, row) for row in rows]


def validation_report(workbench: Workbench, actor: Actor, validation_id: int) -> ValidationReport:
    """The aggregate report; the cohort's counts below 5 suppressed for anyone but its uploader."""
    record = get_record(workbench, validation_id)
    _readable(workbench, actor, record)
    if record.state != "succeeded" or not record.report_sha256:
        raise InputError("validation.no_report", validation_id=validation_id, state=record.state)
    report = _codec.loads(workbench.store.get_bytes(record.report_sha256))
    return for_reader(report, uploader=actor.user_id == record.uploaded_by,
                      restricted=is_restricted(actor, record.project_id))


def kept_rows(workbench: Workbench, actor: Actor, validation_id: int) -> pd.DataFrame:
    """The uploader's own kept rows with their predicted risks (audited; nobody else's)."""
    record = get_record(workbench, validation_id)
    _only_uploader(workbench, actor, record, "read_rows")
    if record.data_state != "kept" or not record.rows_sha256:
        raise InputError("validation.nothing_kept", validation_id=validation_id)
    data = unseal(workbench, record.rows_sha256, key=record.options["key"], purpose="rows")
    frame = pq.read_table(io.BytesIO(data)).to_pandas()
    _audit(workbench, actor, project_id=record.project_id, outcome="succeeded", resource_id=validation_id,
           details={"step": "read_rows", "rows": len(frame)})
    return frame


def delete_kept_data(workbench: Workbench, actor: Actor, validation_id: int) -> None:
    """The uploader discards data they had kept; the aggregate report stays."""
    record = get_record(workbench, validation_id)
    _only_uploader(workbench, actor, record, "delete_rows")
    discard_data(workbench, validation_id, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""),
                 reason="deleted_by_uploader")


def cancel_validation(workbench: Workbench, actor: Actor, validation_id: int) -> str:
    """The uploader stops a running validation; its data is discarded when the job stops."""
    from workbench.jobs import request_cancel

    record = get_record(workbench, validation_id)
    _only_uploader(workbench, actor, record, "cancel")
    state = request_cancel(workbench, record.job_id) if record.job_id is not None else "cancelled"
    _audit(workbench, actor, project_id=record.project_id, outcome="succeeded", resource_id=validation_id,
           details={"step": "cancel", "job_state": state})
    settle_orphan(workbench, get_record(workbench, validation_id))
    return state
