from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipelines.errors import Conflict, InputError, NotFound, PermissionDenied
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, utcnow
from workbench.services import accounts, datasets, projects


def _actor(workbench, signed):
    return accounts.resolve_session(workbench, signed.token)


@pytest.fixture
def heart_project(workbench, admin, make_user, datasets_dir):
    owner_login = make_user("dr_owner")
    owner = _actor(workbench, owner_login)
    project_id = projects.create_project(workbench, owner, name="Heart failure mortality")
    owner = _actor(workbench, owner_login)
    datasets.import_file(workbench, owner, project_id=project_id, path=datasets_dir / "heart_failure_clinical_records.csv",
                         label="heart.csv")
    return project_id, owner_login


def test_owner_invites_a_collaborator_who_sees_the_project_but_no_rows(workbench, make_user, heart_project):
    project_id, owner_login = heart_project
    guest_login = make_user("dr_guest")
    projects.add_member(workbench, _actor(workbench, owner_login), project_id=project_id, username="dr_guest",
                        role="collaborator", expires_at=utcnow() + timedelta(days=90))
    guest = _actor(workbench, guest_login)
    assert [p.name for p in projects.list_projects(workbench, guest)] == ["Heart failure mortality"]
    version = datasets.list_versions(workbench, _actor(workbench, owner_login), project_id)[0]
    with pytest.raises(PermissionDenied) as caught:
        datasets.version_parquet_path(workbench, guest, version.id)
    assert caught.value.key == "auth.denied.role_lacks_action"
    with pytest.raises(PermissionDenied):
        datasets.stage_upload(workbench, guest, project_id=project_id, data=b"a,b\n1,2\n", filename="x.csv")
    with session_scope(workbench.engine) as session:
        denials = session.execute(sa.select(AuditEvent.action, AuditEvent.actor_name)
                                  .where(AuditEvent.outcome == "denied")).all()
    assert ("dataset.view_profile", "dr_guest") in denials and ("dataset.upload", "dr_guest") in denials


def test_expired_membership_sees_nothing(workbench, make_user, heart_project):
    project_id, owner_login = heart_project
    guest_login = make_user("dr_late")
    projects.add_member(workbench, _actor(workbench, owner_login), project_id=project_id, username="dr_late",
                        role="clinician", expires_at=utcnow() + timedelta(seconds=2))
    guest = _actor(workbench, guest_login)
    later = utcnow() + timedelta(minutes=1)
    from permissions.actions import Action
    from workbench.services._access import authorize

    with pytest.raises(PermissionDenied) as caught:
        authorize(workbench, guest, Action.DATASET_VIEW_ROWS, project_id=project_id, now=later)
    assert caught.value.key == "auth.denied.membership_expired"


def test_member_of_another_project_is_refused(workbench, make_user, heart_project):
    project_id, _ = heart_project
    other_login = make_user("dr_other")
    other = _actor(workbench, other_login)
    projects.create_project(workbench, other, name="Other")
    other = _actor(workbench, other_login)
    assert [p.name for p in projects.list_projects(workbench, other)] == ["Other"]
    with pytest.raises(PermissionDenied) as caught:
        projects.get_project(workbench, other, project_id)
    assert caught.value.key == "auth.denied.not_member"


def test_site_admin_sees_no_patient_data_without_membership(workbench, admin, heart_project):
    project_id, _ = heart_project
    assert projects.list_projects(workbench, admin) == []
    with pytest.raises(PermissionDenied):
        datasets.list_versions(workbench, admin, project_id)


def test_a_project_keeps_its_last_owner(workbench, heart_project):
    project_id, owner_login = heart_project
    owner = _actor(workbench, owner_login)
    with pytest.raises(Conflict):
        projects.remove_member(workbench, owner, project_id=project_id, username="dr_owner")
    with pytest.raises(Conflict):
        projects.add_member(workbench, owner, project_id=project_id, username="dr_owner", role="clinician")


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"username": "nobody", "role": "clinician"}, "projects.user_not_found"),
    ({"username": "admin", "role": "superuser"}, "projects.bad_role"),
])
def test_bad_invitations_say_what_is_wrong(workbench, heart_project, kwargs, key):
    project_id, owner_login = heart_project
    with pytest.raises((InputError, NotFound)) as caught:
        projects.add_member(workbench, _actor(workbench, owner_login), project_id=project_id, **kwargs)
    assert caught.value.key == key


def test_progress_follows_the_data_path(workbench, heart_project):
    project_id, owner_login = heart_project
    progress = projects.project_progress(workbench, _actor(workbench, owner_login), project_id)
    assert progress == {"upload": True, "review": False, "train": False, "results": False, "export": False}
