"""A multiclass run end to end (Cleveland heart disease, ``num`` 0-4, a 3-trial training): the
stored evaluation carries one-vs-rest ROC and PR curves equal to scikit-learn's on the stored
predictions, the figure menu offers them, they export to every format and into the paper pack."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from pipelines.automl import SearchSettings
from pipelines.recipe import suggest_recipe
from tests.conftest import ADMIN_PASSWORD
from tests.workbench.test_results_service import InlineQueue, Trained
from workbench.db.engine import session_scope


@pytest.fixture(scope="module")
def cleveland(tmp_path_factory, datasets_dir) -> Trained:
    from workbench.bootstrap import first_start
    from workbench.context import open_workbench
    from workbench.services import accounts, datasets, projects, recipes, training
    from workbench.services._access import load_actor
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(tmp_path_factory.mktemp("multiclass") / "data"),
                                                demo_project=False, admin_password=ADMIN_PASSWORD,
                                                bootstrap_resamples=100))
    first_start(workbench)
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    workbench.jobs = InlineQueue(workbench.settings)
    project_id = projects.create_project(workbench, admin, name="Cleveland heart disease grade")
    with session_scope(workbench.engine) as session:
        owner = load_actor(session, admin.user_id)
    path = datasets_dir / "heart_cleveland.csv"
    version = datasets.import_file(workbench, owner, project_id=project_id, path=path, label="cleveland.csv")
    recipe_version = recipes.save_version(workbench, owner, project_id=project_id, dataset_version_id=version,
                                          recipe=suggest_recipe(pd.read_csv(path), target="num"))
    recipes.approve(workbench, owner, recipe_version_id=recipe_version)
    training.start_training(workbench, owner, recipe_version_id=recipe_version, overrides_text=None,
                            settings=SearchSettings(families=("linear",), n_trials=3, time_budget_s=None, seed=1))
    run_id = training.list_runs(workbench, owner, project_id)[-1].id
    return Trained(workbench, admin.user_id, project_id, recipe_version, run_id)


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
