"""Audit events and their CSV export.

One event per state change and per refused attempt: who, what, on which resource, the outcome,
the reason and when (UTC). The database table that stores them is append-only; this module only
shapes the events and writes the CSV an admin downloads (the one CSV writer of the log: the
service reads the rows, names their users and projects, and hands them here). Ids and codes stay in
the CSV for machines, beside the names for people. That CSV is opened in spreadsheet
programs, and a cell such as ``=HYPERLINK(...)`` typed into a dataset name would run there as a
formula, so every cell that a spreadsheet could read as a formula is defused with a leading
apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from permissions.actions import Action
from permissions.clock import ensure_utc
from permissions.policy import Actor, Decision, Resource

__all__ = ["Outcome", "AuditEvent", "AUDIT_CSV_COLUMNS", "event_for_decision", "audit_csv", "csv_safe_cell"]


class Outcome(StrEnum):
    """``allowed``/``denied`` record a permission decision; ``succeeded``/``failed`` a state change;
    ``queued``/``cancelled`` work handed to a job and work stopped on request."""

    ALLOWED = "allowed"
    DENIED = "denied"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    QUEUED = "queued"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log. ``actor_id`` is ``None`` for an anonymous attempt."""

    actor_id: int | None
    action: str
    resource_type: str
    resource_id: str | None
    outcome: Outcome
    reason: str
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)
    # Filled in when read back from the log (the stored row's id, and names for its ids).
    id: int | None = None
    actor_name: str = ""
    project_id: int | None = None
    project_name: str = ""
    resource_name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "action", str(self.action))
        object.__setattr__(self, "at", ensure_utc(self.at, name="at"))
        if self.resource_id is not None:
            object.__setattr__(self, "resource_id", str(self.resource_id))
        # Must be JSON-serialisable: it is stored as JSON and exported as JSON.
        json.dumps(dict(self.details), sort_keys=True, ensure_ascii=False)
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def details_json(self) -> str:
        return json.dumps(dict(self.details), sort_keys=True, ensure_ascii=False)  # as the downloads always wrote it


def event_for_decision(
    actor: Actor | None,
    action: Action | str,
    resource: Resource,
    decision: Decision,
    *,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """The event a service writes after ``check()``: outcome allowed/denied with the decision's reason."""
    return AuditEvent(
        actor_id=actor.user_id if actor is not None else None,
        action=str(action),
        resource_type=resource.kind.value,
        resource_id=str(resource.project_id) if resource.project_id is not None else None,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        reason=decision.reason,
        at=at,
        details=dict(details or {}, **({"role": decision.role} if decision.role else {})),
    )


AUDIT_CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "time_utc",
    "actor_id",
    "actor",
    "action",
    "outcome",
    "resource_type",
    "resource_id",
    "resource",
    "project_id",
    "project",
    "reason",
    "details",
)

# Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula (OWASP), plus
# their full-width forms, which some spreadsheet programs also accept.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_safe_cell(value: object) -> str:
    """The cell text, with a leading ``'`` when a spreadsheet could run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def audit_csv(events: Iterable[AuditEvent], *, excel_bom: bool = False) -> str:
    """The events as CSV text, one row per event, every cell quoted and formula-safe.

    ``excel_bom`` prefixes a byte-order mark so Excel opens Korean text as UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    for event in events:
        row = (
            event.id,
            event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            event.actor_id,
            event.actor_name,
            event.action,
            event.outcome.value,
            event.resource_type,
            event.resource_id,
            event.resource_name,
            event.project_id,
            event.project_name,
            event.reason,
            event.details_json() if event.details else "",
        )
        writer.writerow([csv_safe_cell(cell) for cell in row])
    return ("\ufeff" if excel_bom else "") + buffer.getvalue()
