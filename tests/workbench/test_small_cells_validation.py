"""The external-validation report a reader gets (``for_reader``) gives no small cell away either:
the confusion matrix, the measures at the threshold beside n and events, and a subgroup's
non-events, on the heart-failure records (a crude real score, 40 patients as the "external" cohort).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipelines import evaluation as ev
from tests.workbench.test_small_cells_disclosure import _solve, records, recovered, small  # noqa: F401
from workbench.services._validation_report import ValidationReport, cohort_result, for_reader


def _report(records: pd.DataFrame) -> ValidationReport:  # noqa: F811
    frame = records.sample(n=40, random_state=3).reset_index(drop=True)
    score = ((frame["serum_creatinine"].rank(pct=True) + (-frame["ejection_fraction"]).rank(pct=True)) / 2) * 0.9 + 0.05
    y, p = frame["DEATH_EVENT"].to_numpy(), score.to_numpy()
    threshold = ev.ThresholdChoice("fixed", 0.5, 0.5)
    groups = pd.DataFrame({"smoking": frame["smoking"].astype(str)})
    cohort = cohort_result("external", y, p, label="x", threshold=threshold, subgroups=groups, n_resamples=20, seed=0)
    return ValidationReport(run_id=1, model_id=1, model_label="Score", target="DEATH_EVENT", positive_label="1",
                            threshold=threshold, development=cohort, external=cohort, n_read=40, n_excluded=0,
                            warnings=(), n_resamples=20, seed=0)


def _line_leaks(n, events, metrics) -> list[int]:
    def rate(name):
        est = metrics.get(name)
        return None if est is None or not math.isfinite(est.value) else f"{est.value:.2f}"

    return small(recovered(n, events, rate("sensitivity"), rate("specificity")))


def test_a_reader_of_the_validation_report_gets_no_small_cell(records):  # noqa: F811
    report = _report(records)
    full = report.external
    table = full.part.metrics.confusion.table
    assert small(list(table.ravel())) != []  # the case: a confusion cell below 5
    assert _line_leaks(full.part.n, full.part.metrics.n_positive, full.part.metrics.estimates()) != []
    seen = for_reader(report, uploader=False, restricted=True)
    for cohort in (seen.external, seen.development):
        m = cohort.part.metrics
        assert _line_leaks(cohort.part.n, m.n_positive, m.estimates()) == []
        rows = [[m.confusion.tn, m.confusion.fp], [m.confusion.fn, m.confusion.tp]]
        for row, total in zip(rows, (None if not isinstance(m.n_positive, int) else cohort.part.n - m.n_positive,
                                     m.n_positive)):
            shown = [c for c in row if isinstance(c, (int, np.integer))]
            assert len(shown) in (0, 2) or total is None or not isinstance(total, int)  # no row half shown beside its total
        for r in (cohort.subgroups.overall, *cohort.subgroups.rows):
            assert _line_leaks(r.n, r.n_positive, r.metrics) == [], r
        assert math.isnan(m.sensitivity.value) and math.isfinite(m.auroc.value)
    # the uploader keeps the external numbers
    assert for_reader(report, uploader=True, restricted=False).external.part.metrics.confusion.fn == full.part.metrics.confusion.fn
