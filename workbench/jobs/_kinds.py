"""The job kinds, listed explicitly: name -> "module:function".

A job function takes ``(ctx: JobContext, params: dict)`` and returns a JSON-serialisable dict that
is stored as the job's result. Resolved lazily so that a worker imports only what it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["JOB_KINDS", "resolve"]

JOB_KINDS: dict[str, str] = {
    "ingest": "workbench.services.ingest_job:run_ingest_job",
    "train": "workbench.services.training_job:run_training_job",
    "validate": "workbench.services.validation_job:run_validation_job",
    "evaluate": "workbench.services.evaluation_job:run_evaluation_job",
}


def resolve(kind: str) -> Callable[..., dict[str, Any]]:
    target = JOB_KINDS[kind]
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
