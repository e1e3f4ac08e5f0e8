"""An owner invites an e-mail address in the Members page; that person's first single sign-on (a
real OIDC provider on loopback, tests/oidc_provider.py) creates their account with the invited role.

The invited collaborator lands in the project, sees the shared results and is refused the data page.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import nav, pick_option, session_cookie, shot
from tests.e2e.test_sso_journey import sso_server  # noqa: F401 (the fixture: provider + served workbench)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OWNER_PASSWORD = "a quiet tandem rides past the ward 7"


def test_owner_invites_an_email_and_its_first_sso_sign_in_joins_the_project(sso_server, browser):  # noqa: F811
    from workbench.context import open_workbench
    from workbench.db.engine import session_scope
    from workbench.db.models import AuditEvent, Membership, User
    from workbench.services import accounts, projects, results
    from workbench.settings import default_settings

    server, idp = sso_server
    workbench = open_workbench(default_settings(data_dir=str(server.data_dir)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    accounts.create_user(workbench, admin, username="dr_owner", password=OWNER_PASSWORD, email="owner@hospital.example")
    owner = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="dr_owner", password=OWNER_PASSWORD).token)
    project_id = projects.create_project(workbench, owner, name="Heart failure mortality")
    owner = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="dr_owner", password=OWNER_PASSWORD).token)
    results.set_sharing(workbench, owner, project_id=project_id, facets=["metrics", "figures", "tables", "model_card"])

    context = browser.new_context(viewport={"width": 1300, "height": 1100}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)

    # The owner invites x@hospital.example as a collaborator, by clicking.
    page.goto(server.url)
    page.get_by_label("User name").fill("dr_owner")
    page.get_by_role("textbox", name="Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    nav(page, "Members").click()
    page.get_by_role("heading", name="Invite by e-mail (single sign-on)").wait_for()
    form = page.get_by_test_id("stForm").filter(has=page.get_by_label("E-mail address"))
    pick_option(page, form.get_by_label("Role"), "Collaborator (results only)", typed="Collab")
    page.get_by_label("E-mail address").fill("X@Hospital.example")
    form.get_by_role("button", name="Invite").click()
    page.get_by_text("x@hospital.example is invited.").wait_for()
    pending = page.get_by_test_id("stDataFrame").last
    pending.wait_for()
    page.get_by_text("Pending invitations").wait_for()
    shot(page, "invitation_pending")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with Test Hospital").wait_for()
    assert idp.logouts == []  # a password session's sign-out is not sent to the identity provider

    # Its first single sign-on: an account is made, with the invited role in the project.
    idp.person = {"sub": "idp-x-1", "email": "x@hospital.example", "email_verified": True, "name": "Dr X"}
    page.get_by_role("button", name="Sign in with Test Hospital").click()
    page.get_by_text("Signed in as x").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    nav(page, "Results").wait_for()  # listed only with a membership of the project
    links = [text.strip().splitlines()[-1] for text in sidebar.get_by_role("link").all_inner_texts()]
    assert "Results" in links and "Data" not in links and "Members" not in links
    nav(page, "Results").click()
    page.get_by_role("heading", name="Results").first.wait_for()
    shot(page, "invitation_collaborator_results")
    session_cookie(context)
    page.goto(server.url + "/data")
    page.get_by_text("Your role (collaborator) does not allow this (dataset.view_rows)").wait_for()
    context.close()

    with session_scope(workbench.engine) as session:
        user = session.scalar(sa.select(User).where(User.email == "x@hospital.example"))
        assert (user.username, user.site_role, user.password_hash, user.sso_key) == ("x", "user", None, f"{idp.issuer}#idp-x-1")
        assert session.scalar(sa.select(Membership.role).where(Membership.user_id == user.id,
                                                               Membership.project_id == project_id)) == "collaborator"
        granted = session.execute(sa.select(AuditEvent.actor_name, AuditEvent.details)
                                  .where(AuditEvent.action == "members.add", AuditEvent.resource_id == str(user.id))).one()
        assert granted.actor_name == "dr_owner" and granted.details["email"] == "x@hospital.example"
