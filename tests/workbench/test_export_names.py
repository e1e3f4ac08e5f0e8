"""Exported figures, tables and the paper pack name models for readers, in the export's language:
the stored evaluations keep family codes (``linear``, ``xgboost``) as labels, and a journal figure
legend, a table's model column or a model card title reading "xgboost" is a code leaking to print.
The run here is stored before anything is exported, so it is drawn as an old run would be."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from matplotlib.text import Text

from tests.workbench.test_results_service import TINY, train_table

FAMILY_CODES = {"linear", "xgboost", "lightgbm", "forest", "hist_gb", "ensemble"}
# codes of a run's settings that a methods text, model card or checklist once printed as they are stored
SETTING_CODES = {"binary", "stratified_kfold", "grouped_kfold", "drop_columns", "impute", "most_frequent", "add_indicator",
                 "cpu", "cuda", "none", "youden"}
NAMES = {"en": {"linear": "Logistic / linear regression", "xgboost": "XGBoost"},
         "ko": {"linear": "로지스틱 / 선형 회귀", "xgboost": "XGBoost"}}


# a real training and its evaluations (tens of seconds): scheduled with the slow files, not at the run's
# end where one long file would keep a process busy after the others are done (tests/conftest.py)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets_dir):
    # 50 resamples: the intervals are not what is tested, and every export here waits for the evaluation
    return train_table(tmp_path_factory, datasets_dir / "heart_failure_clinical_records.csv", target="DEATH_EVENT",
                       name="Heart failure mortality", label="heart.csv", drop=("time",), settings=[TINY],
                       resamples=50)  # the training of train_heart_failure(runs=1): copied, not trained again


def _codes_in(text: str) -> set[str]:
    """Family codes standing as words in ``text``, once the names (which may hold one, as
    "Logistic / linear regression" does) are taken out."""
    from workbench.i18n import catalogue

    for lang in ("en", "ko"):
        for key, name in catalogue(lang).items():
            if key.startswith("train.family."):
                text = text.replace(name, " ")
    return {word for word in re.findall(r"[A-Za-z_]+", text) if word in FAMILY_CODES}


def _models(trained):
    from workbench.services import results

    owner = trained.actor()
    view = results.run_results(trained.workbench, owner, trained.run_id)
    return owner, {r.family: r.model_id for r in view.rows if r.family in ("linear", "xgboost")}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_exported_figures_name_the_models_in_their_language(trained, lang):
    from workbench.services import export

    owner, ids = _models(trained)
    stored = export._evaluations(trained.workbench, owner, export._view(trained.workbench, owner, trained.run_id,
                                                                        "figures"), list(ids.values()), None)
    assert {e.label for e in stored} == {"linear", "xgboost"}  # the store keeps codes: names come at drawing time
    for figure in ("roc", "pr", "decision_curve", "calibration"):
        _, fig = export._figure(trained.workbench, owner, run_id=trained.run_id, figure=figure,
                                model_ids=list(ids.values()), choice=export.ExportChoice(lang=lang), options=None)
        legends = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
        texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
        shown = legends if figure != "calibration" else texts  # calibration names models in its notes
        for family in ids:
            assert any(text.startswith(NAMES[lang][family]) for text in shown), (figure, family, shown)
        assert [t for t in texts if _codes_in(t)] == [], (figure, texts)


def test_the_performance_table_names_models_in_its_language(trained):
    from workbench.services import export

    owner, ids = _models(trained)
    for lang in ("en", "ko"):
        file = export.table_file(trained.workbench, owner, run_id=trained.run_id, table="performance", fmt="csv",
                                 model_ids=list(ids.values()), lang=lang)
        text = file.data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert all(name in text for name in NAMES[lang].values()), rows[:3]
        assert [cell for row in rows for cell in row if _codes_in(cell)] == [], rows[:3]


def test_the_paper_pack_names_models_in_tables_texts_card_and_manifest(trained):
    from workbench.services import export

    owner, ids = _models(trained)
    file = export.paper_pack(trained.workbench, owner, run_id=trained.run_id, model_ids=list(ids.values()),
                             choice=export.ExportChoice(dpi=300, lang="ko"), formats=("png",))
    pack = zipfile.ZipFile(io.BytesIO(file.data))
    for table in ("performance", "hyperparameters"):
        cells = [c for row in csv.reader(io.StringIO(pack.read(f"tables/{table}.csv").decode("utf-8-sig"))) for c in row]
        assert NAMES["ko"]["linear"] in cells and "XGBoost" in cells, (table, cells[:12])
        assert [c for c in cells if _codes_in(c)] == [], (table, cells[:12])
    from workbench.services import results
    from workbench.services._model_names import model_name

    view = results.run_results(trained.workbench, owner, trained.run_id)
    reported = model_name(next(r.name for r in view.rows if r.model_id == view.reported_model_id), "ko")
    assert pack.read("model_card.md").decode().splitlines()[0] == f"# 모델 카드: {reported}"
    methods, card = pack.read("methods.md").decode(), pack.read("model_card.md").decode()
    models = next(line for line in methods.splitlines() if "Optuna" in line)  # the paragraph on the models
    assert NAMES["ko"]["linear"] in models and "XGBoost" in models and "AUROC" in models, models
    assert not _codes_in(models) and "roc_auc" not in methods + card, models
    # settings in words, not codes: task, steps, device, calibration, split kind, threshold rule
    checklist = pack.read("tripod_ai_checklist.csv").decode("utf-8-sig")
    for text in (methods, card, checklist):
        assert not SETTING_CODES & set(re.findall(r"[A-Za-z_]+", text)), SETTING_CODES & set(re.findall(r"[A-Za-z_]+", text))
    assert "과제: 이진 분류" in methods and "결과 변수의 비율을 유지하며 무작위로 분할" in methods and "장치 CPU" in methods
    assert "열 삭제: time" in methods and "재보정" in methods and "Youden 지수" in card + checklist
    # machine-readable files keep the family codes (as the leaderboard does), names beside them
    manifest, settings = json.loads(pack.read("MANIFEST.json")), json.loads(pack.read("reproduce/settings.json"))
    reported_code = next(r.family for r in view.rows if r.model_id == view.reported_model_id)
    assert manifest["models"][0] == {"family": reported_code, "name": reported}
    assert {(m["family"], m["name"]) for m in manifest["models"]} >= {("linear", NAMES["ko"]["linear"]), ("xgboost", "XGBoost")}
    assert settings["evaluation"]["models"] == manifest["models"]
    assert {m["family"] for m in settings["leaderboard"]} >= {m["family"] for m in manifest["models"]}


def test_a_code_without_a_name_is_drawn_as_it_is():
    """A family added without a catalogue entry still has a legend (its code), not a blank."""
    from workbench.services._model_names import model_name

    assert model_name("hist_gb", "ko") == "히스토그램 그래디언트 부스팅"
    assert model_name("new_family", "en") == "new_family"
