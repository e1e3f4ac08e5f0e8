"""The validation page prints a measure at the threshold hidden from a reader as the exported tables
do ("suppressed" / "비공개", explained in a note), not as "NA", which reads as "could not be computed".

Real rows: 40 heart-failure records and a crude real score, whose confusion matrix has 3 false
negatives, so a reader's copy hides sensitivity, specificity, PPV and NPV.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pages._shell import PageContext
from pages._validate_report import _metrics_table
from tests.workbench.test_small_cells_validation import _report
from workbench.i18n import t
from workbench.services._validation_report import for_reader


@pytest.fixture(scope="module")
def report(datasets_dir):
    return _report(pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv"))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_reader_sees_the_suppressed_mark_not_na(report, lang):
    seen = for_reader(report, uploader=False, restricted=True)
    ctx = PageContext(workbench=None, actor=None, lang=lang, project_id=None)  # type: ignore[arg-type]
    table = _metrics_table(ctx, [seen.development, seen.external])
    mark = t("figures.table.metric_suppressed", lang)
    for name in ("sensitivity", "specificity", "ppv", "npv"):
        row = table.loc[t(f"figures.metric.{name}", lang)].tolist()
        assert row == [mark, mark], (name, row)
    assert "NA" not in table.to_numpy().ravel().tolist()
    assert table.loc[t("figures.metric.auroc", lang)].str.match(r"^0\.\d{3} ").all()  # threshold-free: kept


def test_the_uploader_sees_the_numbers(report):
    mine = for_reader(report, uploader=True, restricted=False)
    ctx = PageContext(workbench=None, actor=None, lang="en", project_id=None)  # type: ignore[arg-type]
    row = _metrics_table(ctx, [mine.development, mine.external]).loc[t("figures.metric.sensitivity", "en")].tolist()
    assert all(cell[0].isdigit() for cell in row), row
