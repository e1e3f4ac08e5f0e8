"""The curves a collaborator gets give no count of 1 to 4 patients away: the exported calibration
figure's bins, the risk calculator's bins, and the one-vs-rest curves of a multiclass outcome.

Real rows. Calibration: 43 held-out heart-failure records and a crude real score (creatinine and
ejection fraction ranks), so the ten quantile bins hold 4 or 5 patients; each bin is read off the
drawn figure (its rate and exact interval, as from an SVG) and its size worked out as a reader would.
Multiclass: the Cleveland records (``num`` 0-4), a crude real score spread over the five classes, a
held-out part of 80 in which grade 4 has 1 patient; a class's size is read off its PR curve (the
no-skill line is its share) and the hidden ones by subtraction from the printed patients. Before the
change the figure drew the bins of 4 (only the histogram was cleaned), the calculator gave every
bin to everyone, and the grade-4 curve was drawn for collaborators.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.workbench.test_small_cells_calibration import _size_from_interval
from tests.workbench.test_small_cells_disclosure import SUMMARY, evaluation_for, records  # noqa: F401
from tests.workbench.test_small_cells_multiclass import SUMMARY as MULTICLASS
from tests.workbench.test_small_cells_multiclass import evaluation as multiclass  # noqa: F401  (the module fixture)
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._paper_figures import make_figure
from workbench.services.calculator import calibration_bins

LIMIT = 5


def drawn_bins(figure) -> list[tuple[float, float, float]]:
    """(rate, lower, upper) of each bin of the first model, from the figure's error bars."""
    ax = figure.axes[0]
    segments = ax.collections[0].get_segments()  # one vertical bar per bin: [(x, lower), (x, upper)]
    rates = next(line for line in ax.lines if len(line.get_ydata()) == len(segments)).get_ydata()
    return [(float(r), float(s[0][1]), float(s[1][1])) for r, s in zip(rates, segments)]


@pytest.fixture(scope="module")
def binary(records):  # noqa: F811
    return evaluation_for(records, records.sample(n=43, random_state=11).index, subgroups=())


def test_the_full_calibration_has_bins_of_four(binary):
    counts = binary.main.calibration.counts
    assert min(counts) < LIMIT and counts.sum() == 43  # the case on real data
    sizes = [_size_from_interval(*b) for b in drawn_bins(make_figure("calibration", [binary], summary=SUMMARY))]
    assert all(int(c) in s for c, s in zip(counts, sizes))  # the owner's figure gives each size back


def test_the_collaborators_calibration_figure_gives_no_bin_below_five(binary):
    figure = make_figure("calibration", [binary], summary=SUMMARY, safe=True)
    svg = figure.savefig(buffer := io.BytesIO(), format="svg") or buffer.getvalue().decode()
    assert svg.startswith("<?xml")
    found = [n for b in drawn_bins(figure) for n in _size_from_interval(*b)]
    assert found and all(n >= LIMIT for n in found), found
    merged = reader_evaluation(binary, limit=LIMIT).main.calibration
    assert int(merged.counts.sum()) == 43 and merged.counts.min() >= LIMIT  # every patient still on the curve
    events = merged.observed * merged.counts
    assert np.allclose(events, np.round(events)) and int(np.round(events).sum()) == binary.main.metrics.n_positive
    hist = merged.histogram_events, merged.histogram_non_events
    assert not any(((h > 0) & (h < LIMIT)).any() for h in hist)


def test_the_calculator_gives_a_collaborator_no_bin_below_five(records):  # noqa: F811
    frame = records.sample(n=43, random_state=11).reset_index(drop=True)
    score = ((frame["serum_creatinine"].rank(pct=True) + (-frame["ejection_fraction"]).rank(pct=True)) / 2) * 0.9 + 0.05
    y, p = frame["DEATH_EVENT"].to_numpy(), score.to_numpy()
    owner, _ = calibration_bins(y, p, 0.5)
    assert min(b.count for b in owner) < LIMIT  # what the calculator gave everyone before
    bins, where = calibration_bins(y, p, 0.5, limit=LIMIT)
    assert sum(b.count for b in bins) == 43 and all(b.count >= LIMIT for b in bins)
    for b in bins:  # the rate and interval of the sentence and the hover text give no size below five
        assert all(n >= LIMIT for n in _size_from_interval(b.observed, b.observed_lower, b.observed_upper))
    assert where == int(np.argmin([abs(b.predicted - 0.5) for b in bins]))


def readable_sizes(evaluation) -> dict[str, int]:
    """Each class's patients as a reader works them out: a drawn class from its PR curve's no-skill line,
    a single class not drawn as the printed patients minus the drawn ones."""
    part = evaluation.main
    curves = part.multiclass_curves
    sizes = {c: round(pr.prevalence * part.n) for c, pr in zip(curves.classes, curves.pr)}
    missing = [c for c in (*curves.classes, *curves.suppressed) if c not in sizes]
    if len(missing) == 1:
        sizes[missing[0]] = part.n - sum(sizes.values())
    return sizes


def test_the_held_out_part_has_a_class_of_one(multiclass):  # noqa: F811
    sizes = {c.label: c.n for c in multiclass.main.metrics.per_class}
    assert sizes["4"] == 1 and multiclass.main.n == 80  # the case on real data
    assert readable_sizes(multiclass)["4"] == 1  # the full curves give it back


def test_a_collaborator_gets_no_curve_of_a_small_class_and_cannot_subtract_one(multiclass):  # noqa: F811
    seen = reader_evaluation(multiclass, limit=LIMIT)
    curves = seen.main.multiclass_curves
    assert "4" not in curves.classes and "4" in curves.suppressed
    assert len(curves.suppressed) >= 2  # a second class, else the printed patients minus the others give it
    assert all(n >= LIMIT for n in readable_sizes(seen).values()), readable_sizes(seen)
    assert len(curves.roc) == len(curves.pr) == len(curves.classes)
    assert not len(curves.macro_roc.grid)  # the drawn classes' macro, without a band (test_curve_disclosure_macro)
    assert reader_evaluation(seen, limit=LIMIT) == seen  # applying the rule twice changes nothing


@pytest.mark.parametrize("lang, note", [("en", "Not drawn (small-count rule)"), ("ko", "소수 인원 규칙")])
def test_the_exported_curves_leave_the_small_class_out_and_say_so(multiclass, lang, note):  # noqa: F811
    for name in ("roc", "pr"):
        figure = make_figure(name, [multiclass], summary=MULTICLASS, safe=True, lang=lang)
        labels = [line.get_label() for line in figure.axes[0].lines]
        assert not any(label.startswith("num = 4") for label in labels), labels
        texts = " ".join(t.get_text() for t in figure.axes[0].texts)
        assert note in texts and "4" in texts
        owner = make_figure(name, [multiclass], summary=MULTICLASS, lang=lang)
        assert any(line.get_label().startswith("num = 4") for line in owner.axes[0].lines)
