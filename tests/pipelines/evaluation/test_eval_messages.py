"""Every message key raised by evaluation, figures and tables exists in English and Korean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.errors import EvaluationError
from workbench.i18n import message

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [*(ROOT / "pipelines" / "evaluation").glob("*.py"), *(ROOT / "pipelines" / "figures").glob("*.py"),
           *(ROOT / "pipelines" / "tables").glob("*.py")]
RAISED = sorted({k for path in SOURCES for k in re.findall(r'Error\(\s*"((?:evaluation|figures)\.[a-z_]+)"',
                                                         path.read_text(encoding="utf-8"))})


def _catalogue(lang: str, domain: str) -> dict[str, str]:
    return json.loads((ROOT / "workbench" / "locales" / lang / f"{domain}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("domain", ["evaluation", "figures"])
def test_both_languages_have_the_same_keys_and_placeholders(domain):
    en, ko = _catalogue("en", domain), _catalogue("ko", domain)
    assert set(en) == set(ko)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", ko[key])), key


def test_every_raised_key_has_a_message():
    assert len(RAISED) > 30
    known = set(_catalogue("en", "evaluation")) | set(_catalogue("en", "figures"))
    assert [k for k in RAISED if k not in known] == []


def test_a_message_renders_in_both_languages():
    error = EvaluationError("evaluation.shape_mismatch", n_true=3, n_pred=2)
    assert "3 outcomes but 2 predictions" in message(error, "en")
    assert "예측값은 2개" in message(error, "ko")
