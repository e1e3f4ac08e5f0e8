"""External validation of the heart failure model: the run's own holdout patients saved as a separate
file reproduce the development numbers exactly; bad cohorts get precise messages; a discard leaves
nothing of the file (bytes, a distinctive value, its hash) in the database or on disk; kept data is
readable by its uploader only; the owner reads the aggregate report; outsiders are refused."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import String, Text, select
from sqlalchemy.types import JSON

from pipelines.errors import InputError, PermissionDenied
from tests.workbench.test_results_service import train_heart_failure
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent, Base, ExternalValidation

DISTINCT = 271828.18  # a platelet count no patient of the heart failure table has


# a real training and its evaluations (tens of seconds): scheduled with the slow files, not at the run's
# end where one long file would keep a process busy after the others are done (tests/conftest.py)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    return train_heart_failure(tmp_path_factory, datasets_dir, runs=1)


@pytest.fixture(scope="module")
def holdout(trained, datasets_dir) -> pd.DataFrame:
    """The run's holdout patients (never seen by the fitted model), as a hospital would export them."""
    from workbench.services import training

    frame = training.load_run_predictions(trained.workbench, trained.actor(), trained.run_id)
    rows = frame[(frame.part == "test") & (frame.model_id == frame.model_id.min())].row.to_numpy()
    table = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    return table.iloc[np.sort(rows)].reset_index(drop=True)


@pytest.fixture(scope="module")
def collaborator(trained):
    from workbench.services import results

    actor = trained.user("dr_val", "collaborator")
    results.set_sharing(trained.workbench, trained.actor(), project_id=trained.project_id,
                        facets=["metrics", "validation"])
    return actor


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_the_holdout_as_an_external_cohort_reproduces_the_development_results(trained, holdout):
    from workbench.services import validation

    owner = trained.actor()
    check = validation.check_cohort(trained.workbench, owner, run_id=trained.run_id, data=_csv(holdout),
                                    filename="holdout.csv")
    assert check.ready and check.columns.issues == () and check.n_used == len(holdout)
    validation_id = validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(holdout),
                                                filename="holdout.csv", subgroups=["sex", "age"])
    status = validation.validation_status(trained.workbench, owner, validation_id)
    assert status.state == "succeeded" and status.data_state == "discarded" and status.progress == 1.0
    report = validation.validation_report(trained.workbench, owner, validation_id)
    ext, dev = report.external, report.development
    # the same patients through the stored model, the recipe and the fitted preprocessing
    assert ext.part.n == dev.part.n == len(holdout)
    assert ext.part.metrics.auroc == dev.part.metrics.auroc
    assert ext.part.metrics.brier.value == pytest.approx(dev.part.metrics.brier.value, abs=1e-12)
    assert ext.recalibration == dev.recalibration
    np.testing.assert_allclose(ext.part.decision.net_benefit, dev.part.decision.net_benefit)
    assert ext.recalibrated is not None and ext.recalibrated.slope.value == pytest.approx(1.0, abs=1e-6)
    # one threshold, chosen on the development out-of-fold predictions, applied to both cohorts
    assert ext.part.metrics.threshold == dev.part.metrics.threshold == report.threshold
    levels = {(r.variable, r.level) for r in ext.subgroups.rows}
    assert {("sex", "0"), ("sex", "1")} <= levels and any(v == "age" and "\u2013" in lvl for v, lvl in levels)
    assert len(ext.part.roc.fpr) == 101  # a grid, not one vertex per patient
    assert status.summary["auroc"] == pytest.approx(ext.part.metrics.auroc.value)


def test_missing_and_renamed_columns_get_a_precise_message(trained, holdout):
    from workbench.i18n import message
    from workbench.services import validation

    owner = trained.actor()
    changed = holdout.rename(columns={"serum_creatinine": "Serum Creatinine"}).drop(columns=["smoking"])
    check = validation.check_cohort(trained.workbench, owner, run_id=trained.run_id, data=_csv(changed),
                                    filename="site.csv")
    assert not check.ready and {(i.column, i.kind, i.found) for i in check.columns.issues} == {
        ("serum_creatinine", "renamed", "Serum Creatinine"), ("smoking", "missing", "")}
    assert "Serum Creatinine" in check.file_columns
    with pytest.raises(InputError) as raised:
        validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(changed),
                                    filename="site.csv")
    assert raised.value.key == "validation.missing_renamed"
    text = message(raised.value, "en")
    assert "serum_creatinine, smoking" in text and "serum_creatinine \u2190 'Serum Creatinine'" in text
    assert "serum_creatinine" in message(raised.value, "ko")
    # mapping the renamed column leaves the one that is really missing
    with pytest.raises(InputError) as raised:
        validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(changed),
                                    filename="site.csv", renames={"serum_creatinine": "Serum Creatinine"})
    assert raised.value.key == "validation.missing_columns" and raised.value.params["columns"] == "smoking"
    with pytest.raises(InputError) as raised:
        validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(holdout),
                                    filename="site.csv", resamples=0)
    assert raised.value.key == "validation.bad_resamples" and "20000" in message(raised.value, "en")
    no_outcome = holdout.drop(columns=["DEATH_EVENT"])
    with pytest.raises(InputError) as raised:
        validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(no_outcome),
                                    filename="site.csv")
    assert raised.value.key == "validation.outcome_missing" and raised.value.params["column"] == "DEATH_EVENT"
    with session_scope(trained.workbench.engine) as session:
        assert session.scalar(select(ExternalValidation).where(ExternalValidation.file_kind == ".csv",
                                                               ExternalValidation.state != "succeeded")) is None


