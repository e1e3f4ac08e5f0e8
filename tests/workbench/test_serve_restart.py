"""Kill the whole server (web process, Streamlit, Dask workers) in the middle of a job, start it again."""

from __future__ import annotations

import re
import sqlite3
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


def _open(data_dir):
    from workbench.context import open_workbench
    from workbench.settings import default_settings

    return open_workbench(default_settings(data_dir=str(data_dir), admin_password=ADMIN_PASSWORD))


def test_killing_the_server_mid_job_leaves_a_consistent_database_and_a_failed_job(tmp_path):
    from workbench.jobs import JobQueue, get_job
    from workbench.services import accounts, datasets
    from workbench.services.datasets import UploadChoices

    server = Server(tmp_path / "data", tmp_path / "server.log").start()
    try:
        scheduler = re.search(r"local Dask cluster at (tcp://\S+)", server.output()).group(1)
        workbench = _open(server.data_dir)
        signed = accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD)
        owner = accounts.resolve_session(workbench, signed.token)
        demo = next(iter(owner.memberships))
        before = {d: workbench.store.verified_path(d) for d in workbench.store.digests()}

        rng = np.random.default_rng(0)
        big = tmp_path / "labs.csv"
        # 400,000 rows (a long enough ingest to be killed in): 10,000 random ones written 40 times,
        # as formatting 12 million numbers took longer than the rest of the test
        block = pd.DataFrame(rng.normal(size=(10_000, 30)).round(3), columns=[f"lab_{i}" for i in range(30)]).to_csv(index=False)
        header, rows = block.split("\n", 1)
        big.write_text(header + "\n" + rows * 40)
        digest = datasets.stage_upload(workbench, owner, project_id=demo, data=big.read_bytes(), filename="labs.csv")
        workbench.jobs = JobQueue(scheduler, workbench.settings)
        job_id = datasets.submit_version_job(workbench, owner, project_id=demo, raw_digest=digest, filename="labs.csv",
                                             choices=UploadChoices())
        deadline = time.monotonic() + 60
        while get_job(workbench, job_id).state != "running":
            assert time.monotonic() < deadline, "job never started"
            time.sleep(0.05)
        workbench.jobs.close()
        server.kill_everything()
        assert get_job(workbench, job_id).state == "running"  # nobody could record the end

        restarted = Server(server.data_dir, tmp_path / "server2.log").start()
        try:
            assert "Marked 1 job(s) interrupted" in restarted.output()
            job = get_job(workbench, job_id)
            assert job.state == "failed" and job.error_key == "jobs.interrupted_by_restart"
            connection = sqlite3.connect(server.data_dir / "workbench.db")
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            connection.close()
            for digest_before in before:  # earlier artifacts keep their checksums
                workbench.store.verified_path(digest_before)
            assert list(workbench.store.tmp.iterdir()) == []  # no partial file visible
            with workbench.engine.connect() as c:
                versions = c.exec_driver_sql("SELECT count(*) FROM dataset_versions").scalar()
            assert versions == 1  # the demo's version; the interrupted one was never half-written
        finally:
            restarted.stop()
    finally:
        server.stop()
