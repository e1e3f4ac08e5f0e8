"""In a real browser, a Korean physician's Jobs page: a finished training job's summary line in Korean."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import nav, password_for, shot, sign_in, trained_demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60_000


def test_korean_jobs_page_reads_the_training_summary_in_korean(shared_server, browser, datasets_dir):
    trained_demo(shared_server, datasets_dir, owner="dr_jobs_ko")  # her own project on the shared server
    context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    sign_in(page, shared_server.url, "dr_jobs_ko", password_for("dr_jobs_ko"), button="로그인")
    nav(page, "작업").click()
    page.get_by_text("모델 학습").filter(visible=True).first.wait_for()  # the job's kind
    summary = page.get_by_text("시행 3회 · 최고 AUROC ")
    summary.wait_for()
    assert summary.inner_text().endswith("초 · CPU")
    assert page.get_by_text("trials").count() == 0 and page.get_by_text("roc_auc").count() == 0
    shot(page, "90-jobs-korean")
    context.close()
