"""A Korean session's Jobs page reads the progress lines of real finished jobs in Korean."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from pipelines.recipe import DropColumns, suggest_recipe
from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import APP, sign_in
from tests.workbench.test_training_service import TINY, InlineQueue
from workbench.db.engine import session_scope
from workbench.db.models import Project
from workbench.jobs import get_job
from workbench.services import accounts, datasets, recipes, training
from workbench.services._access import load_actor
from workbench.services.datasets import UploadChoices


def _finished_jobs(datasets_dir) -> tuple[int, int]:
    """An ingest of the heart failure table and a tiny training on it, run by the real job runner."""
    from workbench.context import open_workbench

    workbench = open_workbench()
    workbench.jobs = InlineQueue(workbench.settings)
    signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD)
    with session_scope(workbench.engine) as session:
        project = session.scalar(select(Project.id).where(Project.is_demo))
        owner = load_actor(session, signed.user_id)
    path = datasets_dir / "heart_failure_clinical_records.csv"
    digest = datasets.stage_upload(workbench, owner, project_id=project, data=path.read_bytes(), filename="heart.csv")
    ingest = datasets.submit_version_job(workbench, owner, project_id=project, raw_digest=digest,
                                         filename="heart.csv", choices=UploadChoices())
    version = get_job(workbench, ingest).result["dataset_version_id"]
    recipe = suggest_recipe(pd.read_csv(path), target="DEATH_EVENT")
    if "time" not in [c for s in recipe.steps if isinstance(s, DropColumns) for c in s.columns]:
        recipe = recipe.add(DropColumns(columns=("time",), note="recorded after the outcome"))
    recipe_version = recipes.save_version(workbench, owner, project_id=project, dataset_version_id=version, recipe=recipe)
    recipes.approve(workbench, owner, recipe_version_id=recipe_version)
    train = training.start_training(workbench, owner, recipe_version_id=recipe_version, settings=TINY,
                                    overrides_text=None)
    for job_id in (ingest, train):
        job = get_job(workbench, job_id)
        assert job.state == "succeeded", (job.kind, job.error_key, job.log[-2000:])
    return ingest, train


def test_a_korean_session_reads_finished_jobs_in_korean(app_env, datasets_dir):
    _finished_jobs(datasets_dir)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    sign_in(at)
    at.switch_page("../pages/jobs.py")
    at.run()
    assert not at.exception, at.exception
    lines = [box.value for box in at.success]
    assert "새 데이터셋 버전이 저장되었습니다" in lines, lines
    trained = [line for line in lines if line.startswith("시행 4회 · 최고 AUROC ")]
    assert len(trained) == 1 and trained[0].endswith("초 · CPU"), lines
    assert not any("trials" in line or "roc_auc" in line for line in lines), lines
