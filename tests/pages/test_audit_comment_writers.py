"""Scenario 3 step 3 as the IT reviewer reads it: the owner's and an outside collaborator's comments on the
shared results are both in the Audit page, each under its writer's name, with the comment and the project
named (the page in Korean, the actions picked by name)."""

from __future__ import annotations

from tests.pages.conftest import open_page, trained_app

COLLABORATOR, PASSWORD = "dr_park_ext", "a lantern drifts over nine quiet fields"


def test_both_comment_writers_appear_in_the_audit_log(app_env, datasets_dir, tmp_path_factory):
    from workbench.db.engine import session_scope
    from workbench.services import accounts, comments, projects, results, training
    from workbench.services._access import load_actor

    workbench, owner, project_id = trained_app(app_env, datasets_dir, tmp_path_factory)
    run_id = training.list_runs(workbench, owner, project_id)[0].id
    user_id = accounts.create_user(workbench, owner, username=COLLABORATOR, password=PASSWORD)
    projects.add_member(workbench, owner, project_id=project_id, username=COLLABORATOR, role="collaborator")
    results.set_sharing(workbench, owner, project_id=project_id, facets={"metrics", "figures"})
    with session_scope(workbench.engine) as session:
        guest = load_actor(session, user_id)
    mine = comments.add_comment(workbench, owner, run_id=run_id, body="외부 검증 코호트에서 다시 확인 부탁드립니다.")
    theirs = comments.add_comment(workbench, guest, run_id=run_id, body="Calibration looks fine in our cohort.")
    project = projects.get_project(workbench, owner, project_id).name
    workbench.engine.dispose()

    at = open_page("admin_audit.py", lang="ko")
    at.multiselect[0].select("comments.write").run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    rows = {(r["사용자"], r["동작"], r["결과"], r["대상"], r["프로젝트"], r["코드"]) for r in frame.to_dict("records")}
    assert rows == {(owner.name, "댓글 쓰기", "성공", f"댓글 #{mine}", project, "comments.write"),
                    (COLLABORATOR, "댓글 쓰기", "성공", f"댓글 #{theirs}", project, "comments.write")}, rows
