"""One translation function for every user-facing string, in English and Korean.

Catalogues are flat JSON files, one per domain and language: ``locales/<lang>/<domain>.json``
maps ``"<domain>.<name>"`` to a template with ``{placeholders}``. Splitting by domain keeps each
package's messages beside each other and lets a test check that both languages have every key.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.errors import WorkbenchError, set_renderer

__all__ = ["LANGUAGES", "t", "key", "named", "message", "catalogue", "LOCALES_DIR"]

LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
LOCALES_DIR = Path(__file__).with_name("locales")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, merged from its domain files."""
    if lang not in LANGUAGES:
        lang = "en"
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        domain = path.stem
        for key, text in entries.items():
            if not key.startswith(domain + "."):
                raise ValueError(f"{path}: key {key!r} must start with {domain!r}.")
            merged[key] = text
    return merged


class _Keep(dict):
    """Leaves unknown placeholders visible instead of raising inside an error page."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str = "en", /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` (English when the Korean entry is missing)."""
    text = catalogue(lang).get(key) or catalogue("en").get(key)
    if text is None:
        return key
    return text.format_map(_Keep({k: _fmt(v) for k, v in params.items()}))


def key(prefix: str, code: object) -> str:
    """A catalogue key built from a code (``key("results.rule_", rule)``); written this way, with the
    literal prefix, so that the test of unused keys sees which keys the code can build."""
    return prefix + str(code)


def named(prefix: str, code: object, lang: str = "en") -> str:
    """A code's name for people (``named("train.family.", "hist_gb")``), or the code itself when the
    catalogue has no name for it (a family or metric added without one still shows)."""
    key = prefix + str(code)
    return t(key, lang) if key in catalogue("en") else str(code)


def message(error: WorkbenchError, lang: str = "en") -> str:
    """What a page or the CLI shows for a workbench error."""
    return t(error.key, lang, **error.params)


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


set_renderer(lambda error: message(error, "en"))