def test_a_unit_difference_must_be_confirmed_and_is_reported(trained, holdout):
    from workbench.services import validation

    owner = trained.actor()
    micromol = holdout.assign(serum_creatinine=(holdout["serum_creatinine"] * 88.4).round(1))
    check = validation.check_cohort(trained.workbench, owner, run_id=trained.run_id, data=_csv(micromol),
                                    filename="umol.csv")
    (issue,) = check.columns.issues
    assert issue.kind == "unit_mismatch" and issue.units == ("µmol/L", "mg/dL") and check.ready
    with pytest.raises(InputError) as raised:
        validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(micromol),
                                    filename="umol.csv")
    assert raised.value.key == "validation.confirm_warnings" and raised.value.params["columns"] == "serum_creatinine"
    validation_id = validation.start_validation(trained.workbench, owner, run_id=trained.run_id, data=_csv(micromol),
                                                filename="umol.csv", accept_warnings=True)
    report = validation.validation_report(trained.workbench, owner, validation_id)
    assert [w.kind for w in report.warnings] == ["unit_mismatch"]


def _needles(data: bytes) -> dict[str, bytes]:
    digest = hashlib.sha256(data)
    return {"file bytes": data[:400], "a whole row": next(line for line in data.split(b"\n") if b"271828.18" in line),
            "distinctive value": b"271828.18", "value as a double": struct.pack("<d", DISTINCT),
            "hash": digest.hexdigest().encode(), "hash bytes": digest.digest()}


def _database_text(workbench) -> str:
    """Every text and JSON column of every table, as one string."""
    chunks = []
    with workbench.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for row in connection.execute(select(*columns)) if columns else ():
                chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks)


def _files_holding(root: Path, needles: dict[str, bytes]) -> list[tuple[str, str]]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found.extend((str(path), name) for name, needle in needles.items() if needle in content)
    return found


def test_a_discard_leaves_nothing_of_the_file(trained, holdout, collaborator):
    from workbench.services import validation

    cohort = holdout.copy()
    cohort.loc[3, "platelets"] = DISTINCT
    data = _csv(cohort)
    needles = _needles(data)
    data_dir = Path(trained.workbench.settings.data_path)
    assert _files_holding(data_dir, needles) == []  # nothing before
    control = data_dir / "control.bin"  # the search finds the file, its value and hash where they are
    control.write_bytes(data + needles["value as a double"] + needles["hash"] + needles["hash bytes"])
    assert {name for _, name in _files_holding(data_dir, needles)} == set(needles)
    control.unlink()
    validation_id = validation.start_validation(trained.workbench, collaborator, run_id=trained.run_id, data=data,
                                                filename="our_cohort.csv", subgroups=["sex"])
    status = validation.validation_status(trained.workbench, collaborator, validation_id)
    assert status.state == "succeeded" and status.data_state == "discarded" and not status.keep
    assert _files_holding(data_dir, needles) == []  # database file, its WAL and the artifact store
    text = _database_text(trained.workbench)
    assert not [name for name, needle in needles.items() if needle.decode("latin-1") in text]
    with session_scope(trained.workbench.engine) as session:
        record = session.get(ExternalValidation, validation_id)
        assert record.upload_sha256 is None and record.rows_sha256 is None and "key" not in record.options
    report = validation.validation_report(trained.workbench, collaborator, validation_id)
    assert report.external.part.n == len(cohort)  # the aggregate report is what remains
    with session_scope(trained.workbench.engine) as session:
        steps = [e.details.get("step") for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "model.validate_external", AuditEvent.resource_id == str(validation_id)))]
    assert steps == ["start", "report", "data_discarded"]


