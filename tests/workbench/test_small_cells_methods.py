"""The methods paragraph of a collaborator's paper pack writes a sentence without a share when the
events are hidden, in English and Korean: before, it printed "(–%)" / "(–%)" in their place.

Real rows: a held-out part of the heart-failure records in which 9 of 12 died (3 survivors), so the
events are hidden (x) as the performance tables hide them.
"""

from __future__ import annotations

import pytest

from tests.workbench.test_small_cells_disclosure import evaluation_for, records  # noqa: F401
from tests.workbench.test_small_cells_exports import _pack
from workbench.i18n import t


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_methods_sentence_has_no_empty_share(records, lang):  # noqa: F811
    died = records[records.DEATH_EVENT == 1].sample(9, random_state=2)
    lived = records[records.DEATH_EVENT == 0].sample(3, random_state=2)
    methods = _pack(evaluation_for(records, died.index.append(lived.index)), lang=lang)["methods.md"].decode()
    assert "\u2013%" not in methods and "(%)" not in methods
    sentence = t("export.methods.events_hidden", lang, n="x", total=12)  # the part of 12, its events hidden
    assert sentence in methods, methods
