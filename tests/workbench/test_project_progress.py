"""The project's steps (Projects page and sidebar) follow what was done: "Results" once a model is
chosen for the paper, "Export" once a figure, table or paper pack was downloaded. Export used to
read "done" as soon as a model was chosen, before anybody had exported anything."""

from __future__ import annotations

import pytest

from tests.workbench.test_results_service import train_heart_failure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    return train_heart_failure(tmp_path_factory, datasets_dir)  # built once per test run, copied here


def test_results_and_export_are_done_when_a_model_is_chosen_and_something_is_downloaded(trained):
    from workbench.services import export, projects, results

    owner = trained.actor()
    progress = projects.project_progress(trained.workbench, owner, trained.project_id)
    assert progress == {"upload": True, "review": True, "train": True, "results": False, "export": False}

    view = results.run_results(trained.workbench, owner, trained.run_id)
    results.choose_model(trained.workbench, owner, trained.run_id, view.rows[-1].model_id)
    progress = projects.project_progress(trained.workbench, owner, trained.project_id)
    assert progress["results"] and not progress["export"]

    file = export.table_file(trained.workbench, owner, run_id=trained.run_id, table="table_one", fmt="csv")
    assert file.data
    assert projects.project_progress(trained.workbench, owner, trained.project_id)["export"]
