"""`workbench report` on a model folder from `workbench train`: the same paper pack, a holdout
recomputed exactly, and clear refusals for a wrong table or a folder that is not a model."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pandas as pd
import pytest
from PIL import Image

from workbench.cli import main

# a real training and the paper pack it writes (tens of seconds)
# scheduled with the slow files, not at the run's end (tests/conftest.py)
pytestmark = pytest.mark.slow

FAST = ["--trials", "3", "--families", "linear,xgboost", "--compute", "cpu", "--time-budget", "120"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, datasets_dir):
    """A heart failure model trained headless; the table sits beside the folder, as run.json names it."""
    root = tmp_path_factory.mktemp("report")
    data = root / "heart_failure_clinical_records.csv"
    shutil.copy(datasets_dir / "heart_failure_clinical_records.csv", data)
    out = root / "model"
    assert main(["train", str(data), "--target", "DEATH_EVENT", "--drop", "time", "--seed", "1", *FAST,
                 "--out", str(out)]) == 0
    return out


def test_report_writes_the_paper_pack_of_a_model_folder(model_dir, tmp_path):
    pack_path = tmp_path / "pack.zip"
    code = main(["report", str(model_dir), "--out", str(pack_path), "--preset", "double", "--dpi", "300",
                 "--resamples", "100", "--subgroups", "sex"])
    assert code == 0
    pack = zipfile.ZipFile(pack_path)
    names = set(pack.namelist())
    for figure in ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "importance", "forest", "cohort_flow"):
        assert {f"figures/{figure}.pdf", f"figures/{figure}.tiff"} <= names, figure
    assert {"tables/performance.docx", "tables/table_one.docx", "methods.md", "tripod_ai_checklist.docx",
            "model_card.md", "reproduce/settings.json"} <= names
    assert "tables/performance_oof.csv" not in names  # a model folder keeps no out-of-fold predictions
    tiff = Image.open(io.BytesIO(pack.read("figures/roc.tiff")))
    assert tiff.info["dpi"] == (300, 300) and tiff.size[0] == round(183 / 25.4 * 300)
    run = json.loads((model_dir / "run.json").read_text())
    settings = json.loads(pack.read("reproduce/settings.json"))
    assert settings["run"]["seed"] == 1 and settings["search_settings"]["n_trials"] == 3
    methods = pack.read("methods.md").decode()
    # the holdout AUROC in the text is the one training recorded
    assert f"{run['final']['test_score']:.2f}" in methods
    assert "test set (no out-of-fold" in methods


def test_report_refuses_another_table(model_dir, tmp_path, datasets_dir, capsys):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    frame["ejection_fraction"] = frame["ejection_fraction"].sample(frac=1, random_state=0).to_numpy()
    other = tmp_path / "other.csv"
    frame.to_csv(other, index=False)
    code = main(["report", str(model_dir), "--out", str(tmp_path / "p.zip"), "--data", str(other), "--resamples", "10"])
    assert code == 2
    assert "not the table the model was trained on" in capsys.readouterr().err
    assert not (tmp_path / "p.zip").exists()


def test_report_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "p.zip")]) == 2
    assert "is not a model folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path), "--out", str(tmp_path / "p.zip"), "--dpi", "150"])
