"""The discussion of a run: members and collaborators leave feedback, owners moderate.

Comments are plain text (the page renders them as text, never HTML) and are never deleted: hiding
keeps the comment in the database and records who hid it, so the audit log and the table together
tell the whole story. Reading needs the run's results to be visible to the reader, so a
collaborator only discusses what the owner shared.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from permissions.actions import Action
from permissions.policy import Actor, Resource, check
from pipelines.errors import InputError, NotFound
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Comment, Run, User, utcnow
from workbench.services import audit
from workbench.services._access import authorize
from workbench.services.results import results_resource

__all__ = ["MAX_LENGTH", "CommentView", "list_comments", "add_comment", "hide_comment"]

#: Longest comment accepted, in characters: feedback, not a manuscript.
MAX_LENGTH = 2000


@dataclass(frozen=True)
class CommentView:
    id: int
    run_id: int
    author: str
    body: str
    created_at: datetime
    hidden: bool
    hidden_by: str | None


def _run_project(workbench: Workbench, run_id: int) -> int:
    with session_scope(workbench.engine) as session:
        project_id = session.scalar(select(Run.project_id).where(Run.id == run_id))
    if project_id is None:
        raise NotFound("comments.run_not_found", run_id=run_id)
    return project_id


def _authorize(workbench: Workbench, actor: Actor, action: Action, project_id: int) -> None:
    resource = results_resource(workbench, project_id)
    authorize(workbench, actor, Action.RESULTS_VIEW, project_id=project_id, resource=resource)
    authorize(workbench, actor, action, project_id=project_id, resource=resource)


def _clean(body: str) -> str:
    """Plain text: control characters (other than line breaks and tabs) are removed."""
    if not isinstance(body, str):
        raise InputError("comments.empty")
    text = "".join(ch for ch in body.replace("\r\n", "\n")
                   if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return text.strip()


def list_comments(workbench: Workbench, actor: Actor, *, run_id: int) -> list[CommentView]:
    """The thread of a run, oldest first. Hidden comments are shown only to moderators."""
    project_id = _run_project(workbench, run_id)
    _authorize(workbench, actor, Action.COMMENTS_READ, project_id)
    moderator = check(actor, Action.COMMENTS_MODERATE, Resource.project(project_id), now=utcnow()).allowed
    with session_scope(workbench.engine) as session:
        rows = session.execute(select(Comment, User.username).join(User, User.id == Comment.author_id)
                               .where(Comment.run_id == run_id).order_by(Comment.id)).all()
        names = {u.id: u.username for u in session.scalars(
            select(User).where(User.id.in_({c.hidden_by for c, _ in rows if c.hidden_by is not None})))}
        return [CommentView(id=c.id, run_id=c.run_id, author=name, body=c.body, created_at=c.created_at,
                            hidden=c.hidden, hidden_by=names.get(c.hidden_by) if c.hidden_by else None)
                for c, name in rows if moderator or not c.hidden]


def add_comment(workbench: Workbench, actor: Actor, *, run_id: int, body: str) -> int:
    """Add a comment to the run's thread; returns its id."""
    project_id = _run_project(workbench, run_id)
    _authorize(workbench, actor, Action.COMMENTS_WRITE, project_id)
    text = _clean(body)
    if not text:
        raise InputError("comments.empty")
    if len(text) > MAX_LENGTH:
        raise InputError("comments.too_long", length=len(text), limit=MAX_LENGTH)
    with session_scope(workbench.engine) as session:
        comment = Comment(project_id=project_id, run_id=run_id, author_id=actor.user_id, body=text)
        session.add(comment)
        session.flush()
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""), action="comments.write",
                     outcome="succeeded", resource_type="comment", resource_id=comment.id, project_id=project_id,
                     details={"run_id": run_id, "length": len(text)})
        return comment.id


def hide_comment(workbench: Workbench, actor: Actor, *, comment_id: int) -> None:
    """Hide a comment from the thread (it stays in the database; the audit log says who hid it)."""
    with session_scope(workbench.engine) as session:
        comment = session.get(Comment, comment_id)
        project_id = comment.project_id if comment is not None else None
    if project_id is None:
        raise NotFound("comments.not_found", comment_id=comment_id)
    authorize(workbench, actor, Action.COMMENTS_MODERATE, project_id=project_id)
    with session_scope(workbench.engine) as session:
        comment = session.get(Comment, comment_id)
        if comment.hidden:
            return
        comment.hidden = True
        comment.hidden_by = actor.user_id
        comment.hidden_at = utcnow()
        audit.record(session, actor_id=actor.user_id, actor_name=getattr(actor, "name", ""),
                     action="comments.moderate", outcome="succeeded", resource_type="comment", resource_id=comment_id,
                     project_id=project_id, details={"run_id": comment.run_id, "author_id": comment.author_id})
