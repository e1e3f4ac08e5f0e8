"""A job's progress line is a message key with parameters, put into words in the reader's language.

Every producer's key is checked against both catalogues (by reading the call sites, so a new
``ctx.progress(..., "free text")`` fails here); the line is rendered in Korean with numbers and
names formatted at display time; old free-text rows still show; the migration keeps old rows.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from workbench.db.engine import session_scope
from workbench.db.models import Job
from workbench.i18n import catalogue
from workbench.jobs import JobContext, create_job, get_job
from workbench.jobs.status import job_status_line, part, status_line

ROOT = Path(__file__).resolve().parents[2]
# The jobs that report progress, and how many call sites each has (so that the walk cannot pass
# by finding nothing: a producer that loses its calls, or a new one, changes this table).
PRODUCERS = {
    "workbench/services/datasets.py": 4,
    "workbench/services/training_job.py": 4,
    "workbench/services/_training_dask.py": 3,
    "workbench/services/evaluation_job.py": 2,
    "workbench/services/validation_job.py": 4,
}


def _reports(tree: ast.AST) -> list[tuple[ast.Call, ast.expr | None]]:
    """Every ``ctx.progress(f, key, ...)`` / ``step(f, key)`` (with its key argument) and
    ``part(key, ...)`` (a piece of a line) in a module."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
        if (isinstance(func, ast.Attribute) and func.attr == "progress" and receiver.endswith("ctx")
                or isinstance(func, ast.Name) and func.id == "step"):
            found.append((node, node.args[1] if len(node.args) > 1 else None))
        elif isinstance(func, ast.Name) and func.id == "part":
            found.append((node, node.args[0] if node.args else None))
    return found


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("path", sorted(PRODUCERS))
def test_every_progress_key_is_in_both_catalogues_with_its_placeholders(path):
    reports = _reports(ast.parse((ROOT / path).read_text(encoding="utf-8")))
    assert len([r for r in reports if not (isinstance(r[0].func, ast.Name) and r[0].func.id == "part")]) \
        == PRODUCERS[path], f"{path}: progress call sites changed; update PRODUCERS"
    en, ko = catalogue("en"), catalogue("ko")
    for call, key in reports:
        where = f"{path}:{call.lineno}"
        assert isinstance(key, ast.Constant) and isinstance(key.value, str), \
            f"{where}: the status must be a literal message key, not {ast.unparse(key) if key else 'nothing'}"
        assert key.value in en and key.value in ko, f"{where}: {key.value!r} missing in en or ko"
        if any(k.arg is None for k in call.keywords):
            continue  # **params: checked by rendering below
        given = {k.arg for k in call.keywords}
        assert given == _placeholders(en[key.value]) == _placeholders(ko[key.value]), \
            f"{where}: {key.value} is given {sorted(given)}, its text needs {sorted(_placeholders(en[key.value]))}"


def test_the_walk_refuses_free_text_and_unknown_keys():
    """The check above would fail on the old kind of call (an honest test can fail)."""
    old = ast.parse('ctx.progress(1.0, f"{n} · auroc {s:.3f}")\nstep(0.5, "applying choices")')
    keys = [key for _, key in _reports(old)]
    assert isinstance(keys[0], ast.JoinedStr)
    assert keys[1].value not in catalogue("en")


def test_the_training_summary_reads_in_korean_with_numbers_formatted_on_display():
    params = {"count": 12, "metric": "roc_auc", "score": 0.81234, "family": "xgboost", "seconds": 61.7, "device": "cpu"}
    ko = status_line("jobs.status.trained", params, "ko")
    assert ko == "시행 12회 · 최고 AUROC 0.812 (XGBoost) · 62초 · CPU"
    assert status_line("jobs.status.trained", params, "en") == "12 trials · best AUROC 0.812 (XGBoost) · 62 s · CPU"
    assert "(로지스틱 / 선형 회귀)" in status_line("jobs.status.trained", {**params, "family": "linear"}, "ko")


