"""The Results page and the run picker name models and metrics for people, in English and Korean:
no leaderboard cell, picker option or chart legend is a raw family or metric code. The page runs
only its open tab, and the open tab stays open when the language changes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import trained_demo
from tests.pages.conftest import open_page
from workbench.i18n import t

FAMILY_CODES = {"linear", "xgboost", "lightgbm", "forest", "hist_gb", "ensemble"}
METRIC_CODES = {"roc_auc", "average_precision", "neg_brier_score", "neg_log_loss", "r2", "neg_root_mean_squared_error"}
NAMES = {"en": ("Logistic / linear regression", "Ensemble", "AUROC"), "ko": ("로지스틱 / 선형 회귀", "앙상블", "AUROC")}
RESAMPLES = "50"  # what is tested is names and which tab runs, not the intervals
PANELS = ("results.curves", "results.delong", "results.explain", "results.trials", "results.compare")


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
def test_leaderboard_and_run_picker_show_names_not_codes_and_only_the_open_tab_runs(app_env, datasets_dir, monkeypatch):
    """One trained and evaluated demo for both checks (training it is most of the time)."""
    monkeypatch.setenv("WORKBENCH_BOOTSTRAP_RESAMPLES", RESAMPLES)
    workbench, owner, project_id = trained_demo(SimpleNamespace(data_dir=app_env, env={"WORKBENCH_BOOTSTRAP_RESAMPLES": RESAMPLES}),
                                                datasets_dir)  # linear and xgboost, three trials
    _evaluated(workbench, owner, project_id)
    _only_the_open_tab_runs(open_page("results.py", timeout=120))
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




def _open(at, lang: str, label_key: str):
    at.session_state[f"res_tab_{at.session_state['res_run']}"] = t(label_key, lang)
    at.run()
    assert not at.exception and not at.error, at.exception or at.error
    return at


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def _evaluated(workbench, owner, project_id: int) -> None:
    """The evaluations the page asks for on arrival, stored before it opens (the job runs inline)."""
    from workbench.services import evaluation_job, results

    run_id = results.project_runs(workbench, owner, project_id)[0].run_id
    options = results.run_default_options(workbench, results.run_results(workbench, owner, run_id).summary)
    evaluation_job.request_evaluation(workbench, owner, run_id=run_id, options=options)
    assert results.stored_evaluations(workbench, owner, run_id=run_id, options=options), "nothing evaluated"


def _only_the_open_tab_runs(at) -> None:
    """On arrival the curves (two charts) and nothing of the DeLong test, the explanations, the trial
    history or the run comparison; each when its tab is chosen; the open tab stays open in Korean."""
    assert [tab.label for tab in at.tabs][-len(PANELS):] == [t(k) for k in PANELS]
    assert _charts(at) == 2  # ROC and precision-recall
    run = at.session_state["res_run"]
    assert f"res_explain_{run}" not in [s.key for s in at.selectbox] and f"dl_a_{run}" not in [s.key for s in at.selectbox]
    assert not at.dataframe  # the comparison of runs is not built

    _open(at, "en", "results.delong")
    assert _charts(at) == 0 and f"dl_a_{run}" in [s.key for s in at.selectbox]
    assert any(m.value.startswith("AUROC ") and " vs " in m.value for m in at.markdown), [m.value for m in at.markdown]

    _open(at, "en", "results.explain")
    assert _charts(at) >= 1 and f"res_explain_{run}" in [s.key for s in at.selectbox]

    _open(at, "en", "results.trials")
    assert _charts(at) == 1 and f"dl_a_{run}" not in [s.key for s in at.selectbox]

    at.session_state["lang"] = "ko"  # the labels change; the trial history stays open
    at.run()
    assert not at.exception
    assert at.session_state[f"res_tab_{run}"] == t("results.trials", "ko") and _charts(at) == 1
