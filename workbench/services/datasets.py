"""Dataset versions: an upload becomes an immutable Parquet file, its profile and its identifier flags.

The raw upload is kept in the artifact store by its digest; a version is made from it by re-reading
it with the options and decisions the user took on the upload page, so the same inputs always
give the same version. Nothing is overwritten: a corrected file is a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from permissions.actions import Action
from permissions.policy import Actor
from pipelines.errors import IngestError, InputError, NotFound
from pipelines.ingest import (
    IngestResult,
    ReadOptions,
    apply_missing_codes,
    override_types,
    profile_and_write,
    pseudonymise,
    read_table,
)
from workbench.context import Workbench
from workbench.db.engine import read_all, session_scope
from workbench.db.models import DatasetVersion
from workbench.keys import project_pseudonym_key
from workbench.services import audit
from workbench.services._access import authorize
from workbench.services._versions import next_version

__all__ = [
    "IdentifierDecision",
    "UploadChoices",
    "stage_upload",
    "read_upload",
    "create_version",
    "import_file",
    "list_versions",
    "get_version",
    "version_parquet_path",
    "submit_version_job",
]

DECISIONS = ("drop", "keep", "pseudonymise")


@dataclass(frozen=True)
class IdentifierDecision:
    """What the user decided for one flagged column; keeping one needs a reason."""

    action: str
    reason: str = ""


@dataclass(frozen=True)
class UploadChoices:
    """Everything the user chose on the upload page, enough to rebuild the version from the raw file."""

    encoding: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None
    delimiter: str | None = None
    decimal: str | None = None
    missing_codes: Mapping[str, tuple[str, ...]] | None = None
    type_overrides: Mapping[str, str] | None = None
    identifier_decisions: Mapping[str, IdentifierDecision] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding, "sheet": self.sheet, "header_row": self.header_row,
            "delimiter": self.delimiter, "decimal": self.decimal,
            "missing_codes": {k: list(v) for k, v in (self.missing_codes or {}).items()},
            "type_overrides": dict(self.type_overrides or {}),
            "identifier_decisions": {k: {"action": v.action, "reason": v.reason}
                                     for k, v in (self.identifier_decisions or {}).items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UploadChoices:
        return cls(
            encoding=data.get("encoding"), sheet=data.get("sheet"), header_row=data.get("header_row"),
            delimiter=data.get("delimiter"), decimal=data.get("decimal"),
            missing_codes={k: tuple(v) for k, v in (data.get("missing_codes") or {}).items()},
            type_overrides=dict(data.get("type_overrides") or {}),
            identifier_decisions={k: IdentifierDecision(**v) for k, v in (data.get("identifier_decisions") or {}).items()},
        )

    @property
    def read_overridden(self) -> bool:
        """Whether the user chose how to read the file (encoding, sheet, header row, delimiter, decimal)
        instead of leaving it to detection."""
        return any(v is not None for v in (self.encoding, self.sheet, self.header_row, self.delimiter, self.decimal))

    def read_options(self, max_bytes: int) -> ReadOptions:
        return ReadOptions(encoding=self.encoding, sheet=self.sheet, header_row=self.header_row,
                           delimiter=self.delimiter, decimal=self.decimal, max_bytes=max_bytes)


def _max_bytes(workbench: Workbench) -> int:
    return workbench.settings.max_upload_mb * 2**20


def stage_upload(workbench: Workbench, actor: Actor, *, project_id: int, data: bytes, filename: str) -> str:
    """Keep the uploaded bytes (by digest) so that reading and versioning never need the browser again."""
    authorize(workbench, actor, Action.DATASET_UPLOAD, project_id=project_id)
    if len(data) > _max_bytes(workbench):
        raise InputError("ingest.too_large", megabytes=round(len(data) / 2**20, 1), limit=workbench.settings.max_upload_mb)
    digest = workbench.store.put_bytes(data)
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="dataset.upload",
                     outcome="succeeded", resource_type="upload", resource_id=digest[:16], project_id=project_id,
                     details={"bytes": len(data), "filename": filename[:200]})
    return digest


def read_upload(
    workbench: Workbench, actor: Actor, *, project_id: int, raw_digest: str, filename: str, choices: UploadChoices
) -> IngestResult:
    """Parse a staged upload as the upload page shows it (before the user's decisions are applied).

    A file that cannot be read as detected is discarded. One that fails only with the user's own
    read choices (an encoding, a sheet, a header row) is kept, so that another choice can be tried
    without uploading it again."""
    authorize(workbench, actor, Action.DATASET_UPLOAD, project_id=project_id)
    path = workbench.store.verified_path(raw_digest)
    try:
        return read_table(path, filename=filename, options=choices.read_options(_max_bytes(workbench)))
    except IngestError as error:
        if not choices.read_overridden:
            _discard_unused_upload(workbench, actor, project_id=project_id, raw_digest=raw_digest, reason=error.key)
        raise


def _discard_unused_upload(workbench: Workbench, actor: Actor, *, project_id: int, raw_digest: str, reason: str) -> None:
    """A file that cannot be read is not kept, unless an earlier version was made from the same bytes."""
    with session_scope(workbench.engine) as session:
        used = session.scalar(select(func.count()).select_from(DatasetVersion)
                              .where(DatasetVersion.source_sha256 == raw_digest))
        if not used:
            workbench.store.delete(raw_digest)
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="dataset.upload",
                     outcome="failed", reason=reason, resource_type="upload", resource_id=raw_digest[:16],
                     project_id=project_id)


def create_version(
    workbench: Workbench, actor: Actor, *, project_id: int, raw_digest: str, filename: str, choices: UploadChoices
) -> int:
    """Apply the user's decisions and store a new immutable dataset version; returns its id."""
    authorize(workbench, actor, Action.DATASET_UPLOAD, project_id=project_id)
    return _materialise(workbench, user_id=actor.user_id, actor_name=getattr(actor, "name", ""), project_id=project_id,
                        raw_digest=raw_digest, filename=filename, choices=choices)


def import_file(workbench: Workbench, actor: Actor, *, project_id: int, path: Path, label: str) -> int:
    """Store a file from disk as a new version with detected settings (demo project, CLI)."""
    authorize(workbench, actor, Action.DATASET_UPLOAD, project_id=project_id)
    digest = workbench.store.put_file(path)
    return _materialise(workbench, user_id=actor.user_id, actor_name=getattr(actor, "name", ""), project_id=project_id,
                        raw_digest=digest, filename=label, choices=UploadChoices())


def _materialise(
    workbench: Workbench, *, user_id: int | None, actor_name: str, project_id: int, raw_digest: str, filename: str,
    choices: UploadChoices, on_progress=None,
) -> int:
    step = on_progress or (lambda fraction, key: None)
    step(0.05, "jobs.status.reading")
    result = read_table(workbench.store.verified_path(raw_digest), filename=filename,
                        options=choices.read_options(_max_bytes(workbench)))
    step(0.5, "jobs.status.applying_choices")
    if choices.type_overrides:
        result = override_types(result, choices.type_overrides)
    frame = result.frame
    if choices.missing_codes:
        frame = apply_missing_codes(frame, choices.missing_codes)
    types = {c.name: c.inferred_type for c in result.columns}
    flags = {f.column: f for f in result.identifier_flags}
    decisions = dict(choices.identifier_decisions or {})
    column_flags: dict[str, Any] = {}
    for column, flag in flags.items():
        decision = decisions.get(column, IdentifierDecision("keep", ""))
        if decision.action not in DECISIONS:
            raise InputError("datasets.bad_decision", column=column, action=decision.action)
        if column not in decisions:
            decision = IdentifierDecision("undecided")
        elif decision.action == "keep" and not decision.reason.strip():
            raise InputError("datasets.keep_needs_reason", column=column)
        record = {**flag.to_dict(), "decision": decision.action, "reason": decision.reason}
        if decision.action == "drop":
            frame = frame.drop(columns=[column])
            types.pop(column, None)
        elif decision.action == "pseudonymise":
            frame = pseudonymise(frame, column, secret=project_pseudonym_key(workbench, project_id))
            types[column] = "identifier"
        column_flags[column] = record
    step(0.7, "jobs.status.profiling")
    kept_flags = tuple(f for c, f in flags.items() if c in frame.columns)
    with workbench.store.writer() as (handle, finish):
        summary = profile_and_write(frame, types={c: t for c, t in types.items() if c in frame.columns},
                                    flags=kept_flags, sink=handle)
    parquet_digest = finish.digest
    with session_scope(workbench.engine) as session:
        version = next_version(session, DatasetVersion, project_id)
        row = DatasetVersion(
            project_id=project_id, version=version, label=Path(filename).name[:255] or "upload",
            parquet_sha256=parquet_digest, source_sha256=raw_digest, source_format=result.format,
            source_encoding=result.encoding, n_rows=len(frame), n_columns=frame.shape[1],
            profile={**summary.to_dict(), "types": types, "choices": choices.to_json()},
            column_flags=column_flags, uploaded_by=user_id,
        )
        session.add(row)
        session.flush()
        audit.record(session, actor_id=user_id, actor_name=actor_name, action="dataset.create_version", outcome="succeeded",
                     resource_type="dataset_version", resource_id=row.id, project_id=project_id,
                     details={"version": version, "rows": len(frame), "columns": frame.shape[1],
                              "dropped_identifiers": [c for c, r in column_flags.items() if r["decision"] == "drop"]})
        version_id = row.id
    step(1.0, "jobs.status.ingested")  # after the commit: a job's progress write waits for this transaction's lock on SQLite
    return version_id


def list_versions(workbench: Workbench, actor: Actor, project_id: int) -> list[DatasetVersion]:
    authorize(workbench, actor, Action.DATASET_VIEW_PROFILE, project_id=project_id)
    return read_all(workbench.engine, select(DatasetVersion).where(DatasetVersion.project_id == project_id)
                    .order_by(DatasetVersion.version.desc()))


def get_version(workbench: Workbench, actor: Actor, version_id: int) -> DatasetVersion:
    with session_scope(workbench.engine, read_only=True) as session:
        row = session.get(DatasetVersion, version_id)
        if row is not None:
            session.expunge(row)
    if row is None:
        raise NotFound("datasets.not_found", version_id=version_id)
    authorize(workbench, actor, Action.DATASET_VIEW_PROFILE, project_id=row.project_id)
    return row


def version_parquet_path(workbench: Workbench, actor: Actor, version_id: int) -> Path:
    """The verified Parquet file of a version, for row-level viewing (needs dataset.view_rows)."""
    row = get_version(workbench, actor, version_id)
    authorize(workbench, actor, Action.DATASET_VIEW_ROWS, project_id=row.project_id)
    return workbench.store.verified_path(row.parquet_sha256)


def submit_version_job(
    workbench: Workbench, actor: Actor, *, project_id: int, raw_digest: str, filename: str, choices: UploadChoices
) -> int:
    """Like :func:`create_version`, as a Dask job (large files must not block the web server)."""
    from workbench.jobs import create_job

    authorize(workbench, actor, Action.DATASET_UPLOAD, project_id=project_id)
    workbench.store.verified_path(raw_digest)
    job_id = create_job(workbench, kind="ingest", project_id=project_id, user_id=actor.user_id, params={
        "user_id": actor.user_id, "actor_name": getattr(actor, "name", ""), "project_id": project_id,
        "raw_digest": raw_digest, "filename": filename, "choices": choices.to_json()})
    workbench.jobs.submit(job_id)
    return job_id