def test_a_line_made_of_pieces_and_an_evaluation_step():
    search = {"trials": part("jobs.status.trials_of", done=3, total=20), "best": part("jobs.status.no_best"),
              "seconds": 4.2, "device": "cuda"}
    assert status_line("jobs.status.search", search, "ko") == "탐색 중: 시행 3/20회 · 아직 끝난 시행 없음 · 4초 · CUDA"
    step = {"number": 2, "total": 3, "model_id": 17, "step": "test:roc"}
    assert status_line("jobs.status.evaluating", step, "ko") == "모델 3개 중 2번째(모델 #17): 신뢰대가 있는 ROC 곡선 (검증셋)"
    assert status_line("jobs.status.evaluating", step, "en") == "Model 2 of 3 (model #17): ROC curve with CI band (Holdout)"


def test_old_free_text_and_an_empty_line_show_as_they_are():
    assert status_line("12 · roc_auc 0.812 (xgboost) · 3 s · cpu", {}, "ko") == "12 · roc_auc 0.812 (xgboost) · 3 s · cpu"
    assert status_line("", None, "ko") == "" and status_line(None, None, "en") == ""


def test_job_context_stores_the_key_and_plain_json_params(workbench):
    job_id = create_job(workbench, kind="train", params={}, project_id=None, user_id=None)
    ctx = JobContext(workbench, job_id)
    ctx.start()
    ctx.progress(0.5, "jobs.status.trained", count=np.int64(4), metric="roc_auc", score=np.float64(0.75),
                 family="linear", seconds=float("nan"), device="cpu")
    ctx.stop()  # flushes what is pending
    job = get_job(workbench, job_id)
    assert job.status_text == "jobs.status.trained"
    assert job.status_params == {"count": 4, "metric": "roc_auc", "score": 0.75, "family": "linear",
                                 "seconds": None, "device": "cpu"}
    assert job_status_line(job, "ko") == "시행 4회 · 최고 AUROC 0.750 (로지스틱 / 선형 회귀) · -초 · CPU"


# --------------------------------------------------------------------------- the migration


@pytest.fixture
def engine_url(database_url, tmp_path):
    return database_url or f"sqlite:///{tmp_path / 'old.db'}"


def test_the_migration_keeps_old_rows_and_turns_stage_words_into_keys(engine_url):
    """A database at 0006 with jobs written before keys: after the upgrade every row has empty
    params, the fixed words are keys (so they read in Korean), a summary line stays as it was."""
    from alembic import command

    from workbench.db.engine import make_engine
    from workbench.db.migrate import alembic_config

    engine = make_engine(engine_url)
    config = alembic_config(engine_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006_invitations")
        old = [("ingest", "profiling"), ("validate", "reading"), ("train", "12 · roc_auc 0.812 (xgboost) · 3 s · cpu")]
        with engine.begin() as connection:
            for kind, text in old:
                connection.execute(sa.text(
                    "INSERT INTO jobs (kind, params, state, progress, status_text, log, result, error_params, created_at)"
                    " VALUES (:kind, '{}', 'succeeded', 1.0, :text, '', '{}', '{}', CURRENT_TIMESTAMP)"),
                    {"kind": kind, "text": text})
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with session_scope(engine) as session:
            jobs = session.scalars(sa.select(Job).order_by(Job.id)).all()
            lines = [(job.status_text, job.status_params, job_status_line(job, "ko")) for job in jobs]
        assert lines == [("jobs.status.profiling", {}, "열 요약 통계 계산 및 표 저장 중"),
                         ("validation.stage.reading", {}, "파일을 읽고 모델을 적용하는 중"),
                         (old[2][1], {}, old[2][1])]
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006_invitations")
            assert connection.execute(sa.text("SELECT status_text FROM jobs ORDER BY id")).scalars().all() \
                == [text for _, text in old]
    finally:
        engine.dispose()
