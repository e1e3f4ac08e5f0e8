from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from permissions.actions import Action
from permissions.audit import AUDIT_CSV_COLUMNS, AuditEvent, Outcome, audit_csv, csv_safe_cell, event_for_decision
from permissions.policy import Actor, Membership, Resource, check

AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _event(**overrides) -> AuditEvent:
    fields = dict(
        actor_id=4,
        action="dataset.upload",
        resource_type="project",
        resource_id="12",
        outcome=Outcome.SUCCEEDED,
        reason="",
        at=AT,
        details={"file": "cohort.csv"},
    )
    fields.update(overrides)
    return AuditEvent(**fields)


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "\ncmd", "＝1+1"])
def test_formula_cells_get_a_leading_apostrophe(dangerous: str) -> None:
    assert csv_safe_cell(dangerous) == "'" + dangerous
    text = audit_csv([_event(resource_id=dangerous, reason=dangerous, details={"name": dangerous})])
    header, row = _rows(text)
    assert row[AUDIT_CSV_COLUMNS.index("resource_id")] == "'" + dangerous
    assert row[AUDIT_CSV_COLUMNS.index("reason")] == "'" + dangerous
    # details is JSON, which starts with "{": safe as it is, and the value survives intact.
    assert json.loads(row[AUDIT_CSV_COLUMNS.index("details")]) == {"name": dangerous}


def test_ordinary_cells_are_unchanged_and_every_cell_is_quoted() -> None:
    assert csv_safe_cell("results.view") == "results.view"
    assert csv_safe_cell(None) == ""
    assert csv_safe_cell(12) == "12"
    text = audit_csv([_event()])
    assert text.splitlines()[0] == ",".join(f'"{c}"' for c in AUDIT_CSV_COLUMNS)
    header, row = _rows(text)
    assert dict(zip(header, row)) == {
        "id": "", "time_utc": "2026-03-01T09:30:15.123456Z", "actor_id": "4", "actor": "", "action": "dataset.upload",
        "outcome": "succeeded", "resource_type": "project", "resource_id": "12", "resource": "", "project_id": "",
        "project": "", "reason": "", "details": '{"file": "cohort.csv"}'}


def test_csv_round_trips_many_events_with_korean_text() -> None:
    events = [
        _event(actor_id=None if i % 3 == 0 else i, outcome=Outcome.DENIED if i % 2 else Outcome.SUCCEEDED,
               details={"메모": f"환자 데이터 {i}", "quote": 'a "b", c'}, at=AT + timedelta(minutes=i))
        for i in range(25)
    ]
    text = audit_csv(events)
    rows = _rows(text)
    assert len(rows) == 26
    for event, row in zip(events, rows[1:]):
        column = dict(zip(AUDIT_CSV_COLUMNS, row))
        assert column["actor_id"] == ("" if event.actor_id is None else str(event.actor_id))
        assert column["outcome"] == event.outcome.value
        assert json.loads(column["details"]) == dict(event.details)
    assert audit_csv(events, excel_bom=True) == "\ufeff" + text
    assert audit_csv([]).count("\n") == 1


def test_events_require_utc_time_and_json_details() -> None:
    seoul = timezone(timedelta(hours=9))
    event = _event(at=datetime(2026, 3, 1, 18, 30, 15, 123456, tzinfo=seoul))
    assert event.at == AT and event.at.tzinfo is UTC
    with pytest.raises(ValueError):
        _event(at=datetime(2026, 3, 1, 9, 0))
    with pytest.raises(TypeError):
        _event(details={"when": datetime(2026, 1, 1, tzinfo=UTC)})
    with pytest.raises(ValueError):
        _event(outcome="maybe")
    with pytest.raises(TypeError):
        _event().details["x"] = 1  # type: ignore[index]


def test_event_for_a_denied_decision() -> None:
    collaborator = Actor(7, "user", True, {12: Membership("collaborator")})
    resource = Resource.project(12)
    decision = check(collaborator, Action.DATASET_DOWNLOAD, resource, now=AT)
    event = event_for_decision(collaborator, Action.DATASET_DOWNLOAD, resource, decision, at=AT, details={"dataset_id": 3})
    assert (event.actor_id, event.action, event.resource_type, event.resource_id) == (7, "dataset.download", "project", "12")
    assert (event.outcome, event.reason) == (Outcome.DENIED, "role_lacks_action")
    assert dict(event.details) == {"dataset_id": 3, "role": "collaborator"}
    anonymous = event_for_decision(None, Action.AUDIT_READ, Resource.site(), check(None, Action.AUDIT_READ, Resource.site(), now=AT), at=AT)
    assert (anonymous.actor_id, anonymous.resource_id, anonymous.reason) == (None, None, "anonymous")