def test_kept_data_is_readable_by_its_uploader_only_until_she_deletes_it(trained, holdout, collaborator):
    from workbench.services import validation

    cohort = holdout.copy()
    cohort.loc[5, "platelets"] = DISTINCT
    validation_id = validation.start_validation(trained.workbench, collaborator, run_id=trained.run_id,
                                                data=_csv(cohort), filename="kept.csv", keep=True)
    with session_scope(trained.workbench.engine) as session:
        record = session.get(ExternalValidation, validation_id)
        sealed = [record.upload_sha256, record.rows_sha256]
    assert all(trained.workbench.store.exists(d) for d in sealed)  # stored sealed: no byte of it in the clear
    assert _files_holding(Path(trained.workbench.settings.data_path), {"value": b"271828.18"}) == []
    rows = validation.kept_rows(trained.workbench, collaborator, validation_id)
    assert len(rows) == len(cohort) and DISTINCT in rows["platelets"].to_numpy()
    assert rows["predicted_risk"].between(0, 1).all() and "recalibrated_risk" in rows
    record = validation.validation_status(trained.workbench, collaborator, validation_id)
    assert record.data_state == "kept"
    # the owner reads the aggregate report, never the rows; another collaborator neither
    owner = trained.actor()
    with pytest.raises(PermissionDenied):
        validation.kept_rows(trained.workbench, owner, validation_id)
    report = validation.validation_report(trained.workbench, owner, validation_id)
    assert report.suppressed == ("external",) and report.external.part.n == len(cohort)
    other = trained.user("dr_other", "collaborator")
    with pytest.raises(PermissionDenied):
        validation.validation_report(trained.workbench, other, validation_id)
    with pytest.raises(PermissionDenied):
        validation.kept_rows(trained.workbench, other, validation_id)
    assert validation.list_validations(trained.workbench, other, trained.project_id) == []
    mine = validation.list_validations(trained.workbench, collaborator, trained.project_id)
    assert validation_id in [v.id for v in mine] and all(v.mine for v in mine)
    assert validation_id in [v.id for v in validation.list_validations(trained.workbench, owner, trained.project_id)]
    # the uploader deletes the kept data: the report stays, the rows are gone
    validation.delete_kept_data(trained.workbench, collaborator, validation_id)
    assert validation.validation_status(trained.workbench, collaborator, validation_id).data_state == "discarded"
    assert not any(trained.workbench.store.exists(d) for d in sealed)
    with pytest.raises(InputError):
        validation.kept_rows(trained.workbench, collaborator, validation_id)
    # her own cohort in full; the development cohort collaborator-safe, as on every shared page
    assert validation.validation_report(trained.workbench, collaborator, validation_id).suppressed == ("development",)


def test_small_counts_are_suppressed_for_the_owner_only():
    from pipelines import evaluation as ev
    from workbench.services._validation_report import cohort_result, for_reader, ValidationReport

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(12), np.zeros(40)].astype(int)
    p = np.clip(0.3 * y + rng.uniform(0, 0.6, len(y)), 0.01, 0.99)
    groups = pd.DataFrame({"sex": ["0"] * 48 + ["1"] * 4})
    choice = ev.ThresholdChoice("fixed", 0.5, 0.5)
    side = cohort_result("external", y, p, label="m", threshold=choice, subgroups=groups, n_resamples=20, seed=0)
    report = ValidationReport(run_id=1, model_id=1, model_label="m", target="y", positive_label="1", threshold=choice,
                              development=side, external=side, n_read=52, n_excluded=0, warnings=(), n_resamples=20,
                              seed=0)
    small = next(r for r in side.subgroups.rows if r.level == "1")
    assert small.n == 4
    owner = for_reader(report, uploader=False, restricted=False)
    assert next(r for r in owner.external.subgroups.rows if r.level == "1").n is None
    assert next(r for r in owner.development.subgroups.rows if r.level == "1").n == 4  # the owner's own data
    assert np.all((owner.external.part.calibration.histogram_events == 0) |
                  (owner.external.part.calibration.histogram_events >= 5))
    confusion = owner.external.part.metrics.confusion
    assert all(v is None or v >= 5 for v in (confusion.tn, confusion.fp, confusion.fn, confusion.tp))
    uploader = for_reader(report, uploader=True, restricted=True)  # a collaborator's own cohort, in full
    assert next(r for r in uploader.external.subgroups.rows if r.level == "1").n == 4
    assert next(r for r in uploader.development.subgroups.rows if r.level == "1").n is None


