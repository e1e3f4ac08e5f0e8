"""The figures of a paper: which exist, which this audience may have, and drawing one.

Free of the database and of permissions: the services decide who gets what and whether the
collaborator-safe variant is asked for (``safe``); figures that show individual patients (SHAP
summary and dependence, a single patient's waterfall) are refused here as well, so no caller can
draw one for a collaborator by mistake. A multiclass run gets one-vs-rest ROC and PR curves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from pipelines import figures as fg
from pipelines.errors import InputError
from pipelines.evaluation import BinaryMetrics, Contributions, ranked_features, strongest_interaction
from workbench.i18n import t
from workbench.services._curve_disclosure import reader_evaluation
from workbench.services._evaluate import ModelEvaluation
from workbench.services._paper_tables import SMALL_COUNT
from pipelines.figures.multiclass import multiclass_confusion_figure
from workbench.services._measure_disclosure import (
    confusion_cells,
    confusion_note,
    multiclass_confusion_cells,
    multiclass_confusion_note,
)
from workbench.services._table_disclosure import COMPLEMENT_LABEL, forest_counts

__all__ = ["FIGURES", "PATIENT_LEVEL_FIGURES", "PACK_DEPENDENCE_FEATURES", "FigureDetail", "make_figure",
           "available_figures", "figure_stem"]

#: Every figure the workbench exports, in the order of a results section.
FIGURES = ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "threshold", "importance",
           "shap_summary", "shap_dependence", "waterfall", "forest", "cohort_flow")
#: Figures that show individual patients: never in a collaborator's view or pack.
PATIENT_LEVEL_FIGURES = frozenset({"shap_summary", "shap_dependence", "waterfall"})
#: The paper pack holds a dependence plot for this many of the most important features.
PACK_DEPENDENCE_FEATURES = 3
_CURVES = ("roc", "pr")  # drawn for binary and (one-vs-rest) multiclass outcomes
_UNSAFE = re.compile(r"[^\w.-]+")  # in a file name; \w keeps Hangul feature names readable


@dataclass(frozen=True)
class FigureDetail:
    """What a per-feature or per-patient figure shows. Dependence: ``feature`` (default the most
    important) coloured by ``colour_by`` (default the feature it interacts with most). Waterfall:
    ``patient``, the position (from 0) of a patient in the evaluated part, normally the holdout;
    it names no one, and the figure is labelled by that position only."""

    feature: str | None = None
    colour_by: str | None = None
    patient: int | None = None


def figure_stem(name: str, detail: FigureDetail | None) -> str:
    """The file name part of a figure: ``shap_dependence_age``, ``waterfall_patient12``, ``roc``."""
    detail = detail or FigureDetail()
    if name == "shap_dependence" and detail.feature:
        return f"{name}_{_UNSAFE.sub('_', detail.feature).strip('_')[:40]}"
    if name == "waterfall" and detail.patient is not None:
        return f"{name}_patient{detail.patient + 1}"
    return name


def _binary(evaluations: Sequence[ModelEvaluation], figure: str) -> None:
    if not evaluations or evaluations[0].task != "binary":
        raise InputError("export.figure_needs_binary", figure=figure)


def _flow_steps(summary: Mapping[str, Any], lang: str) -> list[fg.FlowStep]:
    """One box per recipe step that removed patients (with why), starting from the source table."""
    flow = list(summary.get("cohort_flow") or [])
    n0 = int(summary.get("rows_in") or (flow[0]["rows_in"] if flow else summary.get("n_train", 0) + summary.get("n_test", 0)))
    steps: list[fg.FlowStep] = []
    for item in flow:
        removed = int(item["rows_in"]) - int(item["rows_out"])
        if removed <= 0:
            continue
        label = t("export.flow.source", lang) if not steps else t("export.flow.after", lang, step=item["step"])
        reason = item.get("reason") or t("export.flow.step", lang, step=item["step"], kind=item["kind"])
        steps.append(fg.FlowStep(label, int(item["rows_in"]), removed, reason))
    return steps or [fg.FlowStep(t("export.flow.source", lang), n0)]


def _patient_figure(name: str, first: ModelEvaluation, contributions: Contributions | None, detail: FigureDetail,
                    summary: Mapping[str, Any], style: fg.FigureStyle, lang: str) -> Figure:
    if contributions is None:
        raise InputError("export.no_contributions", model=first.label)
    if name == "shap_summary":
        return fg.shap_summary_figure(contributions, style=style)
    if name == "shap_dependence":
        feature = detail.feature or ranked_features(contributions)[0]
        if feature not in contributions.features:
            raise InputError("export.unknown_feature", feature=feature, allowed=", ".join(contributions.features[:20]))
        colour_by = detail.colour_by or strongest_interaction(contributions, feature)
        if colour_by is not None and colour_by not in contributions.features:
            raise InputError("export.unknown_feature", feature=colour_by, allowed=", ".join(contributions.features[:20]))
        return fg.shap_dependence_figure(contributions, feature, colour_by=colour_by, style=style)
    n = contributions.values.shape[0]
    if detail.patient is None:
        raise InputError("export.choose_patient", n=n)
    if not 0 <= detail.patient < n:
        raise InputError("export.bad_patient", number=detail.patient + 1, n=n)
    raw = contributions.base_value + float(contributions.values[detail.patient].sum())
    if summary.get("task") == "binary":  # tree and linear contributions of a classifier are log-odds
        prediction = t("export.waterfall.risk", lang, risk=f"{100 / (1 + math.exp(-raw)):.0f}%")
    else:
        prediction = t("export.waterfall.value", lang, value=f"{raw:.3g}")
    who = t("export.waterfall.title", lang, number=detail.patient + 1, n=n, part=t(f"export.part.{first.main.part}", lang))
    title = f"{who}\n{prediction}"  # two lines: one would not fit a single column
    return fg.waterfall_figure(contributions, detail.patient, style=style, title=title)


def make_figure(name: str, evaluations: Sequence[ModelEvaluation], *, summary: Mapping[str, Any], preset: str = "single",
                lang: str = "en", safe: bool = False, contributions: Contributions | None = None,
                detail: FigureDetail | None = None) -> Figure:
    """One publication figure; ``evaluations[0]`` is the model a single-model figure shows."""
    if name not in FIGURES:
        raise InputError("export.unknown_figure", figure=name, allowed=", ".join(FIGURES))
    if safe and name in PATIENT_LEVEL_FIGURES:
        raise InputError("export.patient_level_figure", figure=name)
    style = fg.figure_style(preset, lang)
    if not evaluations:
        raise InputError("export.no_models")
    if safe:  # calibration bins of 1-4 merged (and the histogram's small spikes), small classes' curves left out
        evaluations = [reader_evaluation(e, limit=SMALL_COUNT) for e in evaluations]
    first = evaluations[0]
    if name == "cohort_flow":
        n_analysed = int(summary.get("n_train", 0)) + int(summary.get("n_test", 0))
        return fg.cohort_flow_figure(_flow_steps(summary, lang), style=style,
                                     final_label=t("export.flow.analysed", lang, n_train=summary.get("n_train", 0),
                                                   n_test=summary.get("n_test", 0)) if n_analysed else None,
                                     suppress_below=SMALL_COUNT if safe else 0)
    if name == "importance":
        if first.importance is None:
            raise InputError("export.no_importance")
        return fg.importance_figure(first.importance, style=style)
    if name in PATIENT_LEVEL_FIGURES:
        return _patient_figure(name, first, contributions, detail or FigureDetail(), summary, style, lang)
    if name in _CURVES and first.task == "multiclass":
        missing = next((e for e in evaluations if e.main.multiclass_curves is None), None)
        if missing is not None:
            raise InputError("export.no_multiclass_curves", model=missing.label)
        # one model: every class in one plot; several: a panel per class with every model in it
        draw = fg.multiclass_roc_figure if name == "roc" else fg.multiclass_pr_figure
        return draw([e.main.multiclass_curves for e in evaluations], style=style,
                    outcome=str(summary.get("target") or "") or None)
    if name == "confusion_matrix" and first.task == "multiclass":
        return _multiclass_confusion(first, style=style, outcome=str(summary.get("target") or "") or None, safe=safe,
                                     lang=lang)
    _binary(evaluations, name)
    if name == "roc":
        return fg.roc_figure([e.main.roc for e in evaluations], style=style)
    if name == "pr":
        return fg.pr_figure([e.main.pr for e in evaluations], style=style)
    if name == "calibration":
        return fg.calibration_figure([e.main.calibration for e in evaluations[:3]], style=style)
    if name == "decision_curve":
        return fg.decision_curve_figure([e.main.decision for e in evaluations], style=style)
    if name == "confusion_matrix":
        metrics: BinaryMetrics = first.main.metrics
        cells = confusion_cells(first, limit=SMALL_COUNT) if safe else None  # small cells and what gives them away
        note = confusion_note(lang, SMALL_COUNT) if cells is not None and _hides(cells) else ""
        return fg.confusion_matrix_figure(metrics.confusion, style=style, threshold=metrics.threshold.value,
                                          suppress_below=SMALL_COUNT if safe else 0, cells=cells, note=note)
    if name == "threshold":
        return fg.threshold_figure(first.main.thresholds, style=style, chosen=first.main.metrics.threshold.value)
    if first.subgroups is None:
        raise InputError("export.no_subgroups")
    counts, note = forest_counts(first, limit=SMALL_COUNT if safe else 0, lang=lang)  # small counts and their complements
    return fg.forest_figure(first.subgroups, style=style, suppress_below=SMALL_COUNT if safe else 0, counts=counts, note=note)


def _multiclass_confusion(evaluation: ModelEvaluation, *, style: Any, outcome: str | None, safe: bool, lang: str) -> Any:
    metrics = evaluation.main.metrics
    cells = multiclass_confusion_cells(evaluation, limit=SMALL_COUNT) if safe else None  # small cells, complements
    note = multiclass_confusion_note(lang, SMALL_COUNT) if cells is not None and _hides(cells) else ""
    return multiclass_confusion_figure(metrics.confusion, metrics.classes, style=style, outcome=outcome, cells=cells,
                                       note=note)


def _hides(cells: Sequence[Sequence[str]]) -> bool:
    return any(c == COMPLEMENT_LABEL or c.startswith("<") for row in cells for c in row)


def available_figures(evaluations: Sequence[ModelEvaluation], *, safe: bool, has_contributions: bool) -> tuple[str, ...]:
    """The figures that can be drawn for these evaluations (and this audience)."""
    if not evaluations:
        return ()
    first = evaluations[0]
    out = []
    for name in FIGURES:
        if name in PATIENT_LEVEL_FIGURES and (safe or not has_contributions):
            continue
        if name == "confusion_matrix" and first.task == "multiclass":
            out.append(name)
            continue
        if name in _CURVES and first.task == "multiclass" and first.main.multiclass_curves is not None:
            out.append(name)
            continue
        if name in ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "threshold", "forest") \
                and first.task != "binary":
            continue
        if name == "importance" and first.importance is None:
            continue
        if name == "forest" and first.subgroups is None:
            continue
        out.append(name)
    return tuple(out)
