"""Scenario 3 (so far): an owner shares the project with an outside collaborator, who sees no rows."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUEST_PASSWORD = "quiet tandem rides east 77"


def _open(data_dir):
    from workbench.context import open_workbench
    from workbench.settings import default_settings

    return open_workbench(default_settings(data_dir=str(data_dir)))


def test_owner_shares_with_a_collaborator_who_cannot_reach_the_data(shared_server, browser):
    from workbench.services import accounts

    workbench = _open(shared_server.data_dir)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    accounts.create_user(workbench, admin, username="dr_guest", password=GUEST_PASSWORD)

    # the owner (the admin owns the demo) invites the collaborator for 90 days, in the browser
    owner = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = owner.new_page()
    page.set_default_timeout(60_000)
    sign_in(page, shared_server.url)
    page.get_by_text("Heart failure mortality (demo)").filter(visible=True).first.wait_for()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Members", exact=True).click()
    page.get_by_role("heading", name="Invite or change a member").wait_for()
    page.get_by_label("User name").fill("dr_guest")
    page.get_by_role("button", name="Save membership").click()
    page.get_by_text("dr_guest now has access to this project.").wait_for()
    shot(page, "10-members-invited")
    owner.close()

    guest = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = guest.new_page()
    page.set_default_timeout(60_000)
    sign_in(page, shared_server.url, "dr_guest", GUEST_PASSWORD)
    page.get_by_text("Heart failure mortality (demo)").filter(visible=True).first.wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="Projects").wait_for()
    page.get_by_text("Done").filter(visible=True).first.wait_for()
    links = [text.strip().splitlines()[-1] for text in sidebar.get_by_role("link").all_inner_texts()]
    shot(page, "11-collaborator-home")
    assert "Projects" in links
    assert "Data" not in links and "Accounts" not in links and "Audit log" not in links
    guest.close()

    with workbench.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.username = 'dr_guest'").all()
        audited = connection.exec_driver_sql(  # (the shared server holds other journeys' members too)
            "SELECT a.actor_name FROM audit_events a JOIN users u ON a.resource_id = CAST(u.id AS TEXT) "
            "WHERE a.action = 'members.add' AND a.resource_type = 'user' AND u.username = 'dr_guest'").all()
    assert rows == [("collaborator",)] and audited == [("admin",)]
