"""Numbering new versions (v1, v2, ...) inside a project without two writers taking the same number."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.db.models import Project

__all__ = ["next_version"]


def next_version(session: Session, model, project_id: int) -> int:
    """The next version number of ``model`` rows in the project, holding the project row's lock.

    On PostgreSQL ``FOR UPDATE`` on the project row makes concurrent writers in the same project
    wait for each other (read committed would otherwise let two of them read the same maximum);
    SQLite transactions already start with ``BEGIN IMMEDIATE`` (see ``workbench.db.engine``).
    """
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    return (session.scalar(select(func.max(model.version)).where(model.project_id == project_id)) or 0) + 1
