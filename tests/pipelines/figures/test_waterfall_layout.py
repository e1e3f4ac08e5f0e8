"""The waterfall stays readable with the long feature names hospital exports have: no two texts
overlap (names, values, contributions, the reference labels, title, axis) and every text stays on
the page, in both column widths and both languages; a name is wrapped or cut, its value never."""

from __future__ import annotations

import itertools

import matplotlib as mpl
import pandas as pd
import pytest
import xgboost
from matplotlib.backends.backend_agg import FigureCanvasAgg
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.evaluation import feature_contributions, in_input_units
from pipelines.figures import figure_style, waterfall_figure
from pipelines.figures.export import RC_ATTRIBUTE
from pipelines.figures.waterfall import fit_label

# the heart failure columns as a registry export might name them (one Korean, one without a break)
LONG_NAMES = {
    "ejection_fraction": "left_ventricular_ejection_fraction_percent_echo",
    "serum_creatinine": "serum_creatinine_first_measurement_mg_per_dL",
    "creatinine_phosphokinase": "creatinine_phosphokinase_at_admission_mcg_per_L",
    "high_blood_pressure": "hypertension_history_documented_by_physician_at_the_first_outpatient_visit",
    "platelets": "혈소판_수치_입원_당시_첫_번째_측정값",
    "age": "AgeAtAdmissionInYearsCompletedAccordingToTheRegistryDefinition",
}


@pytest.fixture(scope="module")
def long_named(datasets_dir):
    frame = pd.read_csv(datasets_dir / "heart_failure_clinical_records.csv")
    y = frame.pop("DEATH_EVENT")
    frame = frame.drop(columns="time").rename(columns=LONG_NAMES)
    model = make_pipeline(StandardScaler(), xgboost.XGBClassifier(n_estimators=40, max_depth=3, n_jobs=1,
                                                                  random_state=0)).fit(frame, y)
    return in_input_units(feature_contributions(model, frame), frame)


def _texts(figure):
    ax = figure.axes[0]
    low, high = ax.get_xlim()  # the locator's ticks beyond the limits are not drawn
    ticks = [label for tick, label in zip(ax.get_xticks(), ax.get_xticklabels()) if low <= tick <= high]
    texts = [*ax.get_yticklabels(), *ticks, *ax.texts, ax.xaxis.label]
    if figure._suptitle is not None:
        texts.append(figure._suptitle)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


@pytest.mark.filterwarnings("error")  # a missing glyph (a Korean name in an English figure) is a defect
@pytest.mark.parametrize(("preset", "lang"), [("single", "en"), ("single", "ko"), ("double", "en")])
@pytest.mark.parametrize("patient", [3, 20, 150])  # high risk, low risk, near the average
def test_no_two_texts_overlap_and_all_stay_on_the_page(long_named, preset, lang, patient):
    figure = waterfall_figure(long_named, patient, style=figure_style(preset, lang),
                              title="Patient 4 of 299 in the held-out test set\nPredicted risk 62%")
    with mpl.rc_context(getattr(figure, RC_ATTRIBUTE)):  # drawn as the export draws it
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
    page = figure.bbox
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(figure)]
    assert len(boxes) > 20
    for text, box in boxes:
        assert page.x0 - 0.5 <= box.x0 and box.x1 <= page.x1 + 0.5 and page.y0 - 0.5 <= box.y0 \
            and box.y1 <= page.y1 + 0.5, f"{text!r} leaves the page"
    overlapping = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]
    assert overlapping == []
    names = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    shown = [n for n in names if "=" in n]
    assert shown and all(n.count("\n") <= 1 for n in names)
    # every value is printed whole after its (possibly shortened) name
    values = {n.rsplit("= ", 1)[1] for n in shown}
    assert all(v.replace("\u2212", "-").lstrip("-").replace(".", "", 1).isdigit() for v in values), values


def test_labels_wrap_at_a_break_then_cut_the_name_never_the_value():
    assert fit_label("age", "65", 30) == "age = 65"
    wrapped = fit_label("serum_creatinine_first_measurement_mg_per_dL", "1.9", 30)
    assert wrapped == "serum_creatinine_first_\nmeasurement_mg_per_dL = 1.9"
    cut = fit_label("hypertension_history_documented_by_physician_at_the_first_outpatient_visit", "1", 30)
    first, second = cut.split("\n")
    assert first == "hypertension_history_" and second.endswith("\u2026 = 1") and len(second) <= 30
    korean = fit_label("혈소판_수치_입원_당시_첫_번째_측정값_추가_설명", "276000", 30)
    assert korean.endswith(" = 276000") and all(sum(2 if ord(c) > 0x1100 else 1 for c in line) <= 30
                                                  for line in korean.split("\n"))
    unbroken = fit_label("AgeAtAdmissionInYearsCompletedAccordingToTheRegistryDefinition", "65", 30)
    assert unbroken.endswith("\u2026 = 65") and unbroken.count("\n") == 1
