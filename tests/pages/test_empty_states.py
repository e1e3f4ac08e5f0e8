"""A project without a finished run tells each user what they can do: a collaborator is told who
trains and shares (never sent to a Train page they cannot open), a clinician who may not approve
is told to ask the owner for the approval."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import open_page

PASSWORD = "a tandem rides quietly east 42"


def _results_hint(lang: str, username: str) -> str:
    at = open_page("results.py", lang=lang, username=username, password=PASSWORD)
    return " ".join(box.value for box in at.info)


def test_no_run_hints_fit_the_role(app_env):
    from workbench.context import open_workbench
    from workbench.db.models import utcnow
    from workbench.services import accounts, projects, results
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(app_env)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    demo = projects.list_projects(workbench, admin)[0].id  # a dataset, no approved recipe, no run
    for name, role in (("dr_guest", "collaborator"), ("dr_park", "clinician")):
        accounts.create_user(workbench, admin, username=name, password=PASSWORD)
        projects.add_member(workbench, admin, project_id=demo, username=name, role=role,
                            expires_at=utcnow() + timedelta(days=90))
    results.set_sharing(workbench, admin, project_id=demo, facets=["metrics"])

    guest = _results_hint("en", "dr_guest")
    assert "project owner (admin)" in guest and "Train page" not in guest, guest
    assert "책임자(admin)" in _results_hint("ko", "dr_guest")
    clinician = _results_hint("en", "dr_park")
    assert "ask the project owner to approve" in clinician, clinician
