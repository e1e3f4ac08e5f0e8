"""The record of one external validation and the uploaded data it points at.

Uploaded bytes (and kept rows) are stored *sealed*: XORed with a keystream drawn from a one-time
random key (SHAKE-256, a different stream per purpose), so the artifact store names them by the
digest of the sealed bytes. Neither the file's own hash nor a byte of it is ever written to the
store or the database, and two uploads of the same file are two unrelated artifacts. Discarding
(the default) deletes the sealed files first and then clears the record's pointers and its key (a
crash in between leaves a record pointing at nothing, never a file that nothing points at).
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
from sqlalchemy import select

from pipelines.errors import NotFound
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import ExternalValidation, Job, utcnow
from workbench.jobs import TERMINAL_STATES
from workbench.services import audit

__all__ = ["get_record", "new_key", "seal", "unseal", "discard_data", "settle", "settle_orphan", "settle_orphans", "ACTION"]

ACTION = "model.validate_external"  # every step of a validation is audited under this action


def get_record(workbench: Workbench, validation_id: int) -> ExternalValidation:
    with session_scope(workbench.engine) as session:
        row = session.get(ExternalValidation, validation_id)
        if row is None:
            raise NotFound("validation.not_found", validation_id=validation_id)
        session.expunge(row)
        return row


def new_key() -> str:
    return secrets.token_hex(32)


def _stream(key: str, purpose: str, size: int) -> np.ndarray:
    return np.frombuffer(hashlib.shake_256(f"{purpose}:{key}".encode()).digest(size), dtype=np.uint8)


def seal(workbench: Workbench, data: bytes, *, key: str, purpose: str) -> str:
    """Store ``data`` sealed with ``key``; returns the sealed artifact's digest."""
    plain = np.frombuffer(data, dtype=np.uint8)
    return workbench.store.put_bytes((plain ^ _stream(key, purpose, len(data))).tobytes())


def unseal(workbench: Workbench, digest: str, *, key: str, purpose: str) -> bytes:
    sealed = np.frombuffer(workbench.store.get_bytes(digest), dtype=np.uint8)
    return (sealed ^ _stream(key, purpose, len(sealed))).tobytes()


def discard_data(workbench: Workbench, validation_id: int, *, actor_id: int | None, actor_name: str,
                 reason: str) -> None:
    """Delete the uploaded file and the kept rows of one validation; the aggregate report stays."""
    with session_scope(workbench.engine) as session:
        row = session.get(ExternalValidation, validation_id)
        if row is None or row.data_state == "discarded":
            return
        digests = [d for d in (row.upload_sha256, row.rows_sha256) if d]
    for digest in digests:
        workbench.store.delete(digest)
    with session_scope(workbench.engine) as session:
        row = session.get(ExternalValidation, validation_id)
        row.upload_sha256 = row.rows_sha256 = None
        row.options = {k: v for k, v in (row.options or {}).items() if k != "key"}
        row.data_state = "discarded"
        row.discarded_at = utcnow()
        audit.record(session, actor_id=actor_id, actor_name=actor_name, action=ACTION, outcome="succeeded",
                     resource_type="external_validation", resource_id=validation_id, project_id=row.project_id,
                     details={"step": "data_discarded", "reason": reason, "files": len(digests)})


def settle(workbench: Workbench, validation_id: int, *, state: str, error_key: str | None, actor_id: int | None,
           actor_name: str) -> None:
    """A validation that ended without a report: its data is discarded whatever was chosen."""
    discard_data(workbench, validation_id, actor_id=actor_id, actor_name=actor_name, reason=state)
    with session_scope(workbench.engine) as session:
        row = session.get(ExternalValidation, validation_id)
        if row.state in TERMINAL_STATES:
            return
        row.state, row.error_key, row.finished_at = state, error_key, utcnow()
        audit.record(session, actor_id=actor_id, actor_name=actor_name, action=ACTION, outcome=state,
                     resource_type="external_validation", resource_id=validation_id, project_id=row.project_id,
                     reason=error_key or "", details={"step": "ended", "run_id": row.run_id})


def settle_orphan(workbench: Workbench, record: ExternalValidation) -> ExternalValidation:
    """A record whose job ended without finishing it (a worker lost twice, a restart, a cancel
    before the job started): end it and discard its data now."""
    if record.state in TERMINAL_STATES or record.job_id is None:
        return record
    with session_scope(workbench.engine) as session:
        job = session.get(Job, record.job_id)
        ended = job is None or job.state in TERMINAL_STATES
        state = "failed" if job is None else job.state
        key = None if job is None else job.error_key
    if not ended:
        return record
    settle(workbench, record.id, state="failed" if state == "succeeded" else state, error_key=key or "jobs.worker_lost",
           actor_id=None, actor_name="")
    return get_record(workbench, record.id)


def settle_orphans(workbench: Workbench) -> list[int]:
    """At server start, after interrupted jobs were failed: end every validation whose job is over
    and discard its staged data, so no collaborator's file waits for someone to open its status."""
    with session_scope(workbench.engine) as session:
        open_ids = list(session.scalars(select(ExternalValidation.id).where(
            ExternalValidation.state.not_in(TERMINAL_STATES), ExternalValidation.job_id.is_not(None))))
    settled = []
    for validation_id in open_ids:
        if settle_orphan(workbench, get_record(workbench, validation_id)).state in TERMINAL_STATES:
            settled.append(validation_id)
    return settled
