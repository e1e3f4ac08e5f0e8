"""A multiclass run end to end (Cleveland heart disease, ``num`` 0-4, a 4-trial training of
logistic regression and XGBoost): the stored evaluation carries one-vs-rest ROC and PR curves equal
to scikit-learn's on the stored predictions, the figure menu offers them, they export to every
format and into the paper pack, and several models are drawn together."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from pypdf import PdfReader
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from pipelines.automl import SearchSettings
from tests.workbench.test_results_service import Trained, train_table


# a real training and its evaluations (tens of seconds): scheduled with the slow files, not at the run's
# end where one long file would keep a process busy after the others are done (tests/conftest.py)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cleveland(tmp_path_factory, datasets_dir) -> Trained:
    return train_table(tmp_path_factory, datasets_dir / "heart_cleveland.csv", target="num",
                       name="Cleveland heart disease grade", resamples=100,
                       settings=[SearchSettings(families=("linear", "xgboost"), n_trials=4, time_budget_s=None, seed=1)])


def test_stored_multiclass_curves_equal_scikit_learn_on_the_stored_predictions(cleveland):
    from workbench.services import results, training

    owner = cleveland.actor()
    view = results.run_results(cleveland.workbench, owner, cleveland.run_id)
    assert view.task == "multiclass"
    model_id = view.reported_model_id
    evaluation = results.evaluate(cleveland.workbench, owner, run_id=cleveland.run_id, model_id=model_id,
                                  options=results.default_options(cleveland.workbench))
    predictions = training.load_run_predictions(cleveland.workbench, owner, cleveland.run_id)
    classes = list(view.summary["classes"])
    for part in evaluation.parts:
        curves = part.multiclass_curves
        rows = predictions[(predictions["model_id"] == model_id) & (predictions["part"] == part.part)]
        prob = rows[[f"p_{c}" for c in classes]].to_numpy(dtype=float)
        y = rows["y_true"].to_numpy()
        present = [c for c in classes if np.any(y == c)]
        assert curves.classes == tuple(str(c) for c in present)
        assert curves.macro_roc.auroc.value == pytest.approx(part.metrics.macro_auroc.value)
        onehot = label_binarize(y, classes=classes)
        for c, roc in zip(present, curves.roc):
            k = classes.index(c)
            fpr, tpr, _ = skm.roc_curve(onehot[:, k], prob[:, k], drop_intermediate=False)
            np.testing.assert_allclose(roc.fpr, fpr)
            np.testing.assert_allclose(roc.tpr, tpr)
        assert curves.macro_pr.auprc.value == pytest.approx(np.mean(
            [skm.average_precision_score(onehot[:, classes.index(c)], prob[:, classes.index(c)]) for c in present]))


def test_multiclass_curves_export_and_go_into_the_paper_pack(cleveland):
    from workbench.services import export

    owner = cleveland.actor()
    menu = export.figure_menu(cleveland.workbench, owner, run_id=cleveland.run_id)
    assert {"roc", "pr"} <= set(menu) and "calibration" not in menu and "decision_curve" not in menu
    for fmt in ("pdf", "svg", "eps", "tiff", "png"):
        assert export.figure_file(cleveland.workbench, owner, run_id=cleveland.run_id, figure="roc", fmt=fmt).data
    pdf = export.figure_file(cleveland.workbench, owner, run_id=cleveland.run_id, figure="pr", fmt="pdf").data
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Macro average" in text and "num = 0" in text and "AUPRC (95% CI)" in text
    pack = zipfile.ZipFile(io.BytesIO(export.paper_pack(cleveland.workbench, owner, run_id=cleveland.run_id,
                                                        formats=("pdf",)).data))
    assert {"figures/roc.pdf", "figures/pr.pdf", "tables/performance.docx"} <= set(pack.namelist())


def test_every_chosen_model_is_drawn_in_the_multiclass_roc_and_pr_exports(cleveland):
    """Several models of a multiclass run: a panel per class and one for the macro average, every
    model in each (the exports used to draw the first model only)."""
    from workbench.services import export, results
    from workbench.services._model_names import model_name

    owner = cleveland.actor()
    view = results.run_results(cleveland.workbench, owner, cleveland.run_id)
    ids = [r.model_id for r in view.rows]
    names = [model_name(view.label(m), "en") for m in ids]  # as readers see them ("XGBoost", not "xgboost")
    assert len(ids) >= 2 and len(set(names)) == len(names), names
    for figure in ("roc", "pr"):
        pdf = export.figure_file(cleveland.workbench, owner, run_id=cleveland.run_id, figure=figure, fmt="pdf",
                                 model_ids=ids).data
        stored = results.stored_evaluations(cleveland.workbench, owner, run_id=cleveland.run_id, model_ids=ids,
                                            options=results.run_default_options(cleveland.workbench, view.summary))
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert all(name in text for name in names), (figure, names, text[:300])
        assert all(f"num = {c}" in text for c in view.summary["classes"]) and "Macro average" in text
        for model_id in ids:  # each model's own macro area is in the figure, not the first one's repeated
            curves = stored[model_id].main.multiclass_curves
            macro = curves.macro_roc.auroc if figure == "roc" else curves.macro_pr.auprc
            assert f"{macro.value:.2f} ({macro.lower:.2f}" in text, (figure, model_id)


def test_a_collaborator_gets_no_curve_of_a_class_of_one_to_four(cleveland):
    """The page's path (stored evaluations) and the export: a class of 1-4 held-out patients (grade 4 has
    13 of 303) is not drawn for a collaborator, nor a complement; the owner keeps every class."""
    from workbench.services import evaluation_job, export, results

    owner, guest = cleveland.actor(), cleveland.user("mc_guest", "collaborator")
    results.set_sharing(cleveland.workbench, owner, project_id=cleveland.project_id, facets=["metrics", "figures"])
    options = results.default_options(cleveland.workbench)
    view = results.run_results(cleveland.workbench, owner, cleveland.run_id)
    model_id = view.reported_model_id
    mine = results.evaluate(cleveland.workbench, owner, run_id=cleveland.run_id, model_id=model_id, options=options)
    small = [c.label for c in mine.main.metrics.per_class if 0 < c.n < 5]
    assert small and set(small) <= set(mine.main.multiclass_curves.classes)  # the case on real data
    status = evaluation_job.evaluation_status(cleveland.workbench, guest, run_id=cleveland.run_id, options=options)
    curves = status.evaluations[model_id].main.multiclass_curves
    assert not set(small) & set(curves.classes) and set(small) < set(curves.suppressed)
    png = export.preview_figure(cleveland.workbench, guest, run_id=cleveland.run_id, figure="roc", model_ids=[model_id],
                                choice=export.ExportChoice(), options=options)
    assert png.startswith(b"\x89PNG")


def test_a_collaborators_paper_pack_gives_no_hidden_class_back_through_the_macro_average(cleveland):
    """The pack's ROC and PR figures for a collaborator: the classes left out are named, at least two
    holding 5 patients or more together (the printed patients minus the drawn ones is their sum), and
    the macro average printed is the drawn classes' (no interval), not the one over every class, which
    beside the drawn curves would give the hidden ones back (test_curve_disclosure_macro)."""
    from workbench.services import export, results

    owner, guest = cleveland.actor(), cleveland.user("mc_pack_guest", "collaborator")
    results.set_sharing(cleveland.workbench, owner, project_id=cleveland.project_id,
                        facets=["metrics", "figures", "paper_pack"])
    options = results.default_options(cleveland.workbench)
    model_id = results.run_results(cleveland.workbench, owner, cleveland.run_id).reported_model_id
    full = results.evaluate(cleveland.workbench, owner, run_id=cleveland.run_id, model_id=model_id, options=options)
    sizes = {c.label: c.n for c in full.main.metrics.per_class}
    seen = results.stored_evaluations(cleveland.workbench, guest, run_id=cleveland.run_id, options=options,
                                      model_ids=[model_id])[model_id].main.multiclass_curves
    assert len(seen.suppressed) >= 2 and sum(sizes[c] for c in seen.suppressed) >= 5, (sizes, seen.suppressed)
    pack = zipfile.ZipFile(io.BytesIO(export.paper_pack(cleveland.workbench, guest, run_id=cleveland.run_id,
                                                        formats=("pdf",), options=options).data))
    for name, everyone, drawn in (("roc", full.main.multiclass_curves.macro_roc.auroc, seen.macro_roc.auroc),
                                  ("pr", full.main.multiclass_curves.macro_pr.auprc, seen.macro_pr.auprc)):
        text = " ".join(PdfReader(io.BytesIO(pack.read(f"figures/{name}.pdf"))).pages[0].extract_text().split())
        assert all(f"num = {c} " in text for c in seen.classes), text  # the drawn classes' legend lines
        assert not any(f"num = {c} " in text for c in seen.suppressed) and "Not drawn" in text
        assert f"Macro average {drawn.value:.2f}" in text, text
        assert f"{everyone.value:.2f} ({everyone.lower:.2f}" not in text  # the macro over every class is not printed
    card = pack.read("model_card.md").decode()  # the leaderboard's and tables' macro is the drawn classes' too
    assert f"Macro AUROC (drawn classes): {seen.macro_roc.auroc.value:.2f}\n" in card, card
