"""The Results page and the run picker name models and metrics for people, in English and Korean:
no leaderboard cell, picker option or chart legend is a raw family or metric code. The page runs
only its open tab, and the open tab stays open when the language changes. The performance and
subgroup tabs, and the Export page's table preview, hold the downloaded table's cells."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import open_page, trained_app
from workbench.i18n import t

FAMILY_CODES = {"linear", "xgboost", "lightgbm", "forest", "hist_gb", "ensemble"}
METRIC_CODES = {"roc_auc", "average_precision", "neg_brier_score", "neg_log_loss", "r2", "neg_root_mean_squared_error"}
NAMES = {"en": ("Logistic / linear regression", "Ensemble", "AUROC"), "ko": ("로지스틱 / 선형 회귀", "앙상블", "AUROC")}
GUEST = "a guest reads the tables at noon 5"
RESAMPLES = "50"  # what is tested is names and which tab runs, not the intervals
PANELS = ("results.perf_tab", "results.curves", "results.delong", "results.table_subgroups", "results.explain",
          "results.trials", "results.compare")


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
def test_leaderboard_and_run_picker_show_names_not_codes_and_only_the_open_tab_runs(app_env, datasets_dir, monkeypatch,
                                                                                   tmp_path_factory):
    """One trained (the run's shared demo: linear and xgboost, three trials) and evaluated demo for every check."""
    monkeypatch.setenv("WORKBENCH_BOOTSTRAP_RESAMPLES", RESAMPLES)
    workbench, owner, project_id = trained_app(app_env, datasets_dir, tmp_path_factory, resamples=int(RESAMPLES))
    _evaluated(workbench, owner, project_id)
    _only_the_open_tab_runs(open_page("results.py", timeout=120))
    _performance_table_as_downloaded(workbench, owner, project_id)
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
    """On arrival the performance table (no chart) and nothing of the curves, the DeLong test, the
    explanations, the trial history or the run comparison; each when its tab is chosen; the open tab
    stays open in Korean."""
    assert [tab.label for tab in at.tabs][-len(PANELS):] == [t(k) for k in PANELS]
    assert _charts(at) == 0 and len(at.table) == 2  # the leaderboard and the performance table
    run = at.session_state["res_run"]
    assert f"res_explain_{run}" not in [s.key for s in at.selectbox] and f"dl_a_{run}" not in [s.key for s in at.selectbox]
    assert not at.dataframe  # the comparison of runs is not built

    _open(at, "en", "results.curves")
    assert _charts(at) == 2 and len(at.table) == 1  # ROC and precision-recall; the table is not built

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


def _table_cells(at) -> list[list[str]]:
    frame = at.table[1].value
    return [[str(frame.index[i]), *map(str, frame.iloc[i])] for i in range(len(frame))]


def _performance_table_as_downloaded(workbench, owner, project_id: int) -> None:
    """The performance tab holds the export's table cell for cell: every measure at the chosen threshold
    for the owner; for a collaborator, only when tables are shared, and then the safe cells."""
    from datetime import timedelta

    from tests.conftest import ADMIN_PASSWORD
    from workbench.db.models import utcnow
    from workbench.services import accounts, export, projects, results

    at = open_page("results.py", timeout=120)
    run = at.session_state["res_run"]
    options = at.session_state[f"res_options_{run}"]
    reported = results.run_results(workbench, owner, run).reported_model_id
    shown = list(at.multiselect(key=f"res_table_models_{run}").value)
    assert shown[0] == reported and len(shown) >= 2
    expected = export.table_view(workbench, owner, run_id=run, table="performance", model_ids=shown, options=options)
    cells = _table_cells(at)
    assert cells == [[str(c) for c in row] for row in expected.rows]
    assert {"Sensitivity", "Specificity", "Threshold", "Patients, n", "Events, n"} <= {row[0] for row in cells}, cells
    assert any("Youden index" in c.value for c in at.caption), [c.value for c in at.caption]

    at.radio(key=f"res_table_part_{run}").set_value("train").run()  # the out-of-fold predictions
    oof = export.table_view(workbench, owner, run_id=run, table="performance_oof", model_ids=shown, options=options)
    assert _table_cells(at) == [[str(c) for c in row] for row in oof.rows] != cells

    export_page = open_page("export.py", timeout=120)  # the Export page shows each table as its file holds it
    export_page.selectbox(key="exp_table").set_value("table_one").run()
    table_one = export.table_view(workbench, owner, run_id=run, table="table_one", options=options)
    frame = export_page.table[-1].value
    assert not export_page.exception and len(table_one.rows) > 5
    assert [[str(frame.index[i]), *map(str, frame.iloc[i])] for i in range(len(frame))] == \
        [[str(c) for c in row] for row in table_one.rows]

    assert options.subgroup_columns  # the demo's suggested ones (age bands, sex, ...)
    _open(at, "en", "results.table_subgroups")
    groups = export.table_view(workbench, owner, run_id=run, table="subgroups", model_ids=[reported], options=options)
    assert len(groups.rows) > 2 and _table_cells(at) == [[str(c) for c in row] for row in groups.rows]

    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin", password=ADMIN_PASSWORD).token)
    accounts.create_user(workbench, admin, username="dr_guest", password=GUEST)
    projects.add_member(workbench, owner, project_id=project_id, username="dr_guest", role="collaborator",
                        expires_at=utcnow() + timedelta(days=30))
    guest = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="dr_guest", password=GUEST).token)
    for facets, tab in ((("metrics",), False), (("metrics", "tables"), True)):
        results.set_sharing(workbench, owner, project_id=project_id, facets=facets)
        at = open_page("results.py", username="dr_guest", password=GUEST, timeout=120)
        assert (t("results.perf_tab") in [tab.label for tab in at.tabs]) is tab, facets
    safe = export.table_view(workbench, guest, run_id=run, table="performance", model_ids=shown[:1], options=options)
    at.multiselect(key=f"res_table_models_{run}").set_value(shown[:1]).run()
    assert not at.exception and _table_cells(at) == [[str(c) for c in row] for row in safe.rows]
