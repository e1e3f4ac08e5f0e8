"""Publication figures drawn with matplotlib from ``pipelines.evaluation`` results.

Every function takes result dataclasses and a :class:`FigureStyle` (column preset, language and
the label catalogue) and returns a ``matplotlib.figure.Figure`` built at its printed size;
:func:`render` / :func:`save_figure` write PDF, SVG, EPS, TIFF or PNG at 300 or 600 dpi.
"""

from __future__ import annotations

from pipelines.figures._style import LANGUAGES, PALETTE, PRESETS, FigureStyle, figure_style, load_labels
from pipelines.figures.explain import importance_figure, shap_dependence_figure, shap_summary_figure
from pipelines.figures.export import DPIS, FORMATS, render, save_figure
from pipelines.figures.flow import FlowStep, cohort_flow_figure
from pipelines.figures.forest import forest_figure
from pipelines.figures.multiclass import multiclass_pr_figure, multiclass_roc_figure
from pipelines.figures.performance import (
    calibration_figure,
    confusion_matrix_figure,
    decision_curve_figure,
    pr_figure,
    roc_figure,
    threshold_figure,
)
from pipelines.figures.waterfall import waterfall_figure

__all__ = [
    "LANGUAGES", "PALETTE", "PRESETS", "FigureStyle", "figure_style", "load_labels",
    "DPIS", "FORMATS", "render", "save_figure",
    "roc_figure", "pr_figure", "calibration_figure", "decision_curve_figure", "confusion_matrix_figure",
    "threshold_figure", "multiclass_roc_figure", "multiclass_pr_figure", "shap_summary_figure", "shap_dependence_figure", "waterfall_figure",
    "importance_figure", "forest_figure", "FlowStep", "cohort_flow_figure",
]
