"""The Results page runs only its open tab: on arrival the curves (two charts) and nothing of the
DeLong test, the explanations, the trial history or the run comparison; each when its tab is chosen;
the open tab stays open when the language changes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.e2e.conftest import trained_demo
from tests.pages.conftest import open_page
from workbench.i18n import t

RESAMPLES = "50"  # what is tested is which tab runs, not the intervals
PANELS = ("results.curves", "results.delong", "results.explain", "results.trials", "results.compare")


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


@pytest.mark.slow
def test_only_the_open_results_tab_runs_and_it_stays_open_across_languages(app_env, datasets_dir, monkeypatch):
    monkeypatch.setenv("WORKBENCH_BOOTSTRAP_RESAMPLES", RESAMPLES)
    workbench, owner, project_id = trained_demo(SimpleNamespace(data_dir=app_env, env={"WORKBENCH_BOOTSTRAP_RESAMPLES": RESAMPLES}),
                                                datasets_dir)  # linear and xgboost, three trials
    _evaluated(workbench, owner, project_id)
    at = open_page("results.py", timeout=120)
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
