"""Comments on a run: members and collaborators write (collaborators only on shared results),
every comment is audited, the text stays plain and bounded, and hiding keeps it in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipelines.errors import InputError, NotFound, PermissionDenied
from tests.workbench.test_results_service import train_heart_failure
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Comment


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    return train_heart_failure(tmp_path_factory, datasets_dir, runs=1)


def _events(trained, action: str) -> list[AuditEvent]:
    with session_scope(trained.workbench.engine) as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_members_and_collaborators_discuss_a_shared_run_and_every_comment_is_audited(trained):
    from workbench.services import comments, results

    owner = trained.actor()
    clinician = trained.user("cm_clinician", "clinician")
    collaborator = trained.user("cm_collab", "collaborator")
    # nothing shared yet: the collaborator cannot read or write the thread
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=[])
    with pytest.raises(PermissionDenied):
        comments.list_comments(trained.workbench, collaborator, run_id=trained.run_id)
    with pytest.raises(PermissionDenied):
        comments.add_comment(trained.workbench, collaborator, run_id=trained.run_id, body="Looks good")
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics"])

    first = comments.add_comment(trained.workbench, owner, run_id=trained.run_id, body="  Please check calibration.  ")
    second = comments.add_comment(trained.workbench, collaborator, run_id=trained.run_id,
                                  body="On our cohort the AUROC was 0.71.\nSlope 0.8.")
    comments.add_comment(trained.workbench, clinician, run_id=trained.run_id, body="Agreed")
    thread = comments.list_comments(trained.workbench, owner, run_id=trained.run_id)
    assert [(c.author, c.body) for c in thread] == [
        ("admin", "Please check calibration."), ("cm_collab", "On our cohort the AUROC was 0.71.\nSlope 0.8."),
        ("cm_clinician", "Agreed")]
    assert [c.id for c in comments.list_comments(trained.workbench, collaborator, run_id=trained.run_id)] == \
        [c.id for c in thread]
    written = _events(trained, "comments.write")
    assert {e.resource_id for e in written} >= {str(first), str(second)}
    by_collab = next(e for e in written if e.resource_id == str(second))
    assert by_collab.actor_name == "cm_collab" and by_collab.project_id == trained.project_id
    assert by_collab.details["run_id"] == trained.run_id


def test_text_is_plain_and_bounded(trained):
    from workbench.services import comments

    owner = trained.actor()
    for body in ("", "   \n\t ", "\x00\x07"):
        with pytest.raises(InputError) as caught:
            comments.add_comment(trained.workbench, owner, run_id=trained.run_id, body=body)
        assert caught.value.key == "comments.empty"
    with pytest.raises(InputError) as caught:
        comments.add_comment(trained.workbench, owner, run_id=trained.run_id, body="x" * (comments.MAX_LENGTH + 1))
    assert caught.value.key == "comments.too_long" and caught.value.params["limit"] == comments.MAX_LENGTH
    assert comments.add_comment(trained.workbench, owner, run_id=trained.run_id, body="y" * comments.MAX_LENGTH)
    markup = "<script>alert(1)</script> **bold**\x1b[31m"
    cid = comments.add_comment(trained.workbench, owner, run_id=trained.run_id, body=markup)
    stored = next(c for c in comments.list_comments(trained.workbench, owner, run_id=trained.run_id) if c.id == cid)
    assert stored.body == "<script>alert(1)</script> **bold**[31m"  # kept as text; the page escapes it
    with pytest.raises(NotFound) as missing:
        comments.add_comment(trained.workbench, owner, run_id=999_999, body="hello")
    assert missing.value.key == "comments.run_not_found"


def test_hiding_keeps_the_comment_and_only_owners_may_do_it(trained):
    from workbench.services import comments, results

    owner = trained.actor()
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics"])
    scientist = trained.user("cm_scientist", "data_scientist")
    collaborator = trained.user("cm_collab2", "collaborator")
    cid = comments.add_comment(trained.workbench, collaborator, run_id=trained.run_id, body="Off-topic advert")
    for who in (scientist, collaborator):
        with pytest.raises(PermissionDenied):
            comments.hide_comment(trained.workbench, who, comment_id=cid)
    comments.hide_comment(trained.workbench, owner, comment_id=cid)
    comments.hide_comment(trained.workbench, owner, comment_id=cid)  # twice is once
    assert cid not in {c.id for c in comments.list_comments(trained.workbench, collaborator, run_id=trained.run_id)}
    assert cid not in {c.id for c in comments.list_comments(trained.workbench, scientist, run_id=trained.run_id)}
    seen = next(c for c in comments.list_comments(trained.workbench, owner, run_id=trained.run_id) if c.id == cid)
    assert seen.hidden and seen.hidden_by == "admin" and seen.body == "Off-topic advert"
    with session_scope(trained.workbench.engine) as session:
        row = session.get(Comment, cid)
        assert row.hidden and row.body == "Off-topic advert" and row.hidden_at is not None
    hidden = [e for e in _events(trained, "comments.moderate") if e.resource_id == str(cid)]
    assert len(hidden) == 1 and hidden[0].outcome == "succeeded"
    denied = [e for e in _events(trained, "comments.moderate") if e.outcome == "denied"]
    assert {e.actor_id for e in denied} >= {scientist.user_id, collaborator.user_id}
    with pytest.raises(NotFound):
        comments.hide_comment(trained.workbench, owner, comment_id=999_999)


def test_outsiders_cannot_read_the_thread(trained):
    from workbench.services import accounts, comments

    owner = trained.actor()
    accounts.create_user(trained.workbench, owner, username="cm_outsider", password="an outsider walks by 42 times")
    outsider_id = accounts.sign_in(trained.workbench, username="cm_outsider",
                                   password="an outsider walks by 42 times").user_id
    outsider = trained.actor(outsider_id)
    with pytest.raises(PermissionDenied):
        comments.list_comments(trained.workbench, outsider, run_id=trained.run_id)
    with pytest.raises(PermissionDenied):
        comments.add_comment(trained.workbench, outsider, run_id=trained.run_id, body="hi")
