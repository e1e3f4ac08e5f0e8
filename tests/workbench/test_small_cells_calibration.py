"""The calibration bins of a validation report give no count of 1 to 4 away to a reader.

Real rows: 43 heart-failure records as the cohort, a crude real score (creatinine and ejection
fraction ranks) as the model, so the ten quantile bins hold 4 or 5 patients each. Before the change
the reader's copy zeroed a bin of 4 ("<5" in the chart's hover text), but the bins add up to the
printed patients, and the bin's observed rate with its exact (Clopper-Pearson) interval gives its
size back as well: both are read here as a reader would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pages._validate_charts import calibration_chart
from pipelines import evaluation as ev
from pipelines.evaluation.curves import _clopper_pearson
from workbench.services._validation_report import ValidationReport, cohort_result, for_reader

LIMIT = 5


@pytest.fixture(scope="module")
def report(datasets_dir) -> ValidationReport:
    records = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    frame = records.sample(n=43, random_state=11).reset_index(drop=True)
    score = ((frame["serum_creatinine"].rank(pct=True) + (-frame["ejection_fraction"]).rank(pct=True)) / 2) * 0.9 + 0.05
    threshold = ev.ThresholdChoice("fixed", 0.5, 0.5)
    cohort = cohort_result("external", frame["DEATH_EVENT"].to_numpy(), score.to_numpy(), label="x", threshold=threshold,
                           subgroups=None, n_resamples=20, seed=0)
    return ValidationReport(run_id=1, model_id=1, model_label="Score", target="DEATH_EVENT", positive_label="1",
                            threshold=threshold, development=cohort, external=cohort, n_read=43, n_excluded=0,
                            warnings=(), n_resamples=20, seed=0)


def _size_from_interval(observed: float, lower: float, upper: float) -> list[int]:
    """Every bin size (1-200) whose exact interval around ``observed`` is the printed one."""
    out = []
    for n in range(1, 201):
        k = round(observed * n)
        if abs(k / n - observed) > 1e-9:
            continue
        lo, hi = _clopper_pearson(np.array([k]), np.array([n]), 0.95)
        if abs(lo[0] - lower) < 1e-9 and abs(hi[0] - upper) < 1e-9:
            out.append(n)
    return out


def _recovered(curve, n_total: int | None) -> list[int]:
    """Bin sizes a reader works out: the printed count, n minus the other bins, or the interval's size."""
    counts = [int(c) for c in curve.counts]
    found = []
    for i, shown in enumerate(counts):
        if shown:
            found.append(shown)
            continue
        if n_total is not None and sum(1 for c in counts if not c) == 1:
            found.append(n_total - sum(counts))
        found += _size_from_interval(curve.observed[i], curve.observed_lower[i], curve.observed_upper[i])
    return found


def test_the_full_report_has_bins_of_four(report):
    counts = report.external.part.calibration.counts
    assert min(counts) < LIMIT and counts.sum() == 43  # the case on real data
    # and the interval alone gives a bin's size back: hiding the count is not enough
    curve = report.external.part.calibration
    small = int(np.argmin(counts))
    assert _size_from_interval(curve.observed[small], curve.observed_lower[small], curve.observed_upper[small]) \
        == [int(counts[small])]


def test_a_reader_works_out_no_bin_below_five(report):
    seen = for_reader(report, uploader=False, restricted=True)
    for cohort in (seen.external, seen.development):
        curve = cohort.part.calibration
        n = cohort.part.n if isinstance(cohort.part.n, int) else None
        assert all(size >= LIMIT for size in _recovered(curve, n)), curve.counts
        assert int(np.sum(curve.counts)) == 43  # every patient is still on the curve
        events = curve.observed * curve.counts
        assert np.allclose(events, np.round(events))  # rates are of whole patients
        assert int(np.round(events).sum()) == int(report.external.part.metrics.n_positive)


def test_the_hover_text_prints_no_suppressed_count(report):
    seen = for_reader(report, uploader=False, restricted=True)
    figure = calibration_chart([seen.development, seen.external], recalibrated=seen.external.recalibrated,
                               x="p", y="o", recalibrated_name="r")
    hovered = [str(v) for trace in figure.data if trace.customdata is not None for v in trace.customdata]
    assert hovered and all(v.isdigit() and int(v) >= LIMIT for v in hovered), hovered


def test_the_uploader_keeps_the_ten_bins(report):
    mine = for_reader(report, uploader=True, restricted=False)
    assert mine.external.part.calibration.counts.tolist() == report.external.part.calibration.counts.tolist()
