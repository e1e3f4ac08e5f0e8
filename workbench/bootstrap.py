"""First start: the first admin account and the demo project.

There is no default password anywhere: the first admin's password comes from
``WORKBENCH_ADMIN_PASSWORD`` or is generated here and shown once on the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from permissions.passwords import generate_password
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Project, User

__all__ = ["FirstStart", "first_start", "DEMO_DATASET"]

DEMO_DATASET = Path(__file__).with_name("demo") / "heart_failure_clinical_records.csv"


@dataclass(frozen=True)
class FirstStart:
    admin_username: str | None = None
    generated_password: str | None = None
    demo_project_id: int | None = None


def first_start(workbench: Workbench) -> FirstStart:
    """Create what a fresh installation needs; do nothing on later starts."""
    from workbench.services import accounts, projects

    with session_scope(workbench.engine) as session:
        has_users = bool(session.scalar(select(func.count()).select_from(User)))
        has_demo = bool(session.scalar(select(func.count()).select_from(Project).where(Project.is_demo)))
    if has_users:
        return FirstStart()

    settings = workbench.settings
    password = settings.admin_password or generate_password()
    username = settings.admin_username
    accounts.create_user(workbench, None, username=username, password=password, site_role="admin",
                         display_name="Administrator")
    demo_id = None
    if settings.demo_project and not has_demo:
        with session_scope(workbench.engine) as session:
            from workbench.services._access import load_actor

            admin = load_actor(session, session.scalar(select(User.id).where(User.username == username)))
        demo_id = projects.create_project(
            workbench, admin, name="Heart failure mortality (demo)", is_demo=True,
            description="299 patients with heart failure (Chicco & Jurman 2020, CC BY 4.0); outcome DEATH_EVENT.")
        from workbench.services import datasets

        datasets.import_file(workbench, projects_actor(workbench, admin), project_id=demo_id, path=DEMO_DATASET,
                             label=DEMO_DATASET.name)
    return FirstStart(admin_username=username, generated_password=None if settings.admin_password else password,
                      demo_project_id=demo_id)


def projects_actor(workbench: Workbench, actor):
    """The actor reloaded after a project was created, so it holds the new membership."""
    from workbench.services._access import load_actor

    with session_scope(workbench.engine) as session:
        return load_actor(session, actor.user_id)
