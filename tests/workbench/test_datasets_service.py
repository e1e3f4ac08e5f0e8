from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.errors import IngestError, InputError
from workbench.services import accounts, datasets, projects
from workbench.services.datasets import IdentifierDecision, UploadChoices


@pytest.fixture
def owner_project(workbench, make_user):
    login = make_user("dr_kim")
    owner = accounts.resolve_session(workbench, login.token)
    project_id = projects.create_project(workbench, owner, name="Readmission")
    return accounts.resolve_session(workbench, login.token), project_id


def _korean_export(tmp_path, rows: list[tuple[str, str, int, int]]) -> bytes:
    frame = pd.DataFrame(rows, columns=["환자번호", "주민등록번호", "나이", "재입원"])
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False, encoding="cp949")
    return path.read_bytes()


def test_identifier_decisions_drop_pseudonymise_and_are_recorded(workbench, owner_project, tmp_path):
    owner, project_id = owner_project
    rows = [(f"{100000 + i % 40}", f"{800101 + i:06d}-1{i:06d}", 40 + i % 30, i % 2) for i in range(120)]
    data = _korean_export(tmp_path, rows)
    digest = datasets.stage_upload(workbench, owner, project_id=project_id, data=data, filename="export.csv")
    read = datasets.read_upload(workbench, owner, project_id=project_id, raw_digest=digest, filename="export.csv",
                                choices=UploadChoices())
    flagged = {f.column: f.category for f in read.identifier_flags}
    assert flagged["주민등록번호"] == "korean_rrn" and "환자번호" in flagged
    assert read.encoding == "cp949"

    with pytest.raises(InputError) as caught:
        datasets.create_version(workbench, owner, project_id=project_id, raw_digest=digest, filename="export.csv",
                                choices=UploadChoices(identifier_decisions={"환자번호": IdentifierDecision("keep")}))
    assert caught.value.key == "datasets.keep_needs_reason"

    choices = UploadChoices(identifier_decisions={"주민등록번호": IdentifierDecision("drop"),
                                                  "환자번호": IdentifierDecision("pseudonymise")})
    first = datasets.create_version(workbench, owner, project_id=project_id, raw_digest=digest, filename="export.csv",
                                    choices=choices)
    second = datasets.create_version(workbench, owner, project_id=project_id, raw_digest=digest, filename="export.csv",
                                     choices=choices)
    frames = [pq.read_table(datasets.version_parquet_path(workbench, owner, v)).to_pandas() for v in (first, second)]
    assert "주민등록번호" not in frames[0].columns
    tokens = frames[0]["환자번호"]
    assert not tokens.isin([r[0] for r in rows]).any()          # no original number survives
    assert tokens.nunique() == 40                               # same patient, same token
    assert tokens.tolist() == frames[1]["환자번호"].tolist()    # stable across uploads of the project
    version = datasets.get_version(workbench, owner, first)
    assert version.column_flags["주민등록번호"]["decision"] == "drop"
    assert version.column_flags["환자번호"]["decision"] == "pseudonymise"
    assert [v.version for v in datasets.list_versions(workbench, owner, project_id)] == [2, 1]


def test_a_broken_upload_stores_no_version_and_keeps_earlier_ones(workbench, owner_project, datasets_dir):
    owner, project_id = owner_project
    good = datasets.import_file(workbench, owner, project_id=project_id, path=datasets_dir / "pima_diabetes.csv",
                                label="pima.csv")
    digest = datasets.stage_upload(workbench, owner, project_id=project_id, data=b"\x7fELF\x02\x01\x01" + bytes(500),
                                   filename="cohort.csv")
    with pytest.raises(IngestError):
        datasets.create_version(workbench, owner, project_id=project_id, raw_digest=digest, filename="cohort.csv",
                                choices=UploadChoices())
    assert [v.id for v in datasets.list_versions(workbench, owner, project_id)] == [good]
    # read with a choice of the user's (an encoding): refused, kept, so that another choice can be tried
    with pytest.raises(IngestError):
        datasets.read_upload(workbench, owner, project_id=project_id, raw_digest=digest, filename="cohort.csv",
                             choices=UploadChoices(encoding="cp949"))
    assert workbench.store.exists(digest)
    # read as detected (as the upload page does first) it is rejected and nothing of it is kept
    with pytest.raises(IngestError):
        datasets.read_upload(workbench, owner, project_id=project_id, raw_digest=digest, filename="cohort.csv",
                             choices=UploadChoices())
    assert not workbench.store.exists(digest)
    assert pq.read_table(datasets.version_parquet_path(workbench, owner, good)).num_rows == 768


def test_upload_over_the_size_limit_is_refused_before_storing(make_workbench, make_user):
    workbench = make_workbench(max_upload_mb=1)
    from tests.conftest import ADMIN_PASSWORD
    from workbench.bootstrap import first_start

    first_start(workbench)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    project_id = projects.create_project(workbench, admin, name="Big")
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    before = workbench.store.digests()
    with pytest.raises(InputError) as caught:
        datasets.stage_upload(workbench, admin, project_id=project_id, data=b"a" * (2 * 2**20), filename="big.csv")
    assert caught.value.key == "ingest.too_large"
    assert workbench.store.digests() == before
