"""Every figure renders to every format without a single warning, and each file is valid.

Warnings are errors here: a missing glyph, a layout that does not fit or a deprecated call all
show up as warnings in matplotlib, and each of those means a figure a journal would send back.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import pypdf
import xgboost
from defusedxml import ElementTree
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.errors import EvaluationError
from pipelines.evaluation import (
    age_bands,
    binary_metrics,
    calibration_curve,
    decision_curve,
    feature_contributions,
    in_input_units,
    multiclass_curves,
    permutation_importance,
    pr_curve,
    roc_curve,
    subgroup_performance,
    threshold_curve,
)
from pipelines.figures import (
    DPIS,
    FORMATS,
    FlowStep,
    calibration_figure,
    cohort_flow_figure,
    confusion_matrix_figure,
    decision_curve_figure,
    figure_style,
    forest_figure,
    importance_figure,
    multiclass_pr_figure,
    multiclass_roc_figure,
    pr_figure,
    render,
    roc_figure,
    save_figure,
    shap_dependence_figure,
    shap_summary_figure,
    threshold_figure,
    waterfall_figure,
)

B = 40  # resamples: enough to draw bands, cheap enough for a test


@pytest.fixture(scope="module")
def cleveland_curves(datasets_dir):
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    y = frame["num"].to_numpy()
    prob = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), frame.drop(columns="num"),
                             y, cv=StratifiedKFold(3, shuffle=True, random_state=0), method="predict_proba")
    return multiclass_curves(y, prob, classes=[0, 1, 2, 3, 4], n_resamples=B)


@pytest.fixture(scope="module")
def cleveland_models(datasets_dir, cleveland_curves):
    """Two models' one-vs-rest curves on the same patients (logistic regression, a random forest)."""
    import dataclasses

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    frame = pd.read_csv(datasets_dir / "heart_cleveland.csv").dropna()
    y = frame["num"].to_numpy()
    prob = cross_val_predict(RandomForestClassifier(n_estimators=60, min_samples_leaf=3, random_state=0, n_jobs=1),
                             frame.drop(columns="num"), y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                             method="predict_proba")
    forest = multiclass_curves(y, prob, classes=[0, 1, 2, 3, 4], label="Random forest", n_resamples=B)
    return [dataclasses.replace(cleveland_curves, label="Logistic regression"), forest]


@pytest.fixture(scope="module")
def builders(hf, heart_failure, cleveland_curves, cleveland_models) -> dict[str, Callable]:
    y = hf.y
    names = ("Logistic regression", "Gradient boosting")
    preds = (hf.p_lr, hf.p_hgb)
    rocs = [roc_curve(y, p, label=n, n_resamples=B) for n, p in zip(names, preds)]
    prs = [pr_curve(y, p, label=n, n_resamples=B) for n, p in zip(names, preds)]
    cals = [calibration_curve(y, p, label=n, n_resamples=B) for n, p in zip(names, preds)]
    dcas = [decision_curve(y, p, label=n) for n, p in zip(names, preds)]
    metrics = binary_metrics(y, hf.p_lr, n_resamples=B)
    thresholds = threshold_curve(y, hf.p_lr)
    booster = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0).fit(hf.X, y)
    contrib = feature_contributions(booster, hf.X)
    scaled = make_pipeline(StandardScaler(), xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0))
    in_units = in_input_units(feature_contributions(scaled.fit(hf.X, y), hf.X), hf.X)
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(hf.X, y)
    importance = permutation_importance(linear, hf.X, y, n_repeats=3)
    groups = pd.DataFrame({"Sex": np.where(heart_failure["sex"] == 1, "Male", "Female"),
                           "Age": age_bands(heart_failure["age"])})
    subgroups = subgroup_performance(y, hf.p_lr, groups, threshold=metrics.threshold.value, n_resamples=B)
    flow = [FlowStep("Patients admitted with heart failure", 350, 51, "Missing follow-up"), FlowStep("Analysed", 299)]
    return {
        "roc": lambda st: roc_figure(rocs, style=st),
        "pr": lambda st: pr_figure(prs, style=st),
        "calibration": lambda st: calibration_figure(cals, style=st),
        "decision_curve": lambda st: decision_curve_figure(dcas, style=st),
        "confusion": lambda st: confusion_matrix_figure(metrics.confusion, style=st, threshold=metrics.threshold.value),
        "threshold": lambda st: threshold_figure(thresholds, style=st, chosen=metrics.threshold.value),
        "shap_summary": lambda st: shap_summary_figure(contrib, style=st),
        "shap_dependence": lambda st: shap_dependence_figure(contrib, "ejection_fraction", style=st),
        "shap_dependence_coloured": lambda st: shap_dependence_figure(in_units, "sex", colour_by="serum_creatinine",
                                                                      style=st),
        "waterfall": lambda st: waterfall_figure(in_units, 0, style=st, title=st.text("figures.multiclass.macro")),
        "multiclass_roc": lambda st: multiclass_roc_figure(cleveland_curves, style=st, outcome="num"),
        "multiclass_pr": lambda st: multiclass_pr_figure(cleveland_curves, style=st, outcome="num"),
        "multiclass_roc_models": lambda st: multiclass_roc_figure(cleveland_models, style=st, outcome="num"),
        "multiclass_pr_models": lambda st: multiclass_pr_figure(cleveland_models, style=st, outcome="num"),
        "importance_permutation": lambda st: importance_figure(importance, style=st),
        "importance_shap": lambda st: importance_figure(contrib, style=st),
        "forest": lambda st: forest_figure(subgroups, style=st),
        "cohort_flow": lambda st: cohort_flow_figure(flow, style=st),
    }


