"""What users may do with jobs: list a project's jobs, cancel one. Permission-checked and audited."""

from __future__ import annotations

from permissions.actions import Action
from permissions.policy import Actor
from workbench.context import Workbench
from workbench.db.engine import session_scope
from workbench.db.models import Job
from workbench.jobs import get_job, list_jobs, request_cancel
from workbench.services import audit
from workbench.services._access import authorize

__all__ = ["project_jobs", "cancel_job"]


def project_jobs(workbench: Workbench, actor: Actor, project_id: int, *, limit: int = 30) -> list[Job]:
    authorize(workbench, actor, Action.PROJECT_VIEW, project_id=project_id)
    return list_jobs(workbench, project_id=project_id, limit=limit)


def cancel_job(workbench: Workbench, actor: Actor, job_id: int) -> str:
    job = get_job(workbench, job_id)
    authorize(workbench, actor, Action.TRAINING_CANCEL, project_id=job.project_id)
    state = request_cancel(workbench, job_id)
    with session_scope(workbench.engine) as session:
        audit.record(session, actor_id=actor.user_id, actor_name=actor.name or "", action="jobs.cancel", outcome="succeeded",
                     resource_type="job", resource_id=job_id, project_id=job.project_id, details={"state": state})
    return state
