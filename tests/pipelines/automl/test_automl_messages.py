"""Every message key the AutoML engine raises exists in English and Korean, with the same placeholders."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _catalogue(lang: str) -> dict[str, str]:
    return json.loads((REPO / "workbench" / "locales" / lang / "training.json").read_text(encoding="utf-8"))


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_raised_key_is_in_both_catalogues_with_the_same_placeholders():
    en, ko = _catalogue("en"), _catalogue("ko")
    assert set(en) == set(ko)
    source = "".join(p.read_text(encoding="utf-8") for p in (REPO / "pipelines" / "automl").rglob("*.py"))
    used = set(re.findall(r'"(training\.[a-z_]+)"', source))
    assert used and used <= set(en)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(ko[key]), key
        assert re.search(r"[가-힣]", ko[key]), key
