"""The projects table marks the demo project once: the shipped demo is named "... (demo)", which the
table printed as "Heart failure mortality (demo) (demo)" (and "(demo) (예제)" in Korean)."""

from __future__ import annotations

from tests.pages.conftest import open_page
from workbench.i18n import t


def test_the_demo_is_marked_once(app_env):
    for lang in ("en", "ko"):
        at = open_page("projects.py", lang=lang)
        names = list(at.dataframe[0].value[t("projects.col.name", lang)])
        assert names == ["Heart failure mortality (demo)"], (lang, names)
