"""Every message key raised by ingestion and the viewer exists in English and Korean, with the same placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.ingest import COLUMN_TYPES, PHI_CATEGORIES

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ROOT / "workbench" / "locales"


def _catalogue(lang: str, domain: str) -> dict[str, str]:
    return json.loads((LOCALES / lang / f"{domain}.json").read_text(encoding="utf-8"))


def _used_keys(domain: str) -> set[str]:
    keys: set[str] = set()
    for folder in ("ingest", "viewer"):
        for path in (ROOT / "pipelines" / folder).glob("*.py"):
            keys |= set(re.findall(rf'"({domain}\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return keys


@pytest.mark.parametrize("domain", ["ingest", "viewer"])
def test_keys_exist_in_both_languages_with_same_placeholders(domain: str) -> None:
    english, korean = _catalogue("en", domain), _catalogue("ko", domain)
    assert set(english) == set(korean)
    assert _used_keys(domain) <= set(english)
    for key, text in english.items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", korean[key])), key
        assert re.search(r"[가-힣]", korean[key]), f"{key} is not translated"


def test_category_and_type_labels_are_translated() -> None:
    english = _catalogue("en", "ingest")
    for category in PHI_CATEGORIES:
        assert f"ingest.phi.{category}" in english
    for kind in COLUMN_TYPES:
        assert f"ingest.type.{kind}" in english