FIGURES = ("roc", "pr", "calibration", "decision_curve", "confusion", "threshold", "shap_summary", "shap_dependence",
           "shap_dependence_coloured", "waterfall", "multiclass_roc", "multiclass_pr", "multiclass_roc_models", "multiclass_pr_models", "importance_permutation", "importance_shap", "forest", "cohort_flow")


def _pdf_fonts_embedded(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    names = []
    fonts = reader.pages[0]["/Resources"].get("/Font", {})
    for ref in fonts.values():
        font = ref.get_object()
        described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = described.get("/FontDescriptor")
        if descriptor is None:  # Type 3 glyph procedures live in the file itself
            assert font["/Subtype"] == "/Type3"
            names.append(str(font.get("/BaseFont", "Type3")))
            continue
        descriptor = descriptor.get_object()
        assert any(k in descriptor for k in ("/FontFile2", "/FontFile3", "/FontFile")), font["/BaseFont"]
        names.append(str(font["/BaseFont"]))
    return names


def check_file(data: bytes, fmt: str, dpi: int, width_mm: float) -> None:
    width_in = width_mm / 25.4
    if fmt == "pdf":
        assert data.startswith(b"%PDF-")
        assert _pdf_fonts_embedded(data)
        box = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
        assert float(box.width) == pytest.approx(width_in * 72, abs=0.5)
    elif fmt == "svg":
        root = ElementTree.fromstring(data)
        assert root.tag.endswith("svg")
        assert float(root.attrib["width"].removesuffix("pt")) == pytest.approx(width_in * 72, abs=0.5)
        assert b"<text" not in data  # text as outlines: looks the same without the font
    elif fmt == "eps":
        assert data.startswith(b"%!PS-Adobe-3.0 EPSF-3.0")
        assert re.search(rb"%%BoundingBox: 0 0 \d+ \d+", data)
    else:
        image = Image.open(io.BytesIO(data))
        assert image.format == ("TIFF" if fmt == "tiff" else "PNG")
        assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.01)
        assert abs(image.width - width_in * dpi) <= 1
        if fmt == "tiff":
            assert image.info.get("compression") == "tiff_lzw"


@pytest.mark.slow
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_renders_to_every_format(builders, name):
    style = figure_style("single", "en")
    figure = builders[name](style)
    assert figure.get_size_inches()[0] * 25.4 == pytest.approx(89.0)
    for fmt in FORMATS:
        check_file(render(figure, fmt=fmt, dpi=300), fmt, 300, 89.0)
    for fmt in ("tiff", "png"):
        check_file(render(figure, fmt=fmt, dpi=600), fmt, 600, 89.0)


@pytest.mark.slow
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_in_korean_double_column(builders, name):
    style = figure_style("double", "ko")
    figure = builders[name](style)
    for fmt in ("pdf", "eps", "png"):
        data = render(figure, fmt=fmt, dpi=300)
        check_file(data, fmt, 300, 183.0)
        if fmt == "pdf":
            fonts = _pdf_fonts_embedded(data)
            if not name.startswith("shap_dependence"):  # its labels are feature names and numbers only
                assert any("NanumGothic" in f for f in fonts), fonts


@pytest.mark.filterwarnings("error")
def test_roc_pdf_and_png_quick(builders, tmp_path):
    figure = builders["roc"](figure_style())
    path = save_figure(figure, tmp_path / "roc.pdf")
    check_file(path.read_bytes(), "pdf", 300, 89.0)
    path = save_figure(figure, tmp_path / "roc.tif", dpi=600)
    check_file(path.read_bytes(), "tiff", 600, 89.0)


