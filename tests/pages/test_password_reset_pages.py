"""The admin's Reset password form, and the change-password form a reset account is held on until
it picks its own password (any page address opens that form, the server's mark decides)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from pages._shell import _PAGES
from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import APP, open_page, sign_in
from workbench.context import open_workbench
from workbench.db.engine import session_scope
from workbench.services import accounts
from workbench.services._access import load_actor

PASSWORD = "a quiet tandem rides past the ward 7"
TEMPORARY = "lantern harbour quiet 4182"
CHOSEN = "my own slow river of thoughts 29"


def _admin(wb):
    return accounts.resolve_session(wb, accounts.sign_in(wb, username="admin", password=ADMIN_PASSWORD).token)


def _must_change(wb, user_id: int) -> bool:
    """The mark as the shell reads it: on the actor that the session resolves to."""
    with session_scope(wb.engine) as session:
        return load_actor(session, user_id).must_change_password


def _field(at, label: str):
    (found,) = [w for w in at.text_input if w.label == label]
    return found


def _press(at, label: str) -> None:
    (found,) = [b for b in at.button if b.label == label]
    found.click()
    at.run()
    assert not at.exception, at.exception


def test_admin_resets_a_password_with_the_form_in_korean(app_env):
    wb = open_workbench()
    user_id = accounts.create_user(wb, _admin(wb), username="dr_kim", password=PASSWORD)
    at = open_page("admin_accounts.py", lang="ko")
    table = at.dataframe[0].value
    assert set(table["사이트 역할"]) == {"사이트 관리자", "사용자"}  # names, not the codes admin/user
    (role_select,) = [s for s in at.selectbox if s.label == "사이트 역할"]
    assert role_select.options == ["사용자", "사이트 관리자"]
    assert at.selectbox(key="reset_who").options == ["dr_kim"]  # not oneself: the service refuses that

    _field(at, "임시 비밀번호").input(TEMPORARY)
    _field(at, "임시 비밀번호 확인").input(TEMPORARY + "x")
    _press(at, "비밀번호 재설정")
    assert [e.value for e in at.error] == ["두 비밀번호가 다릅니다. 같은 비밀번호를 두 번 입력하세요."]
    _field(at, "임시 비밀번호").input("dr_kim 1234567")
    _field(at, "임시 비밀번호 확인").input("dr_kim 1234567")
    _press(at, "비밀번호 재설정")
    assert len(at.error) == 1 and "사용자 이름" in at.error[0].value  # the rule it breaks, in Korean
    assert not _must_change(wb, user_id)

    _field(at, "임시 비밀번호").input(TEMPORARY)
    _field(at, "임시 비밀번호 확인").input(TEMPORARY)
    _press(at, "비밀번호 재설정")
    assert not at.error
    assert [s.value for s in at.success] == [(
        "dr_kim의 비밀번호를 재설정했습니다. 임시 비밀번호는 안전한 경로로 전달하세요. "
        "dr_kim은(는) 다음 로그인 때 비밀번호를 바꿔야 합니다.")]
    assert _must_change(wb, user_id)
    table = at.dataframe[0].value
    assert table.set_index("사용자 이름").loc["dr_kim", "비밀번호 변경 필요"]


def test_a_reset_account_sees_only_the_change_form_until_it_changes_the_password(app_env):
    wb = open_workbench()
    admin = _admin(wb)
    user_id = accounts.create_user(wb, admin, username="dr_kim", password=PASSWORD)
    accounts.reset_password(wb, admin, user_id=user_id, new_password=TEMPORARY)

    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, "dr_kim", TEMPORARY)
    assert [t.value for t in at.title] == ["My account"]
    assert at.warning[0].value.startswith("A site administrator reset your password.")
    registered = {info.get("url_pathname"): page_hash for page_hash, info in at._registered_pages.items()}
    for spec in _PAGES:  # a bookmarked page opens the form too, not the page
        at._page_hash = registered[spec.file.removesuffix(".py")]
        at.run()
        assert not at.exception, (spec.file, at.exception)
        assert [t.value for t in at.title] == ["My account"], spec.file
        assert "Temporary password" in [t.label for t in at.text_input], spec.file
    assert not [link for link in at.get("page_link")]  # no way to the other pages in the sidebar

    _field(at, "Temporary password").input(TEMPORARY)
    _field(at, "New password").input(CHOSEN)
    _field(at, "New password again").input(CHOSEN)
    _press(at, "Change password")
    assert not at.error
    assert not _must_change(wb, user_id)
    assert "Projects" in [link.proto.label for link in at.get("page_link")]  # every page opens again
    assert not at.warning
