"""The audit log is read with names (user, project, the resource named by an id) and downloaded
through the one CSV writer, which keeps the ids and codes beside the names and defuses formulas
in every cell, names included."""

from __future__ import annotations

import csv
import io

from permissions import audit as log_csv
from workbench.db.engine import session_scope
from workbench.services import audit, projects
from workbench.services._access import load_actor


def test_events_carry_names_and_the_csv_keeps_ids_beside_them(workbench, admin, make_user):
    evil = '=HYPERLINK("http://evil.example","x")'
    project = projects.create_project(workbench, admin, name=evil)
    make_user("dr_kim")
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)  # now an owner of the new project
    projects.add_member(workbench, owner, project_id=project, username="dr_kim", role="clinician")
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=None, actor_name="", action="auth.sign_in", outcome="denied",
                     reason="bad_credentials")

    events = audit.read_audit(workbench, admin, action="members.add")
    assert len(events) == 1
    added = events[0]
    assert (added.actor_name, added.project_id, added.project_name) == ("admin", project, evil)
    assert (added.resource_type, added.resource_name) == ("user", "dr_kim") and added.resource_id.isdigit()
    created = audit.read_audit(workbench, admin, action="project.create")[0]
    assert created.resource_name == evil  # a project resource is named too

    text = audit.export_audit_csv(workbench, admin)
    assert text == log_csv.audit_csv(audit.read_audit(workbench, admin, limit=None)[1:])  # one writer (minus its own download event)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(log_csv.AUDIT_CSV_COLUMNS)
    row = next(r for r in rows if r["action"] == "members.add")
    assert row["project_id"] == str(project) and row["project"] == "'" + evil  # id for machines, name defused
    assert row["resource"] == "dr_kim" and row["actor"] == "admin" and row["actor_id"] == str(admin.user_id)
    refused = next(r for r in rows if r["action"] == "auth.sign_in" and r["outcome"] == "denied")
    assert refused["reason"] == "bad_credentials" and refused["actor_id"] == "" and refused["project"] == ""