@pytest.mark.parametrize("name", ["shap_summary", "shap_dependence", "waterfall"])
def test_patient_level_figures_refuse_collaborators(hf, name):
    booster = xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(hf.X, hf.y)
    contrib = feature_contributions(booster, hf.X)
    draw = {
        "shap_summary": lambda: shap_summary_figure(contrib, collaborator_safe=True),
        "shap_dependence": lambda: shap_dependence_figure(contrib, "age", collaborator_safe=True),
        "waterfall": lambda: waterfall_figure(contrib, 0, collaborator_safe=True),
    }[name]
    with pytest.raises(EvaluationError) as err:
        draw()
    assert err.value.key == "figures.patient_level_not_shared"
    importance_figure(contrib)  # the aggregate (mean |SHAP|) stays shareable


def test_bad_format_dpi_preset_language_feature_and_patient(builders, hf):
    figure = builders["roc"](figure_style())
    for kwargs, key in (({"fmt": "jpg"}, "figures.bad_format"), ({"fmt": "png", "dpi": 150}, "figures.bad_dpi")):
        with pytest.raises(EvaluationError) as err:
            render(figure, **kwargs)
        assert err.value.key == key
    with pytest.raises(EvaluationError) as err:
        figure_style("triple")
    assert err.value.key == "figures.bad_preset"
    with pytest.raises(EvaluationError) as err:
        figure_style("single", "fr")
    assert err.value.key == "figures.unknown_language"
    contrib = feature_contributions(make_pipeline(StandardScaler(), LogisticRegression()).fit(hf.X, hf.y), hf.X)
    with pytest.raises(EvaluationError) as err:
        shap_dependence_figure(contrib, "height")
    assert err.value.key == "figures.unknown_feature"
    with pytest.raises(EvaluationError) as err:
        waterfall_figure(contrib, 299)
    assert err.value.key == "figures.bad_patient_index" and err.value.params["last"] == 298
    with pytest.raises(EvaluationError) as err:
        roc_figure([])
    assert err.value.key == "figures.nothing_to_draw"


def test_labels_come_from_the_catalogue_or_the_caller(builders):
    english = builders["roc"](figure_style("single", "en")).axes[0]
    assert english.get_xlabel() == "1 \u2212 Specificity"
    korean = builders["roc"](figure_style("single", "ko")).axes[0]
    assert korean.get_ylabel() == "민감도"
    custom = builders["roc"](figure_style("single", "en", {"figures.roc.x": "False-positive rate"})).axes[0]
    assert custom.get_xlabel() == "False-positive rate"


def test_dpis_and_formats_offered():
    assert DPIS == (300, 600)
    assert set(FORMATS) == {"pdf", "svg", "eps", "tiff", "png"}


def test_multiclass_figures_show_every_class_and_the_macro_average(builders, cleveland_curves):
    for name, metric in (("multiclass_roc", "auroc"), ("multiclass_pr", "auprc")):
        figure = builders[name](figure_style("single", "en"))
        labels = [t.get_text() for t in figure.legends[0].get_texts()] if figure.legends else \
            [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
        assert [label.split("  ")[0] for label in labels] == [f"num = {c}" for c in range(5)] + ["Macro average"]
        macro = getattr(cleveland_curves.macro_roc if metric == "auroc" else cleveland_curves.macro_pr, metric)
        assert labels[-1].endswith(f"{macro.value:.2f} ({macro.lower:.2f}\u2013{macro.upper:.2f})")


def test_dependence_colour_bar_names_the_interacting_feature(builders):
    figure = builders["shap_dependence_coloured"](figure_style("single", "en"))
    plot, bar = figure.axes
    assert plot.get_xlabel() == "sex" and bar.get_ylabel() == "serum_creatinine"
    # serum creatinine in mg/dL as the table holds it (0.5-9.4), not the learner's z-scores
    low, high = bar.get_ylim()
    assert 0.5 <= low < 1.2 and 2.0 < high <= 9.4


@pytest.mark.parametrize("preset", ["single", "double"])
def test_several_multiclass_models_get_a_panel_per_class_with_every_model(builders, cleveland_models, preset):
    for name in ("multiclass_roc_models", "multiclass_pr_models"):
        figure = builders[name](figure_style(preset, "en"))
        panels = [ax for ax in figure.axes if ax.get_visible()]
        assert [ax.get_title(loc="left") for ax in panels] == [f"num = {c}" for c in range(5)] + ["Macro average"]
        for ax in panels:  # one curve per model in every panel, its area and CI in the panel's legend
            drawn = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
            assert [line.get_color() for line in drawn] == ["#0072B2", "#D55E00"], (name, ax.get_title(loc="left"))
            assert len(ax.get_legend().get_texts()) == 2
        macro = panels[-1].get_legend().get_texts()[1].get_text()
        metric = "auroc" if "roc" in name else "auprc"
        assert macro.startswith(f"{getattr(cleveland_models[1].macro_roc if metric == 'auroc' else cleveland_models[1].macro_pr, metric).value:.2f}")
        assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Logistic regression", "Random forest"]
