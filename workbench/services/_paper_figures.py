"""The figures of a paper: which exist, which this audience may have, and drawing one.

Free of the database and of permissions: the services decide who gets what and whether the
collaborator-safe variant is asked for (``safe``); figures that show individual patients are
refused here as well, so no caller can draw one for a collaborator by mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from pipelines import figures as fg
from pipelines.errors import InputError
from pipelines.evaluation import BinaryMetrics, Contributions
from workbench.i18n import t
from workbench.services._evaluate import ModelEvaluation
from workbench.services._paper_tables import SMALL_COUNT

__all__ = ["FIGURES", "PATIENT_LEVEL_FIGURES", "make_figure", "available_figures"]

#: Every figure the workbench exports, in the order of a results section.
FIGURES = ("roc", "pr", "calibration", "decision_curve", "confusion_matrix", "threshold", "importance",
           "shap_summary", "forest", "cohort_flow")
#: Figures that show individual patients: never in a collaborator's view or pack.
PATIENT_LEVEL_FIGURES = frozenset({"shap_summary"})


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


def make_figure(name: str, evaluations: Sequence[ModelEvaluation], *, summary: Mapping[str, Any], preset: str = "single",
                lang: str = "en", safe: bool = False, contributions: Contributions | None = None) -> Figure:
    """One publication figure; ``evaluations[0]`` is the model a single-model figure shows."""
    if name not in FIGURES:
        raise InputError("export.unknown_figure", figure=name, allowed=", ".join(FIGURES))
    if safe and name in PATIENT_LEVEL_FIGURES:
        raise InputError("export.patient_level_figure", figure=name)
    style = fg.figure_style(preset, lang)
    if not evaluations:
        raise InputError("export.no_models")
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
    if name == "shap_summary":
        if contributions is None:
            raise InputError("export.no_contributions", model=first.label)
        return fg.shap_summary_figure(contributions, style=style)
    _binary(evaluations, name)
    if name == "roc":
        return fg.roc_figure([e.main.roc for e in evaluations], style=style)
    if name == "pr":
        return fg.pr_figure([e.main.pr for e in evaluations], style=style)
    if name == "calibration":
        curves = [e.main.calibration for e in evaluations[:3]]
        if safe:  # the spike histogram counts patients per bin: small bins are suppressed
            curves = [_suppress_histogram(c) for c in curves]
        return fg.calibration_figure(curves, style=style)
    if name == "decision_curve":
        return fg.decision_curve_figure([e.main.decision for e in evaluations], style=style)
    if name == "confusion_matrix":
        metrics: BinaryMetrics = first.main.metrics
        return fg.confusion_matrix_figure(metrics.confusion, style=style, threshold=metrics.threshold.value,
                                          suppress_below=SMALL_COUNT if safe else 0)
    if name == "threshold":
        return fg.threshold_figure(first.main.thresholds, style=style, chosen=first.main.metrics.threshold.value)
    if first.subgroups is None:
        raise InputError("export.no_subgroups")
    return fg.forest_figure(first.subgroups, style=style, suppress_below=SMALL_COUNT if safe else 0)


def _suppress_histogram(curve: Any) -> Any:
    import dataclasses

    import numpy as np

    def clean(counts: Any) -> Any:
        counts = np.asarray(counts).copy()
        counts[(counts > 0) & (counts < SMALL_COUNT)] = 0
        return counts

    return dataclasses.replace(curve, histogram_events=clean(curve.histogram_events),
                               histogram_non_events=clean(curve.histogram_non_events))


def available_figures(evaluations: Sequence[ModelEvaluation], *, safe: bool, has_contributions: bool) -> tuple[str, ...]:
    """The figures that can be drawn for these evaluations (and this audience)."""
    if not evaluations:
        return ()
    first = evaluations[0]
    out = []
    for name in FIGURES:
        if name in PATIENT_LEVEL_FIGURES and (safe or not has_contributions):
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
