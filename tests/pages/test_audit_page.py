"""The Audit page names users and projects and says each reason in words, in English and Korean;
the ids stay in the CSV download (tests/workbench/test_audit_names.py)."""

from __future__ import annotations

import pytest

from pipelines.errors import WorkbenchError
from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import open_page

WORDS = {"en": ("Wrong user name or password", "User dr_lee", "Code", "Outcome", "Resource", "Project", "Reason"),
         "ko": ("사용자 이름 또는 비밀번호 오류", "사용자 dr_lee", "코드", "결과", "대상", "프로젝트", "사유")}


def test_the_audit_table_reads_names_and_reasons_not_codes(app_env):
    from workbench.context import open_workbench
    from workbench.services import accounts, projects
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(app_env)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    demo = projects.list_projects(workbench, admin)[0]
    accounts.create_user(workbench, admin, username="dr_lee", password="a tandem rides quietly east 42")
    projects.add_member(workbench, admin, project_id=demo.id, username="dr_lee", role="clinician")
    with pytest.raises(WorkbenchError):
        accounts.sign_in(workbench, username="dr_lee", password="not the password at all")

    for lang in ("en", "ko"):
        at = open_page("admin_audit.py", lang=lang)
        frame = at.dataframe[0].value
        reason, member, code, outcome, resource, project, reason_col = WORDS[lang]
        headers = [str(c) for c in frame.columns]
        assert {outcome, resource, project, reason_col, code} <= set(headers), headers
        refused = frame[frame[code] == "auth.sign_in"]
        assert reason in set(refused[reason_col]), refused.to_dict("records")
        added = frame[frame[code] == "members.add"].iloc[0]
        assert (added[resource], added[project]) == (member, demo.name)
        cells = {str(v) for v in frame.to_numpy().ravel()}
        assert not cells & {"bad_credentials", "not_member", str(demo.id), "user 2"}, cells
