"""An interval in the pack's language: English "0.72 (0.61 to 0.83)" as before, Korean "0.72 (0.61–0.83)"
as the figures print it, and where a bound is negative (a dash would read as a minus sign) " to " in
English and " ~ " in Korean; the figures' labels follow the same rule."""

from __future__ import annotations

from pipelines.evaluation import Estimate
from pipelines.figures.performance import _ci_text

AUROC = Estimate(0.72, 0.61, 0.83)
INTERCEPT = Estimate(-1.04, -1.2, -0.89)


def test_english_is_unchanged():
    assert AUROC.format(2) == AUROC.format(2, lang="en") == "0.72 (0.61 to 0.83)"
    assert INTERCEPT.format(2) == "\u22121.04 (\u22121.20 to \u22120.89)"
    assert AUROC.format(3, percent=True) == "72.0 (61.0 to 83.0)"


def test_korean_uses_the_dash_of_the_figures_and_the_korean_range_mark_for_negatives():
    assert AUROC.format(2, lang="ko") == "0.72 (0.61\u20130.83)" == _ci_text(AUROC, lang="ko")
    assert INTERCEPT.format(2, lang="ko") == "\u22121.04 (\u22121.20 ~ \u22120.89)" == _ci_text(INTERCEPT, lang="ko")
    assert _ci_text(INTERCEPT) == "\u22121.04 (\u22121.20 to \u22120.89)"  # English figures as before
    assert Estimate(0.5, float("nan"), float("nan")).format(2, lang="ko") == "0.50"
