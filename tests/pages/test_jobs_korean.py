"""A Korean session's Jobs page reads the progress lines of real finished jobs in Korean."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP, sign_in, trained_app
from workbench.jobs import get_job, list_jobs
from workbench.services import datasets
from workbench.services.datasets import UploadChoices


def test_a_korean_session_reads_finished_jobs_in_korean(app_env, datasets_dir, tmp_path_factory):
    # a tiny training of the demo, then an ingest of the same table, both through the real job runner
    workbench, owner, project = trained_app(app_env, datasets_dir, tmp_path_factory)
    data = (datasets_dir / "heart_failure_clinical_records.csv").read_bytes()
    digest = datasets.stage_upload(workbench, owner, project_id=project, data=data, filename="heart.csv")
    datasets.submit_version_job(workbench, owner, project_id=project, raw_digest=digest, filename="heart.csv",
                                choices=UploadChoices())
    jobs = list_jobs(workbench, project_id=project)
    assert sorted((job.kind, get_job(workbench, job.id).state) for job in jobs) == [
        ("ingest", "succeeded"), ("train", "succeeded")]

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    sign_in(at)
    at.switch_page("../pages/jobs.py")
    at.run()
    assert not at.exception, at.exception
    lines = [box.value for box in at.success]
    assert "새 데이터셋 버전이 저장되었습니다" in lines, lines
    trained = [line for line in lines if line.startswith("시행 3회 · 최고 AUROC ")]
    assert len(trained) == 1 and trained[0].endswith("초 · CPU"), lines
    assert not any("trials" in line or "roc_auc" in line for line in lines), lines
