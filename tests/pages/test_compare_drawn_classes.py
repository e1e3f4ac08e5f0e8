"""Runs side by side, as a collaborator reads two multiclass runs whose held-out part hides a small grade
(real Cleveland rows, ``tests/workbench/test_disclosure_holdout_score.py``): the holdout column holds the
drawn grades' macro AUROC, and a caption in the reader's language (Korean here) says so; the owner's table has the
macro over every grade and no such caption."""

from __future__ import annotations

from tests.conftest import ADMIN_PASSWORD
from tests.pages.conftest import open_page
from tests.workbench.test_disclosure_holdout_score import LIMIT, store_run
from workbench.i18n import t

PASSWORD = "a tandem rides quietly east 42"


def _compare(lang: str, username: str, password: str):
    """(the comparison's holdout row, its captions) on the Results page's Runs side by side tab."""
    at = open_page("results.py", lang=lang, username=username, password=password, timeout=120)
    at.session_state[f"res_tab_{at.session_state['res_run']}"] = t("results.compare", lang)
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[-1].value
    holdout = t("results.col.test", lang, metric="AUROC")
    return [float(v) for v in frame.loc[holdout]], [c.value for c in at.caption]


def test_a_collaborator_compares_the_drawn_classes_holdout_score(app_env, datasets_dir):
    from workbench.context import open_workbench
    from workbench.services import accounts, projects, results
    from workbench.services._curve_disclosure import reader_evaluation
    from workbench.settings import default_settings

    workbench = open_workbench(default_settings(data_dir=str(app_env)))
    admin = accounts.resolve_session(workbench, accounts.sign_in(workbench, username="admin",
                                                                 password=ADMIN_PASSWORD).token)
    demo = projects.list_projects(workbench, admin)[0].id  # the admin owns it; no run yet
    accounts.create_user(workbench, admin, username="grade_guest", password=PASSWORD)
    projects.add_member(workbench, admin, project_id=demo, username="grade_guest", role="collaborator")
    results.set_sharing(workbench, admin, project_id=demo, facets=["metrics"])
    _, evaluation = store_run(workbench, demo, datasets_dir)
    store_run(workbench, demo, datasets_dir)
    drawn = round(reader_evaluation(evaluation, limit=LIMIT).main.metrics.macro_auroc.value, 3)
    every = round(evaluation.main.metrics.macro_auroc.value, 3)
    assert drawn != every

    row, captions = _compare("ko", "grade_guest", PASSWORD)  # (the key's English text: test_i18n's key checks)
    assert row == [drawn, drawn], row
    assert t("results.compare_drawn", "ko", metric="AUROC") in captions, captions
    row, captions = _compare("en", "admin", ADMIN_PASSWORD)
    assert row == [every, every] and t("results.compare_drawn", "en", metric="AUROC") not in captions
