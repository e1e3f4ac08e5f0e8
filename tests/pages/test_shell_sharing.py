"""The shell reads a project's shared facets once per rerun for its page decisions: a change by the
owner shows up on a collaborator's next rerun, and each session decides from its own reading."""

from __future__ import annotations

from datetime import timedelta

from streamlit.testing.v1 import AppTest

from permissions.actions import Action
from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import APP, sign_in

PASSWORD = "a tandem rides quietly east 42"


def _links(at) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def test_sharing_changes_reach_the_next_rerun_and_each_session_decides_for_itself(app_env):
    from workbench.context import open_workbench
    from workbench.db.models import utcnow
    from workbench.services import accounts, projects, results
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(app_env)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    demo = next(iter(admin.memberships))
    accounts.create_user(workbench, admin, username="dr_guest", password=PASSWORD)
    projects.add_member(workbench, admin, project_id=demo, username="dr_guest", role="collaborator",
                        expires_at=utcnow() + timedelta(days=90))

    guest = sign_in(AppTest.from_file(APP, default_timeout=60), "dr_guest", PASSWORD)
    owner = sign_in(AppTest.from_file(APP, default_timeout=60))
    assert guest.session_state["_ctx"].shared == frozenset()
    assert not guest.session_state["_ctx"].can(Action.RESULTS_VIEW)
    assert "Results" not in _links(guest) and "Results" in _links(owner)

    results.set_sharing(workbench, admin, project_id=demo, facets=["metrics"])
    guest.run()
    assert guest.session_state["_ctx"].shared == frozenset({"metrics"})
    assert guest.session_state["_ctx"].can(Action.RESULTS_VIEW) and "Results" in _links(guest)
    assert not guest.session_state["_ctx"].can(Action.FIGURES_DOWNLOAD)  # figures were not shared

    results.set_sharing(workbench, admin, project_id=demo, facets=[])
    guest.run()
    assert "Results" not in _links(guest) and not guest.session_state["_ctx"].can(Action.RESULTS_VIEW)
    owner.run()  # the owner's session has its own context, and the owner needs no sharing
    assert owner.session_state["_ctx"] is not guest.session_state["_ctx"]
    assert owner.session_state["_ctx"].actor.name != guest.session_state["_ctx"].actor.name
    assert owner.session_state["_ctx"].can(Action.RESULTS_VIEW) and "Results" in _links(owner)
