"""Two users in one server see nothing of each other; a collaborator's session holds no patient row."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from permissions.policy import check
from tests.pages.conftest import APP, sign_in

PASSWORD = "a tandem rides quietly east 42"
pytestmark = pytest.mark.slow


def _services(data_dir):
    from workbench.context import open_workbench
    from workbench.settings import default_settings

    return open_workbench(default_settings(data_dir=str(data_dir)))


def _actor(workbench, username):
    from workbench.services import accounts

    return accounts.resolve_session(workbench, accounts.sign_in(workbench, username=username, password=PASSWORD).token)


@pytest.fixture
def two_projects(app_env, datasets_dir):
    """dr_a owns the Pima project, dr_b a Cleveland one; dr_guest collaborates on the demo (heart failure)."""
    from tests.conftest import ADMIN_PASSWORD
    from workbench.db.models import utcnow
    from workbench.services import accounts, datasets, projects

    workbench = _services(app_env)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    for name in ("dr_a", "dr_b", "dr_guest"):
        accounts.create_user(workbench, admin, username=name, password=PASSWORD)
    for owner, title, file in (("dr_a", "Pima diabetes", "pima_diabetes.csv"), ("dr_b", "Cleveland", "heart_cleveland.csv")):
        project_id = projects.create_project(workbench, _actor(workbench, owner), name=title)
        datasets.import_file(workbench, _actor(workbench, owner), project_id=project_id, path=datasets_dir / file, label=file)
    demo = next(iter(admin.memberships))
    projects.add_member(workbench, admin, project_id=demo, username="dr_guest", role="collaborator",
                        expires_at=utcnow() + timedelta(days=90))
    return workbench


def _values_in_session(at) -> list:
    # AppTest's session_state proxy forwards attribute access to user keys; the real state is behind it
    state = object.__getattribute__(at.session_state, "_state").filtered_state
    assert state, "no session state read"
    return list(state.values())


def _open_every_permitted_page(at, workbench, username):
    from pages._shell import _PAGES
    from workbench.db.models import utcnow
    from permissions.policy import Resource

    actor = _actor(workbench, username)
    project_id = at.session_state["project_id"]
    opened = []
    from workbench.services import results

    for spec in _PAGES:
        if spec.needs is not None:
            allowed = (results.can(workbench, actor, spec.needs, project_id=project_id) if spec.project_scoped
                       else check(actor, spec.needs, Resource.site(), now=utcnow()).allowed)
            if not allowed:
                continue
        at.switch_page(f"../pages/{spec.file}")
        at.run()
        assert not at.exception, (spec.file, at.exception)
        opened.append(spec.file)
    return opened


def test_two_owners_in_one_server_see_only_their_own_project(two_projects, datasets_dir):
    first, second = AppTest.from_file(APP, default_timeout=90), AppTest.from_file(APP, default_timeout=90)
    sign_in(first, "dr_a", PASSWORD)
    sign_in(second, "dr_b", PASSWORD)
    names_a = [p.name for p in first.session_state["_projects"].values()]
    names_b = [p.name for p in second.session_state["_projects"].values()]
    assert names_a == ["Pima diabetes"] and names_b == ["Cleveland"]
    for at in (first, second):
        at.switch_page("../pages/data.py")
        at.run()
        assert not at.exception
    pima_columns = set(pd.read_csv(datasets_dir / "pima_diabetes.csv").columns)
    shown_to_b = {str(c) for frame in second.dataframe for c in frame.value.columns}
    assert not (pima_columns - {"Age"}) & shown_to_b  # none of the Pima columns reach dr_b's page
    assert "Glucose" in {str(c) for frame in first.dataframe for c in frame.value.columns}


def test_a_collaborator_session_holds_no_patient_row(two_projects, datasets_dir):
    heart = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    rows = {tuple(r) for r in heart.astype(float).round(4).itertuples(index=False)}
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "dr_guest", PASSWORD)
    opened = _open_every_permitted_page(at, two_projects, "dr_guest")
    assert "projects.py" in opened and "data.py" not in opened
    for value in _values_in_session(at):
        assert not isinstance(value, (pd.DataFrame, pa.Table, bytes)), type(value)
    for element in at.dataframe:
        frame = element.value
        numeric = frame.select_dtypes("number")
        if numeric.shape[1] == heart.shape[1]:
            shown = {tuple(r) for r in numeric.astype(float).round(4).itertuples(index=False)}
            assert not shown & rows, "a patient row reached a collaborator"
        assert not set(heart.columns) <= {str(c) for c in frame.columns}
