"""Export on a real heart failure run: the paper pack holds every listed item (figures as 600-dpi
TIFF and PDF at single-column width, Table 1 and the performance table as DOCX, methods, TRIPOD+AI,
model card, reproduce settings, SHAP dependence plots of the leading features), the preview is the
exported PNG, every format is a valid file, downloads are audited, dependence plots and waterfalls
show the patients' values as the table holds them, and a collaborator gets the safe variant only
for what was shared and can never get a per-patient figure through the service."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select

from pypdf import PdfReader

from pipelines.errors import InputError, PermissionDenied
from tests.workbench.test_results_service import train_heart_failure
from workbench.db.engine import session_scope
from workbench.db.models import AuditEvent


# a real training and its evaluations (tens of seconds): scheduled with the slow files, not at the run's
# end where one long file would keep a process busy after the others are done (tests/conftest.py)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    return train_heart_failure(tmp_path_factory, datasets_dir)


def _options(trained):
    from workbench.services import results

    return results.default_options(trained.workbench, subgroup_columns=("sex", "age"))


def _pack(trained, actor, **kwargs):
    from workbench.services import export

    file = export.paper_pack(trained.workbench, actor, run_id=trained.run_id, options=_options(trained), **kwargs)
    return file, zipfile.ZipFile(io.BytesIO(file.data))


def test_the_paper_pack_of_a_heart_failure_run_contains_every_listed_item(trained):
    from workbench.services import results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    linear = next(r.model_id for r in view.rows if r.family == "linear")
    results.choose_model(trained.workbench, owner, trained.run_id, linear)
    file, pack = _pack(trained, owner, model_ids=[r.model_id for r in view.rows])
    names = set(pack.namelist())
    for figure in ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "threshold", "importance",
                   "shap_summary", "forest", "cohort_flow"):
        assert {f"figures/{figure}.pdf", f"figures/{figure}.tiff"} <= names, figure
    for table in ("performance", "performance_oof", "table_one", "hyperparameters", "subgroups"):
        assert {f"tables/{table}.docx", f"tables/{table}.csv"} <= names, table
    # a dependence plot for each of the three most important features; a waterfall only on request
    evaluation = results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=linear,
                                  options=_options(trained))
    top = [name for name, _ in evaluation.shap_importance[:3]]
    assert sorted(n for n in names if n.startswith("figures/shap_dependence_")) == sorted(
        f"figures/shap_dependence_{f}.{fmt}" for f in top for fmt in ("pdf", "tiff"))
    assert not [n for n in names if "waterfall" in n]
    assert {"tables/all_tables.xlsx", "methods.md", "tripod_ai_checklist.docx", "tripod_ai_checklist.csv",
            "model_card.md", "reproduce/settings.json", "reproduce/recipe.json", "MANIFEST.json", "README.txt"} <= names
    # 600-dpi TIFF at single-column width (89 mm), PDF that opens with one page
    tiff = Image.open(io.BytesIO(pack.read("figures/roc.tiff")))
    assert tiff.info["dpi"] == (600, 600) and tiff.size[0] == round(89 / 25.4 * 600)
    assert len(PdfReader(io.BytesIO(pack.read("figures/calibration.pdf"))).pages) == 1
    # the methods draft carries the recipe and the numbers of the chosen model
    methods = pack.read("methods.md").decode()
    assert evaluation.main.metrics.auroc.format(2) in methods
    assert "DEATH_EVENT" in methods and "Drop the column time" in methods and "Fill missing values" in methods
    assert "scikit-learn" in methods and "5-fold" in methods
    checklist = list(csv.reader(io.StringIO(pack.read("tripod_ai_checklist.csv").decode("utf-8-sig"))))
    status = [row[2] for row in checklist[1:]]
    assert "For the author" in status and "Filled by the workbench (check)" in status and len(checklist) > 40
    settings = json.loads(pack.read("reproduce/settings.json"))
    assert settings["search_settings"]["seed"] == 3 and settings["run"]["recipe_sha256"]
    assert settings["evaluation"]["threshold_chosen_on"] == "train"
    card = pack.read("model_card.md").decode()
    assert card.startswith("# Model card: Logistic / linear regression")  # named for readers, not "linear"
    manifest = json.loads(pack.read("MANIFEST.json"))
    assert manifest["variant"] == "full"
    assert manifest["models"][0] == {"family": "linear", "name": "Logistic / linear regression"}
    with session_scope(trained.workbench.engine) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "paper_pack.download"))
        assert event.outcome == "succeeded" and event.details["variant"] == "full" and event.details["dpi"] == 600


def test_the_preview_is_the_exported_png_and_every_format_is_a_valid_file(trained):
    from workbench.services import export

    owner = trained.actor()
    choice = export.ExportChoice(preset="double", dpi=300, lang="en")
    preview = export.preview_figure(trained.workbench, owner, run_id=trained.run_id, figure="roc", choice=choice,
                                    options=_options(trained))
    png = export.figure_file(trained.workbench, owner, run_id=trained.run_id, figure="roc", fmt="png", choice=choice,
                             options=_options(trained))
    assert png.data == preview and png.name == "run1_roc_double_300dpi_en.png"
    assert Image.open(io.BytesIO(preview)).size[0] == round(183 / 25.4 * 300)
    magic = {"pdf": b"%PDF", "eps": b"%!PS", "tiff": b"II*\x00", "png": b"\x89PNG"}
    for fmt in ("pdf", "svg", "eps", "tiff"):
        data = export.figure_file(trained.workbench, owner, run_id=trained.run_id, figure="decision_curve", fmt=fmt,
                                  choice=choice, options=_options(trained)).data
        assert data.startswith(magic[fmt]) if fmt in magic else b"<svg" in data[:400], fmt
    with pytest.raises(InputError):
        export.figure_file(trained.workbench, owner, run_id=trained.run_id, figure="roc", fmt="jpg", choice=choice)
    with pytest.raises(InputError):
        export.preview_figure(trained.workbench, owner, run_id=trained.run_id, figure="roc",
                              choice=export.ExportChoice(dpi=150))
    with session_scope(trained.workbench.engine) as session:
        downloads = session.scalars(select(AuditEvent).where(AuditEvent.action == "figures.download")).all()
    assert len(downloads) == 5  # the preview is not a download


def test_tables_download_as_csv_xlsx_docx(trained):
    from openpyxl import load_workbook

    from workbench.services import export

    owner = trained.actor()
    for fmt in ("csv", "xlsx", "docx"):
        file = export.table_file(trained.workbench, owner, run_id=trained.run_id, table="table_one", fmt=fmt,
                                 options=_options(trained))
        assert file.name.endswith(f".{fmt}") and file.data
    sheet = load_workbook(io.BytesIO(export.table_file(trained.workbench, owner, run_id=trained.run_id,
                                                       table="performance", fmt="xlsx", options=_options(trained)).data))
    assert sheet.worksheets[0].max_row > 10
    with pytest.raises(InputError):
        export.table_file(trained.workbench, owner, run_id=trained.run_id, table="nonsense", fmt="csv")


def test_a_korean_pack(trained):
    from workbench.services import export

    _, pack = _pack(trained, trained.actor(), choice=export.ExportChoice(preset="single", dpi=300, lang="ko"),
                    formats=("png",))
    assert "연구 방법" in pack.read("methods.md").decode()
    assert Image.open(io.BytesIO(pack.read("figures/roc.png"))).info["dpi"][0] == pytest.approx(300, abs=1)


def test_a_collaborator_gets_the_safe_pack_only_when_shared(trained):
    from workbench.services import export, results

    guest = trained.user("dr_guest", "collaborator")
    owner = trained.actor()
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["metrics", "figures"])
    with pytest.raises(PermissionDenied):
        _pack(trained, guest)
    with pytest.raises(PermissionDenied):
        export.table_file(trained.workbench, guest, run_id=trained.run_id, table="table_one", fmt="csv")
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id,
                        facets=["metrics", "figures", "tables", "paper_pack"])
    _, pack = _pack(trained, guest, formats=("pdf",))
    names = pack.namelist()
    assert not [n for n in names if "shap" in n]  # no per-patient figure
    assert not [n for n in names if n.endswith((".parquet", ".ubj", ".skops", ".txt")) and n != "README.txt"]
    assert json.loads(pack.read("MANIFEST.json"))["variant"] == "collaborator"
    subgroups = pack.read("tables/subgroups.csv").decode("utf-8-sig")
    assert "<5" in subgroups  # the under-50s had 2 events in the holdout
    # no per-patient figure through the service either, whatever is asked for; each refusal audited
    detail = export.FigureDetail(feature="age", patient=0)
    for figure in ("shap_summary", "shap_dependence", "waterfall"):
        with pytest.raises(InputError) as caught:
            export.preview_figure(trained.workbench, guest, run_id=trained.run_id, figure=figure, detail=detail)
        assert caught.value.key == "export.patient_level_figure"
        with pytest.raises(InputError) as caught:
            export.figure_file(trained.workbench, guest, run_id=trained.run_id, figure=figure, fmt="png", detail=detail)
        assert caught.value.key == "export.patient_level_figure"
    with pytest.raises(PermissionDenied):
        export.figure_choices(trained.workbench, guest, run_id=trained.run_id, options=_options(trained))
    with session_scope(trained.workbench.engine) as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == guest.user_id,
                                                          AuditEvent.outcome == "denied",
                                                          AuditEvent.action == "results.view_predictions")).all()
    assert len(denied) == 7
    menu = export.figure_menu(trained.workbench, guest, run_id=trained.run_id, options=_options(trained))
    assert not {"shap_summary", "shap_dependence", "waterfall"} & set(menu) and "roc" in menu


def test_a_collaborator_with_only_the_paper_pack_shared_gets_the_pack_and_nothing_else(trained):
    from workbench.services import export, results

    guest = trained.user("dr_pack_only", "collaborator")
    owner = trained.actor()
    results.set_sharing(trained.workbench, owner, project_id=trained.project_id, facets=["paper_pack"])
    _, pack = _pack(trained, guest, formats=("png",), choice=export.ExportChoice(dpi=300))
    assert json.loads(pack.read("MANIFEST.json"))["variant"] == "collaborator"
    with pytest.raises(PermissionDenied):
        results.run_results(trained.workbench, guest, trained.run_id)
    with pytest.raises(PermissionDenied):
        export.preview_figure(trained.workbench, guest, run_id=trained.run_id, figure="roc")


def test_dependence_plot_and_waterfall_show_the_values_of_the_table(trained):
    """A member who may see patients picks the feature and the holdout patient; the figures name
    the features, read "age = 65" (not the scaled value the learner saw) and give the patient's
    predicted risk, which is the stored holdout prediction of that model."""
    from workbench.services import export, results, training

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    xgb = next(r.model_id for r in view.rows if r.family == "xgboost")
    options = _options(trained)
    assert {"shap_dependence", "waterfall"} <= set(export.figure_menu(trained.workbench, owner, run_id=trained.run_id,
                                                                      model_ids=[xgb], options=options))
    choices = export.figure_choices(trained.workbench, owner, run_id=trained.run_id, model_ids=[xgb], options=options)
    assert choices.part == "test" and choices.patients == view.summary["n_test"]
    assert sorted(choices.features) == sorted(view.summary["features"])

    predictions = training.load_run_predictions(trained.workbench, owner, trained.run_id)
    holdout = predictions[(predictions["model_id"] == xgb) & (predictions["part"] == "test")]
    from workbench.db.models import Run

    with session_scope(trained.workbench.engine) as session:
        run = session.get(Run, trained.run_id)
        session.expunge(run)
    patient = holdout.iloc[6]
    row = results.prepared_frame(trained.workbench, run).iloc[int(patient["row"])]
    file = export.figure_file(trained.workbench, owner, run_id=trained.run_id, figure="waterfall", fmt="pdf",
                              model_ids=[xgb], options=options, detail=export.FigureDetail(patient=6))
    assert file.name == "run1_waterfall_patient7_single_300dpi_en.pdf"
    text = PdfReader(io.BytesIO(file.data)).pages[0].extract_text()
    assert f"Patient 7 of {choices.patients} in the held-out test set" in text
    assert f"predicted risk {100 * patient['probability']:.0f}%" in text
    assert f"ejection_fraction = {int(row['ejection_fraction'])}" in text  # percent, as in the table
    assert f"serum_sodium = {int(row['serum_sodium'])}" in text

    dependence = export.figure_file(trained.workbench, owner, run_id=trained.run_id, figure="shap_dependence", fmt="pdf",
                                    model_ids=[xgb], options=options,
                                    detail=export.FigureDetail(feature="ejection_fraction", colour_by="serum_creatinine"))
    assert dependence.name == "run1_shap_dependence_ejection_fraction_single_300dpi_en.pdf"
    words = PdfReader(io.BytesIO(dependence.data)).pages[0].extract_text().split()
    assert "ejection_fraction" in words and "serum_creatinine" in words  # x axis, and the colour bar
    ticks = [float(w.replace("\u2212", "-")) for w in words if w.replace("\u2212", "-").lstrip("-").isdigit()]
    assert max(ticks) >= 40  # ejection fraction in percent (14-80), not the learner's z-scores
    auto = export.preview_figure(trained.workbench, owner, run_id=trained.run_id, figure="shap_dependence",
                                 model_ids=[xgb], options=options)  # most important feature, strongest interaction
    assert Image.open(io.BytesIO(auto)).size[0] == round(89 / 25.4 * 300)

    for detail, key in ((export.FigureDetail(), "export.choose_patient"), (export.FigureDetail(patient=10_000), "export.bad_patient")):
        with pytest.raises(InputError) as caught:
            export.preview_figure(trained.workbench, owner, run_id=trained.run_id, figure="waterfall", model_ids=[xgb],
                                  options=options, detail=detail)
        assert caught.value.key == key
    with pytest.raises(InputError) as caught:
        export.preview_figure(trained.workbench, owner, run_id=trained.run_id, figure="shap_dependence", model_ids=[xgb],
                              options=options, detail=export.FigureDetail(feature="patient_name"))
    assert caught.value.key == "export.unknown_feature"
    with session_scope(trained.workbench.engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "figures.download")
                                .order_by(AuditEvent.id.desc())).all()[1]
    assert event.details["figure"] == "waterfall" and event.details["patient"] == 6


def test_an_export_starts_or_joins_the_evaluate_job_and_never_computes_in_the_request(trained):
    """Numbers not stored yet: the export service hands them to the ``evaluate`` job (one job,
    however often it is asked) and refuses the export, naming the job, instead of bootstrapping
    in the web request or waiting there; once the job stored them, the export is made from them."""
    from sqlalchemy import func

    from pipelines.errors import EvaluationError
    from tests.workbench.test_evaluation_job import HeldQueue
    from workbench.db.models import Evaluation
    from workbench.jobs import request_cancel
    from workbench.services import export, results

    owner, workbench = trained.actor(), trained.workbench
    options = results.default_options(workbench, seed=29, n_resamples=20)  # nothing stored for these yet
    reported = results.run_results(workbench, owner, trained.run_id).reported_model_id

    def computed() -> tuple[int, int]:
        with session_scope(workbench.engine) as session:
            return (session.scalar(select(func.count()).select_from(Evaluation)),
                    session.scalar(select(func.count()).select_from(AuditEvent).where(
                        AuditEvent.action == "results.evaluate", AuditEvent.outcome == "succeeded")))

    inline, workbench.jobs = workbench.jobs, HeldQueue(workbench.settings)  # submitted jobs wait for the test
    try:
        before = computed()
        status = export.export_evaluation(workbench, owner, run_id=trained.run_id, options=options)
        assert status.pending == (reported,) and status.running and workbench.jobs.submitted == [status.job_id]
        for ask in (lambda: export.figure_file(workbench, owner, run_id=trained.run_id, figure="roc", fmt="png",
                                               options=options),
                    lambda: export.table_file(workbench, owner, run_id=trained.run_id, table="performance", fmt="csv",
                                              options=options),
                    lambda: export.paper_pack(workbench, owner, run_id=trained.run_id, options=options)):
            with pytest.raises(EvaluationError) as pending:
                ask()
            assert pending.value.key == "export.evaluation_pending" and pending.value.params["job"] == status.job_id
        assert export.export_evaluation(workbench, owner, run_id=trained.run_id, options=options).job_id == status.job_id
        assert workbench.jobs.submitted == [status.job_id] and computed() == before  # joined; nothing computed here

        # a stopped job is not restarted behind the user's back; asking again starts a new one
        request_cancel(workbench, status.job_id)
        assert workbench.jobs.run(status.job_id) == "cancelled"
        stopped = export.export_evaluation(workbench, owner, run_id=trained.run_id, options=options)
        assert stopped.state == "cancelled" and stopped.pending and workbench.jobs.submitted == [status.job_id]
        again = export.export_evaluation(workbench, owner, run_id=trained.run_id, options=options, again=True)
        assert again.running and again.job_id != status.job_id and computed() == before
        assert workbench.jobs.run(again.job_id) == "succeeded"
        assert computed() == (before[0] + 1, before[1] + 1)  # by the job
        assert export.export_evaluation(workbench, owner, run_id=trained.run_id, options=options).pending == ()
        png = export.figure_file(workbench, owner, run_id=trained.run_id, figure="roc", fmt="png", options=options)
        assert png.data.startswith(b"\x89PNG") and workbench.jobs.submitted == [status.job_id, again.job_id]
    finally:
        workbench.jobs = inline


def test_the_methods_text_says_how_the_run_was_tuned(trained):
    """k-fold cross-validation for a run trained in one process; one validation part for a run
    trained through the Dask path, as its settings record it (the same record
    ``run_distributed_search`` writes; test_distributed_training checks it on a real Dask run)."""
    import dataclasses

    from workbench.services import results
    from workbench.services._paper import PackInput
    from workbench.services._paper_texts import methods_text
    from workbench.services._paper_tripod import tripod_table

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    evaluation = results.evaluate(trained.workbench, owner, run_id=trained.run_id, model_id=view.reported_model_id,
                                  options=_options(trained))
    pack = PackInput(evaluations=(evaluation,), summary=view.summary, settings=view.settings, recipe={}, params={},
                     title="t", source="s")
    text = methods_text(pack)
    assert "5-fold cross-validation within the development set" in text and "validation part" not in text
    dask = dataclasses.replace(pack, settings={**view.settings, "distributed": {
        "path": "dask", "validation": "holdout", "validation_fold": 1, "n_folds": 5, "validation_rows": 48}})
    for lang, said in (("en", "chosen on one validation part of the development set (part 1 of 5, 48 rows)"),
                       ("ko", "검증 파트(5개 중 1번째, 48행)에서 선택")):
        text = methods_text(dataclasses.replace(dask, lang=lang))
        assert said in text and "cross-validation within" not in text and "교차검증으로 선택" not in text, text
    assert "maximising" in methods_text(dask) and "in cross-validation" not in methods_text(dask)
    cells = [" ".join(map(str, row)) for row in tripod_table(dask).rows]
    assert any("tuned on one validation part of 48 rows" in c for c in cells)


def test_a_korean_pack_writes_its_intervals_and_source_in_korean(trained):
    """Before: "0.72 (0.61 to 0.83)" in the Korean tables and methods, and "· run 1" on the source line of
    the README, the model card and MANIFEST.json. The English pack keeps both as they were."""
    import json as _json
    import re

    from workbench.services import export

    owner = trained.actor()
    interval = re.compile(r"\d\.\d{2} \((\u2212?\d\.\d{2})( to |\u2013| ~ )(\u2212?\d\.\d{2})\)")
    packs = {lang: _pack(trained, owner, choice=export.ExportChoice(lang=lang), formats=("png",))[1]
             for lang in ("en", "ko")}
    for lang, pack in packs.items():
        texts = [pack.read(n).decode("utf-8-sig") for n in ("tables/performance.csv", "methods.md", "model_card.md")]
        found = [m for text in texts for m in interval.findall(text)]
        assert len(found) >= 6, lang
        separators = {sep for low, sep, _ in found if not low.startswith("\u2212")}
        assert separators == ({" to "} if lang == "en" else {"\u2013"}), (lang, separators)
        source = _json.loads(pack.read("MANIFEST.json"))["source"]
        assert source.endswith(f" · run {trained.run_id}" if lang == "en" else f" · 실행 {trained.run_id}"), source
        assert source in pack.read("README.txt").decode() and source in texts[2]
