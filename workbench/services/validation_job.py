"""The ``validate`` job: a shared model on someone's own cohort, on a Dask worker.

The job reads the staged upload again (the web server already checked it with the user), puts it
through the recipe and the model, computes the report for the development holdout and for the
cohort side by side, stores the aggregate report and then either keeps the uploader's data in
their private space or discards it. Whatever happens (an error, a cancel), the data of a
validation that produced no report is discarded. Errors carry no value of the file: the job's
error message and log are in the database, where the file must leave nothing.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import evaluation as ev
from pipelines.errors import EvaluationError, JobCancelled, WorkbenchError
from pipelines.evaluation.external import recalibrate
from workbench.db.engine import session_scope
from workbench.db.models import ExternalValidation, utcnow
from workbench.jobs import JobContext
from workbench.services import _codec, audit, calculator
from workbench.services._access import load_actor
from workbench.services._validation_cohort import examine
from workbench.services._validation_report import ValidationReport, cohort_result, subgroup_frame
from workbench.services._validation_store import ACTION, discard_data, get_record, seal, settle, unseal

__all__ = ["run_validation_job"]

log = logging.getLogger(__name__)
_PASSED_ON = ("validation.", "calculator.", "jobs.", "auth.", "artifact.")  # keys whose params hold no cell value


def run_validation_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    from workbench.services import validation

    workbench = ctx.workbench
    validation_id = int(params["validation_id"])
    record = get_record(workbench, validation_id)
    with session_scope(workbench.engine) as session:
        actor = load_actor(session, record.uploaded_by)
        row = session.get(ExternalValidation, validation_id)
        row.state = "running"
    name = getattr(actor, "name", "")
    try:
        ctx.progress(0.02, "validation.stage.reading")
        inputs = validation._model_inputs(workbench, actor, record.run_id)
        data = unseal(workbench, record.upload_sha256, key=record.options["key"], purpose="upload")
        examined = examine(workbench, inputs, data=data,
                           filename=f"cohort{record.file_kind}", renames=record.options.get("renames") or {})
        if examined.y is None:
            raise EvaluationError("validation.columns_changed")
        resamples = int(record.options.get("resamples") or workbench.settings.bootstrap_resamples)
        report = _report(ctx, inputs, examined, record, n_resamples=resamples)
        ctx.progress(0.95, "validation.stage.storing")
        _finish(workbench, record, report, examined, actor_id=record.uploaded_by, actor_name=name)
    except JobCancelled:
        settle(workbench, validation_id, state="cancelled", error_key=None, actor_id=record.uploaded_by, actor_name=name)
        raise
    except WorkbenchError as error:
        settle(workbench, validation_id, state="failed", error_key=error.key, actor_id=record.uploaded_by,
               actor_name=name)
        if error.key.startswith(_PASSED_ON):
            raise
        raise EvaluationError("validation.job_failed", reason=error.key) from None
    except Exception as error:  # a bug: the traceback goes to the worker's log, not the job row
        log.exception("validation %s crashed", validation_id)
        settle(workbench, validation_id, state="failed", error_key="validation.internal_error",
               actor_id=record.uploaded_by, actor_name=name)
        raise EvaluationError("validation.internal_error", error=type(error).__name__) from None
    return {"validation_id": validation_id}


def _report(ctx: JobContext, inputs: Any, examined: Any, record: ExternalValidation, *, n_resamples: int
            ) -> ValidationReport:
    context = inputs.context
    predictions = calculator._predictions(ctx.workbench, context.run, context.model.id)
    predictions = predictions[predictions["probability"].notna()].sort_values("row")
    test = predictions[predictions["part"] == "test"]
    train = predictions[predictions["part"] == "train"]
    basis = train if train["y_true"].nunique() == 2 else test
    threshold = ev.choose_threshold(basis["y_true"].to_numpy().astype(int), basis["probability"].to_numpy())
    columns = tuple(record.options.get("subgroups") or ())
    seed = 0
    ctx.progress(0.1, "validation.stage.development")
    rows = test["row"].to_numpy(dtype=np.int64)
    raw_test = context.raw.loc[context.prepared.index[rows]]
    development = cohort_result("development", test["y_true"].to_numpy().astype(int), test["probability"].to_numpy(),
                                label=inputs.model_label, threshold=threshold,
                                subgroups=subgroup_frame(raw_test, columns, inputs.fields) if columns else None,
                                n_resamples=n_resamples, seed=seed)
    ctx.progress(0.5, "validation.stage.external")
    external = cohort_result("external", examined.y, examined.p, label=inputs.model_label, threshold=threshold,
                             subgroups=subgroup_frame(examined.frame, columns, inputs.fields) if columns else None,
                             n_resamples=n_resamples, seed=seed)
    warnings = tuple(i for i in examined.columns.issues if i.severity == "warning")
    return ValidationReport(run_id=context.run.id, model_id=context.model.id, model_label=inputs.model_label,
                            target=inputs.target, positive_label=str(inputs.positive_label), threshold=threshold,
                            development=development, external=external, n_read=examined.n_read,
                            n_excluded=examined.n_read - examined.n_used, warnings=warnings,
                            n_resamples=n_resamples, seed=seed)


def _rows_parquet(examined: Any, report: ValidationReport) -> bytes:
    """The uploader's own rows (the model's inputs and the outcome) with their predicted risks."""
    frame = examined.frame.copy()
    frame["predicted_risk"] = examined.p
    frame["recalibrated_risk"] = recalibrate(examined.p, report.external.recalibration)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()


def _finish(workbench: Any, record: ExternalValidation, report: ValidationReport, examined: Any, *,
            actor_id: int, actor_name: str) -> None:
    report_digest = workbench.store.put_bytes(_codec.dumps(report))
    rows_digest = seal(workbench, _rows_parquet(examined, report), key=record.options["key"],
                       purpose="rows") if record.keep else None
    external, development = report.external, report.development
    summary = {
        "n": external.part.n, "events": external.part.metrics.n_positive,
        "auroc": external.part.metrics.auroc.value, "auroc_lower": external.part.metrics.auroc.lower,
        "auroc_upper": external.part.metrics.auroc.upper, "auroc_development": development.part.metrics.auroc.value,
        "citl": external.recalibration.intercept.value, "slope": external.recalibration.slope.value,
    }
    with session_scope(workbench.engine) as session:
        row = session.get(ExternalValidation, record.id)
        row.state, row.finished_at = "succeeded", utcnow()
        row.report_sha256, row.summary = report_digest, {k: _plain(v) for k, v in summary.items()}
        if record.keep:
            row.rows_sha256, row.data_state = rows_digest, "kept"
        audit.record(session, actor_id=actor_id, actor_name=actor_name, action=ACTION, outcome="succeeded",
                     resource_type="external_validation", resource_id=record.id, project_id=record.project_id,
                     details={"step": "report", "run_id": record.run_id, "kept": bool(record.keep),
                              "subgroups": list(record.options.get("subgroups") or ())})
    if not record.keep:
        discard_data(workbench, record.id, actor_id=actor_id, actor_name=actor_name, reason="discard_chosen")


def _plain(value: Any) -> Any:
    value = float(value) if isinstance(value, (np.floating, float)) else int(value) if isinstance(value, np.integer) else value
    return None if isinstance(value, float) and not np.isfinite(value) else value
