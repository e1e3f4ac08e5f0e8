"""The recipe builder's step rows (Review page): the switch and the move and remove buttons change the
draft as labelled (the page in Korean; the buttons carry no words). Real recipe: the demo's suggested one for DEATH_EVENT with
``time`` dropped, on the heart-failure table."""

from __future__ import annotations

from types import SimpleNamespace

from tests.e2e.conftest import approved_recipe, project_of
from tests.pages.conftest import open_page


def _steps(at) -> list[str]:
    """The step rows' first lines, in order ("1. Drop columns: time ...")."""
    rows = [m.value for m in at.markdown if m.value.startswith("**") and ".** " in m.value[:8]]
    return [row.split(".** ", 1)[1].split("  \n")[0] for row in rows]


def test_step_buttons_move_switch_and_remove(app_env, datasets_dir):
    workbench, owner, project_id, table = project_of(SimpleNamespace(data_dir=app_env, env={}), datasets_dir)
    approved_recipe(workbench, owner, project_id, table)
    at = open_page("review.py", lang="ko", timeout=120)
    before = _steps(at)
    assert len(before) >= 3, [m.value for m in at.markdown]
    at.button(key="rv_down_0").click().run()
    assert not at.exception, at.exception
    moved = _steps(at)
    assert moved[:2] == [before[1], before[0]] and moved[2:] == before[2:], (before, moved)
    assert at.button(key="rv_up_0").disabled and not at.button(key="rv_up_1").disabled
    at.button(key="rv_rm_0").click().run()
    assert _steps(at) == moved[1:], _steps(at)
    next(s for s in at.toggle if s.key.startswith("rv_on_1_")).set_value(False).run()  # the second step
    rows = [m.value for m in at.markdown if m.value.startswith("**2.** ")]
    assert rows and rows[0].startswith(f"**2.** ~~{moved[2]}~~"), (rows, [e.value for e in at.error])
