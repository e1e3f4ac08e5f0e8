"""The run comparison on the Results page and the risk calculator's model line speak to people, in
English and Korean: settings rows are labelled as the Train page labels them, families and metrics
are named, numbers stay numbers (60, not 60.0), and no family, metric or settings key shows as a
code ("families", "time_budget_s", "xgboost", "roc_auc")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import open_page, trained_app
from workbench.i18n import t

FAMILY_CODES = {"linear", "xgboost", "lightgbm", "forest", "hist_gb", "ensemble"}
METRIC_CODES = {"roc_auc", "average_precision", "log_loss", "brier", "neg_brier_score", "rmse", "mae"}
SETTING_CODES = {"families", "n_trials", "time_budget_s", "seed", "metric", "overrides", "pins", "bounds", "device",
                 "calibration", "ensemble", "enqueue"}
RESAMPLES = "50"  # the results page starts the evaluate job; its intervals are not what is tested here
LABELS = {"en": {"families": "Model families", "metric": "Metric to optimise", "seed": "Seed",
                 "trials": "Trial limit", "budget": "Time budget (seconds)", "pins": "Pinned hyperparameters",
                 "no_limit": "no limit", "linear": "Logistic / linear regression", "auprc": "AUPRC"},
          "ko": {"families": "모델 종류", "metric": "최적화할 지표", "seed": "시드",
                 "trials": "시행 횟수 제한", "budget": "시간 예산(초)", "pins": "고정한 하이퍼파라미터",
                 "no_limit": "제한 없음", "linear": "로지스틱 / 선형 회귀", "auprc": "AUPRC"}}


def _page(lang: str, page: str) -> AppTest:
    return open_page(page, lang=lang, timeout=120)


def _codes(text: str) -> set[str]:
    """Codes standing as words, once the family names (one holds "linear") are taken out; a
    settings key as a whole cell, a dotted path ("overrides.pins.linear.C") or with an underscore."""
    from workbench.i18n import catalogue

    for lang in ("en", "ko"):
        for key, name in catalogue(lang).items():
            if key.startswith("train.family."):
                text = text.replace(name, " ")
    words = set(re.findall(r"[A-Za-z_]+", text))
    # a settings key is a leak as a whole cell or with its underscore ("Probability calibration" is a label)
    return (words & (FAMILY_CODES | METRIC_CODES)) | ({text.strip()} & SETTING_CODES) | \
        {w for w in words if "_" in w or "." in text and w in SETTING_CODES}


def _second_run(workbench, owner, project_id) -> None:
    """Another run of the demo recipe with other settings: a chosen metric, a time budget, a pin
    (two trials: the budget is not what stops it)."""
    from pipelines.automl import SearchSettings
    from workbench.db.engine import session_scope
    from workbench.db.models import Run
    from workbench.services import training

    with session_scope(workbench.engine) as session:
        recipe_version_id = session.scalar(select(Run.recipe_version_id).where(Run.project_id == project_id))
    training.start_training(workbench, owner, recipe_version_id=recipe_version_id, overrides_text="linear:\n  C: 0.5\n",
                            settings=SearchSettings(families=("linear",), n_trials=2, time_budget_s=60.0, seed=5,
                                                    metric="average_precision", ensemble=False))


@pytest.mark.slow
def test_run_comparison_and_calculator_name_settings_models_and_metrics(app_env, datasets_dir, monkeypatch,
                                                                         tmp_path_factory):
    monkeypatch.setenv("WORKBENCH_BOOTSTRAP_RESAMPLES", RESAMPLES)
    workbench, owner, project_id = trained_app(app_env, datasets_dir, tmp_path_factory, resamples=int(RESAMPLES))
    _second_run(workbench, owner, project_id)
    for lang in ("en", "ko"):
        label = LABELS[lang]
        at = _page(lang, "results.py")
        at.session_state[f"res_tab_{at.session_state['res_run']}"] = t("results.compare", lang)  # runs side by side
        at.run()
        assert not at.exception, at.exception
        frame = at.dataframe[-1].value  # the comparison (after the leaderboard): rows are settings, columns runs
        differ = next(c.value for c in at.caption if c.value.startswith(("Settings that differ: ", "다른 설정: ")))
        assert label["families"] in differ and label["seed"] in differ and not _codes(differ), differ
        rows = {str(index): [str(v) for v in values] for index, values in zip(frame.index, frame.to_numpy())}
        assert {label[k] for k in ("families", "metric", "seed", "trials", "budget", "pins")} <= set(rows), list(rows)
        newer, older = rows[label["families"]]  # newest run first
        assert newer == label["linear"] and set(older.split(", ")) == {label["linear"], "XGBoost"}, rows
        assert rows[label["metric"]][0] == label["auprc"], rows[label["metric"]]
        assert rows[label["budget"]] == ["60", label["no_limit"]] and rows[label["trials"]] == ["2", "3"]
        assert rows[label["seed"]] == ["5", "3"] and rows[label["pins"]][0] == f"{label['linear']}: C = 0.5"
        leaks = [text for text in [*rows, *(v for values in rows.values() for v in values)] if _codes(text)]
        assert leaks == [], leaks

        calculator = _page(lang, "calculator.py")
        line = next(c.value for c in calculator.caption if c.value.startswith(("Model: ", "모델: ")))
        model = line.split(": ", 1)[1].split(". ")[0]
        assert model in {label["linear"], "XGBoost", "앙상블", "Ensemble"} and not _codes(model), line