def test_outsiders_and_unshared_collaborators_are_refused(trained, holdout):
    from workbench.services import accounts, projects, results, validation

    owner = trained.actor()
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "figures"])
    try:
        guest = trained.user("dr_unshared", "collaborator")
        with pytest.raises(PermissionDenied):
            validation.check_cohort(trained.workbench, guest, run_id=trained.run_id, data=_csv(holdout),
                                    filename="x.csv")
        with pytest.raises(PermissionDenied):
            validation.list_validations(trained.workbench, guest, trained.project_id)
        # the owner of another project is no member of this one
        password = "another owner walks 12 quiet miles"
        accounts.create_user(trained.workbench, trained.actor(), username="dr_elsewhere", password=password)
        signed = accounts.sign_in(trained.workbench, username="dr_elsewhere", password=password)
        elsewhere = accounts.resolve_session(trained.workbench, signed.token)
        projects.create_project(trained.workbench, elsewhere, name="Another hospital's project")
        elsewhere = accounts.resolve_session(trained.workbench, signed.token)
        with pytest.raises(PermissionDenied):
            validation.start_validation(trained.workbench, elsewhere, run_id=trained.run_id, data=_csv(holdout),
                                        filename="x.csv")
        with pytest.raises(PermissionDenied):
            validation.validation_inputs(trained.workbench, elsewhere, trained.run_id)
        with session_scope(trained.workbench.engine) as session:
            denied = {e.actor_id for e in session.scalars(select(AuditEvent).where(
                AuditEvent.action == "model.validate_external", AuditEvent.outcome == "denied"))}
        assert {guest.user_id, elsewhere.user_id} <= denied
        # once validation is shared, the same collaborator may check a cohort
        results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["validation"])
        check = validation.check_cohort(trained.workbench, guest, run_id=trained.run_id, data=_csv(holdout),
                                        filename="x.csv")
        assert check.ready
    finally:
        results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "validation"])


def test_a_job_that_ends_without_a_report_discards_the_data(trained, holdout):
    """A validation whose worker vanished (here: never started, then the server restarted) is ended
    and its staged file deleted at the next server start."""
    from workbench.jobs import fail_interrupted_jobs
    from workbench.services import validation
    from workbench.services._validation_store import settle_orphans

    class Stalled:
        def submit(self, job_id: int) -> None:
            pass

    owner = trained.actor()
    queue, trained.workbench.jobs = trained.workbench.jobs, Stalled()
    try:
        validation_id = validation.start_validation(trained.workbench, owner, run_id=trained.run_id,
                                                    data=_csv(holdout), filename="stalled.csv", keep=True)
    finally:
        trained.workbench.jobs = queue
    with session_scope(trained.workbench.engine) as session:
        staged = session.get(ExternalValidation, validation_id).upload_sha256
    assert trained.workbench.store.exists(staged)
    fail_interrupted_jobs(trained.workbench)
    assert settle_orphans(trained.workbench) == [validation_id]  # what `workbench serve` does at start
    assert not trained.workbench.store.exists(staged)  # gone before anyone opened the validation
    status = validation.validation_status(trained.workbench, owner, validation_id)
    assert status.state == "failed" and status.data_state == "discarded"
    assert status.error_key == "jobs.interrupted_by_restart"
    assert not trained.workbench.store.exists(staged)
    with pytest.raises(InputError) as raised:
        validation.validation_report(trained.workbench, owner, validation_id)
    assert raised.value.key == "validation.no_report"


def test_a_collaborator_reads_the_middle_ninety_percent_not_the_development_extremes(trained, holdout, collaborator):
    """The development minimum and maximum are single patients' values: a collaborator's column list
    and unit warning give the 5th-95th percentiles instead (and say so); the owner's keep the extremes."""
    from pages._validate_report import describe_issue
    from workbench.i18n import t
    from workbench.services import validation

    mine = {f.name: f for f in validation.validation_inputs(trained.workbench, trained.actor(), trained.run_id).fields}
    theirs = {f.name: f for f in validation.validation_inputs(trained.workbench, collaborator, trained.run_id).fields}
    numeric = [n for n, f in mine.items() if f.kind == "numeric"]
    assert numeric and all(theirs[n].central and not mine[n].central for n in numeric)
    assert all(mine[n].train_min <= theirs[n].train_min < theirs[n].train_max <= mine[n].train_max for n in numeric)
    assert any(theirs[n].train_max < mine[n].train_max for n in numeric)

    micromol = holdout.assign(serum_creatinine=(holdout["serum_creatinine"] * 88.4).round(1))
    (issue,) = validation.check_cohort(trained.workbench, collaborator, run_id=trained.run_id, data=_csv(micromol),
                                       filename="umol.csv").columns.issues
    assert issue.kind == "unit_mismatch" and issue.central
    assert (issue.low, issue.high) == (theirs["serum_creatinine"].train_min, theirs["serum_creatinine"].train_max)
    for lang in ("en", "ko"):
        text = describe_issue(type("Ctx", (), {"t": staticmethod(lambda key, **p: t(key, lang, **p))})(), issue)
        assert ("middle 90%" if lang == "en" else "가운데 90%") in text and f"{issue.high:g}" in text, text
