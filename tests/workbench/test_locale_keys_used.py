"""Every message of the results, export, figures and calculator catalogues is used by the code: a
key nothing shows is a translation someone keeps up to date for nothing, and usually the trace of
a feature that moved (the Export page's old ``results.figure_*`` names). Other domains can join by
adding their name to ``DOMAINS`` once their unused keys are gone.

A key counts as used when the code names it in a string literal, or builds it from a literal
prefix (``_k("results.rule_", rule)``, ``"roles." + role``, ``f"jobs.kind.{kind}"``). Tests do not
count."""

from __future__ import annotations

import json
import re
from pathlib import Path

from workbench.i18n import LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2]
CODE = ("workbench", "pipelines", "permissions", "pages")
DOMAINS = ("results", "export", "figures", "calculator")
_LITERAL = re.compile(r"""["']([a-z][a-z0-9_]*\.[A-Za-z0-9_.]*)["']""")
_F_PREFIX = re.compile(r"""f["']([a-z][a-z0-9_]*\.[A-Za-z0-9_.]*)\{""")


def _unused(domain: str) -> list[str]:
    source = "\n".join(p.read_text(encoding="utf-8") for folder in CODE for p in (ROOT / folder).rglob("*.py"))
    literals = set(_LITERAL.findall(source))
    prefixes = {p for p in literals if p.endswith((".", "_"))} | set(_F_PREFIX.findall(source))
    keys = json.loads((LOCALES_DIR / "en" / f"{domain}.json").read_text(encoding="utf-8"))
    return sorted(k for k in keys if k not in literals and not any(k.startswith(p) for p in prefixes))


def test_every_key_of_these_catalogues_is_used_by_the_code():
    assert {domain: _unused(domain) for domain in DOMAINS} == {domain: [] for domain in DOMAINS}
