"""Intervals on the validation page follow the screen's language: "0.812 (0.760 to 0.860)" in English,
"0.812 (0.760–0.860)" in Korean (the form the figures and the results page print), in the measures
table, the subgroup table and the ROC legend.

Real rows: 40 heart-failure records and a crude real score (the report of the small-cells tests).
"""

from __future__ import annotations

import pandas as pd
import pytest

from pages._results_charts import roc_chart
from pages._shell import PageContext
from pages._validate_report import _metrics_table
from tests.workbench.test_small_cells_validation import _report
from workbench.services._validation_report import for_reader


@pytest.fixture(scope="module")
def cohorts(datasets_dir):
    mine = for_reader(_report(pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")),
                      uploader=True, restricted=False)
    return [mine.development, mine.external]


def _cells(ctx, cohorts) -> list[str]:
    table = _metrics_table(ctx, cohorts)
    return [cell for cell in table.to_numpy().ravel().tolist() if "(" in cell and "." in cell.split("(")[1]]


@pytest.mark.parametrize("lang, sep, other", [("en", " to ", "\u2013"), ("ko", "\u2013", " to ")])
def test_intervals_are_written_in_the_screen_language(cohorts, lang, sep, other):
    ctx = PageContext(workbench=None, actor=None, lang=lang, project_id=None)  # type: ignore[arg-type]
    intervals = [c for c in _cells(ctx, cohorts) if "NA" not in c]
    assert len(intervals) >= 10, intervals
    positive = [c for c in intervals if "\u2212" not in c]  # a negative bound keeps " to " / " ~ "
    assert positive and all(sep in c and other not in c for c in positive), positive
    legend = [trace.name for trace in roc_chart(cohorts, x="x", y="y", lang=lang).data if trace.name]
    assert legend and all(sep in name for name in legend), legend
