"""What a running job sees: progress, log, heartbeats and cooperative cancellation."""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from pipelines.errors import JobCancelled
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Job, utcnow

__all__ = ["JobContext"]

_CANCEL_POLL_SECONDS = 1.0
_PROGRESS_WRITE_SECONDS = 0.5

log = logging.getLogger(__name__)


class JobContext:
    """Passed to every job function.

    A background thread writes a heartbeat every ``job_heartbeat_seconds`` and notices a cancel
    request; ``check_cancel()`` is cheap to call often and raises :class:`JobCancelled` within about
    a second of the user's click.
    """

    def __init__(self, workbench: Workbench, job_id: int) -> None:
        self.workbench = workbench
        self.job_id = job_id
        self._cancelled = threading.Event()
        self._stop = threading.Event()
        self._last_cancel_poll = 0.0
        self._last_progress_write = 0.0
        self._pending: tuple[float, str, dict[str, Any]] | None = None
        self._heartbeat = threading.Thread(target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True)

    # -- lifecycle (used by the runner) -------------------------------------------------------
    def start(self) -> None:
        self._heartbeat.start()

    def stop(self) -> None:
        self._stop.set()
        self._heartbeat.join(timeout=5)
        self._flush_progress()

    def _beat(self) -> None:
        interval = self.workbench.settings.job_heartbeat_seconds
        while not self._stop.wait(min(interval, _CANCEL_POLL_SECONDS)):
            now = utcnow()
            try:
                with session_scope(self.workbench.engine, read_only=True) as session:
                    row = session.execute(select(Job.cancel_requested_at, Job.heartbeat_at)
                                          .where(Job.id == self.job_id)).first()
                if row is None:
                    return
                if row.cancel_requested_at is not None:
                    self._cancelled.set()
                if row.heartbeat_at is None or (now - row.heartbeat_at).total_seconds() >= interval:
                    with session_scope(self.workbench.engine) as session:
                        session.execute(update(Job).where(Job.id == self.job_id).values(heartbeat_at=now))
            except OperationalError as error:
                # A busy database (SQLite's write lock held past its timeout) must not end the
                # heartbeat: the job would be declared lost while it runs. Try again next beat.
                log.warning("job %s: heartbeat not written (%s); trying again", self.job_id, error.orig)

    # -- for job functions --------------------------------------------------------------------
    @property
    def cancel_requested(self) -> bool:
        if self._cancelled.is_set():
            return True
        now = time.monotonic()
        if now - self._last_cancel_poll >= _CANCEL_POLL_SECONDS:
            self._last_cancel_poll = now
            with session_scope(self.workbench.engine, read_only=True) as session:
                requested = session.scalar(select(Job.cancel_requested_at).where(Job.id == self.job_id))
            if requested is not None:
                self._cancelled.set()
        return self._cancelled.is_set()

    def check_cancel(self) -> None:
        if self.cancel_requested:
            raise JobCancelled("jobs.cancelled")

    def progress(self, fraction: float, key: str = "", /, **params: Any) -> None:
        """Report progress (0..1) and the status line as a message key with its parameters
        (``jobs.status.*``; see ``workbench.jobs.status``), put into words in the reader's language
        when shown. Written at most twice a second."""
        self._pending = (max(0.0, min(1.0, float(fraction))), key, _plain(params))
        now = time.monotonic()
        if now - self._last_progress_write >= _PROGRESS_WRITE_SECONDS:
            self._flush_progress()
        self.check_cancel()

    def _flush_progress(self) -> None:
        if self._pending is None:
            return
        fraction, key, params = pending = self._pending
        self._last_progress_write = time.monotonic()
        try:
            with session_scope(self.workbench.engine) as session:
                session.execute(update(Job).where(Job.id == self.job_id)
                                .values(progress=fraction, status_text=key[:500], status_params=params))
        except OperationalError as error:  # progress is a courtesy: a busy database must not fail the job
            log.warning("job %s: progress not written (%s); kept for the next report", self.job_id, error.orig)
            return
        if self._pending == pending:
            self._pending = None

    def log(self, line: str) -> None:
        stamp = datetime.now().astimezone().strftime("%H:%M:%S")
        with session_scope(self.workbench.engine) as session:
            job = session.get(Job, self.job_id)
            if job is not None:
                job.log = (job.log + f"[{stamp}] {line}\n")[-200_000:]


def _plain(value: Any) -> Any:
    """Parameters as JSON values: NumPy numbers as Python numbers, NaN as null (PostgreSQL's JSON
    has no NaN), anything else unknown as its text."""
    if hasattr(value, "item") and not isinstance(value, (dict, list, tuple)):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
