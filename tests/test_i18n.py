"""Every message exists in English and Korean, and every key the code uses is in the catalogues."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from workbench.i18n import LANGUAGES, LOCALES_DIR, catalogue, message, t

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = sorted({p.stem for lang in LANGUAGES for p in (LOCALES_DIR / lang).glob("*.json")})


@pytest.mark.parametrize("domain", DOMAINS)
def test_both_languages_have_the_same_keys_and_placeholders(domain):
    files = {lang: LOCALES_DIR / lang / f"{domain}.json" for lang in LANGUAGES}
    missing = [lang for lang, path in files.items() if not path.exists()]
    assert not missing, f"{domain}: no catalogue for {missing}"
    entries = {lang: json.loads(path.read_text(encoding="utf-8")) for lang, path in files.items()}
    en, ko = entries["en"], entries["ko"]
    assert sorted(set(en) - set(ko)) == [], f"{domain}: missing in Korean"
    assert sorted(set(ko) - set(en)) == [], f"{domain}: missing in English"
    for key in en:
        fields_en = {f for _, f, _, _ in string.Formatter().parse(en[key]) if f}
        fields_ko = {f for _, f, _, _ in string.Formatter().parse(ko[key]) if f}
        assert fields_en == fields_ko, f"{key}: placeholders differ {fields_en} vs {fields_ko}"
        assert ko[key].strip(), f"{key}: empty Korean text"


# Keys written literally in the code: error keys and t("...") calls.
_KEY_USE = re.compile(
    r"""(?:Error|Denied|Found|Conflict|Cancelled|Corrupt|\bt|ctx\.t|_t)\(\s*f?["']([a-z][a-z0-9_]*\.[a-z0-9_.]+)["']"""
)


def _used_keys() -> dict[str, str]:
    used: dict[str, str] = {}
    for folder in ("workbench", "pipelines", "permissions", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in _KEY_USE.findall(path.read_text(encoding="utf-8")):
                if not key.endswith("."):
                    used.setdefault(key, str(path.relative_to(ROOT)))
    return used


def test_every_key_used_in_code_is_in_the_catalogue():
    known = catalogue("en")
    missing = {k: where for k, where in _used_keys().items() if k not in known and not k.endswith(".py")}
    assert missing == {}, f"keys used but not in catalogues: {missing}"


def test_rendering_fills_placeholders_and_falls_back_to_english():
    from pipelines.errors import InputError

    error = InputError("projects.name_too_long", limit=200)
    assert "200" in message(error, "en") and "200" in message(error, "ko")
    assert message(error, "ko") != message(error, "en")
    assert t("no.such.key", "ko") == "no.such.key"
    assert t("app.signed_in_as", "fr", name="x") == t("app.signed_in_as", "en", name="x")


def test_every_job_kind_has_a_name_on_the_jobs_page():
    from workbench.jobs._kinds import JOB_KINDS

    for lang in LANGUAGES:
        missing = [kind for kind in JOB_KINDS if f"jobs.kind.{kind}" not in catalogue(lang)]
        assert missing == [], f"{lang}: no jobs.kind.<kind> for {missing}"
