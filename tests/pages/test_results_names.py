"""The Results page and the run picker name models and metrics for people, in English and Korean:
no leaderboard cell, picker option or chart legend is a raw family or metric code."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import trained_demo
from tests.pages.conftest import open_page

FAMILY_CODES = {"linear", "xgboost", "lightgbm", "forest", "hist_gb", "ensemble"}
METRIC_CODES = {"roc_auc", "average_precision", "neg_brier_score", "neg_log_loss", "r2", "neg_root_mean_squared_error"}
NAMES = {"en": ("Logistic / linear regression", "Ensemble", "AUROC"), "ko": ("로지스틱 / 선형 회귀", "앙상블", "AUROC")}


def _results(lang: str) -> AppTest:
    return open_page("results.py", lang=lang, timeout=120)


def _texts(at) -> list[str]:
    """Every text a person reads in the leaderboard, the pickers and the charts' legends."""
    board = at.table[0].value
    out = [str(v) for v in board.to_numpy().ravel()] + [str(c) for c in board.columns]
    for box in [*at.selectbox, *at.multiselect]:
        out += [str(o) for o in box.options]
    for chart in at.get("plotly_chart"):
        out += [str(trace.get("name", "")) for trace in __import__("json").loads(chart.proto.spec)["data"]]
        out.append(str(__import__("json").loads(chart.proto.spec)["layout"].get("yaxis", {}).get("title")))
    return out


@pytest.mark.slow
def test_leaderboard_and_run_picker_show_names_not_codes(app_env, datasets_dir):
    trained_demo(SimpleNamespace(data_dir=app_env, env={}), datasets_dir)  # linear and xgboost, three trials
    for lang in ("en", "ko"):
        at = _results(lang)
        texts = _texts(at)
        linear, ensemble, auroc = NAMES[lang]
        models = [str(v).rstrip(" \u2605") for v in at.table[0].value.iloc[:, 0]]
        assert {linear, "XGBoost"} <= set(models) <= {linear, "XGBoost", ensemble}, models
        run = at.selectbox(key="res_run").options[0]
        assert f"({auroc} " in run and "roc_auc" not in run, run
        assert any(auroc in c for c in at.table[0].value.columns), list(at.table[0].value.columns)
        codes = FAMILY_CODES | METRIC_CODES
        # a whole text, a legend's name before its score, or a code inside a label ("best hist_gb (roc_auc 0.8)")
        raw = [text for text in texts if {text.strip(" \u2605"), text.split("  ")[0]} & codes
               or {w.strip("()") for w in text.split() if "_" in w} & codes]
        assert raw == [], raw
