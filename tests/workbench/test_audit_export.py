"""The audit log's CSV download holds every event the filters match (the page shows the newest 1000),
and a name a spreadsheet would run as a formula is escaped."""

from __future__ import annotations

import csv
import io

from workbench.db.engine import session_scope
from workbench.services import audit


def test_the_csv_holds_every_matching_event_beyond_the_tables_thousand(workbench, admin):
    with session_scope(workbench.engine) as session:
        for i in range(1100):
            audit.record(session, actor_id=None, actor_name='=HYPERLINK("http://evil.example")' if i == 0 else "robot",
                         action="auth.sign_in", outcome="denied", reason="bad_credentials")
    assert len(audit.read_audit(workbench, admin, action="auth.sign_in", limit=1000)) == 1000
    rows = list(csv.DictReader(io.StringIO(audit.export_audit_csv(workbench, admin, action="auth.sign_in",
                                                                  outcome="denied"))))
    assert len(rows) == 1100
    assert rows[-1]["actor"] == """'=HYPERLINK("http://evil.example")"""  # the oldest, last
    assert len(audit.read_audit(workbench, admin, action="audit.download")) == 1
