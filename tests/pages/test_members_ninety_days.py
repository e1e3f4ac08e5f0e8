"""Inviting a collaborator from another hospital "for 90 days" (SCENARIOS 1.7): the date picker counts
no days, so its help names the date 90 days from today, in the screen's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.pages.conftest import open_page


def test_the_access_end_help_names_the_date_in_90_days(app_env):
    for lang, words in (("en", "for 90 days"), ("ko", "90일 동안")):
        at = open_page("members.py", lang=lang)
        day = f"{datetime.now(UTC).date() + timedelta(days=90):%Y-%m-%d}"
        (picker,) = at.date_input
        assert words in picker.help and day in picker.help, picker.help
