"""The ``ingest`` job: make a dataset version from a staged upload on a Dask worker."""

from __future__ import annotations

from typing import Any

from workbench.jobs import JobContext
from workbench.services.datasets import UploadChoices, _materialise

__all__ = ["run_ingest_job"]


def run_ingest_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    version_id = _materialise(
        ctx.workbench,
        user_id=params["user_id"],
        actor_name=params.get("actor_name", ""),
        project_id=params["project_id"],
        raw_digest=params["raw_digest"],
        filename=params["filename"],
        choices=UploadChoices.from_json(params["choices"]),
        on_progress=ctx.progress,
    )
    return {"dataset_version_id": version_id}
