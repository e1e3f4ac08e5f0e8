"""The external-validation check tells the collaborator what to do, not only what is wrong: a missing
column says to add it or choose it below, a column with the wrong kind of values points to the list of
what the file needs, and a file without the outcome names the outcome column it must have."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pages._shell import PageContext
from pages._validate_report import describe_issue
from pipelines.evaluation.external import ColumnIssue

DO = {"en": {"missing": "choose that column below", "type_differs": "Your file needs"},
      "ko": {"missing": "아래에서 그 열을 고르세요", "type_differs": "필요합니다"}}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_column_problem_says_what_to_do(lang):
    ctx = PageContext(workbench=None, actor=None, lang=lang, project_id=None)  # type: ignore[arg-type]
    missing = describe_issue(ctx, ColumnIssue(column="serum_sodium", kind="missing"))
    wrong = describe_issue(ctx, ColumnIssue(column="sex", kind="type_differs", found="text"))
    assert missing.startswith("serum_sodium: ") and DO[lang]["missing"] in missing, missing
    assert wrong.startswith("sex: ") and DO[lang]["type_differs"] in wrong, wrong


def _page(lang: str) -> None:
    from types import SimpleNamespace

    from pages._shell import PageContext
    from pages._validate_upload import _show_check

    check = SimpleNamespace(columns=SimpleNamespace(errors=[], warnings=[], outcome_found=False), ready=False)
    inputs = SimpleNamespace(outcome_column="DEATH_EVENT", positive_label="1")
    _show_check(PageContext(workbench=None, actor=None, lang=lang, project_id=None), check, inputs)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_file_without_the_outcome_is_told_its_name(lang):
    at = AppTest.from_function(_page, args=(lang,)).run()
    assert not at.exception, at.exception
    (error,) = [e.value for e in at.error]
    assert error.count("DEATH_EVENT") == 2 and "1" in error, error
