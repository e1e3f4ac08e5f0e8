"""Model performance figures: ROC, precision-recall, calibration, decision curve, confusion
matrix and threshold-performance curves, drawn from ``pipelines.evaluation`` results (the
multiclass one-vs-rest curves are in ``multiclass``)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from pipelines.evaluation import (
    CalibrationCurve,
    ConfusionMatrix,
    DecisionCurve,
    Estimate,
    PrCurve,
    RocCurve,
    ThresholdCurve,
)
from pipelines.evaluation._estimate import interval_separator
from pipelines.figures._base import fmt_num, new_figure, require_items, tidy_axes, tint
from pipelines.figures._style import GREY, PALETTE, FigureStyle, figure_style

__all__ = [
    "roc_figure",
    "pr_figure",
    "calibration_figure",
    "decision_curve_figure",
    "confusion_matrix_figure",
    "threshold_figure",
]


def _ci_text(est: Estimate, digits: int = 2, lang: str = "en") -> str:
    """``0.76 (0.71\u20130.82)``; with a negative bound ``0.00 (\u22120.13 to 0.13)`` (Korean
    ``\u22120.13 ~ 0.13``), as a dash would read as minus."""
    if not (np.isfinite(est.lower) and np.isfinite(est.upper)):
        return fmt_num(est.value, digits)
    sep = interval_separator(min(est.lower, est.value), lang)
    return f"{fmt_num(est.value, digits)} ({fmt_num(est.lower, digits)}{sep}{fmt_num(est.upper, digits)})"


def _unit_axes(ax, *, ticks: float = 0.2) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.xaxis.set_major_locator(MultipleLocator(ticks))
    ax.yaxis.set_major_locator(MultipleLocator(ticks))
    ax.spines["left"].set_bounds(0, 1)
    ax.spines["bottom"].set_bounds(0, 1)
    tidy_axes(ax, square=True)


def _legend(ax, style: FigureStyle, *, title: str | None = None, loc: str) -> None:
    """Inside the plot in a single column; beside it, vertically centred, in a double column."""
    if style.preset == "double":
        legend = ax.legend(title=title, loc="center left", bbox_to_anchor=(1.03, 0.5), alignment="left")
    else:
        legend = ax.legend(title=title, loc=loc, alignment="left")
    if title:
        legend.get_title().set_fontweight(style.bold)


def _band(ax, x, lower, upper, color: str) -> None:
    """An opaque confidence band with a thin darker edge, so overlapping bands stay readable."""
    ax.fill_between(x, lower, upper, color=tint(color, 0.16), lw=0, zorder=1)
    for edge in (lower, upper):
        ax.plot(x, edge, color=tint(color, 0.45), lw=0.4, zorder=1.5)


def roc_figure(curves: Sequence[RocCurve], *, style: FigureStyle | None = None, band: bool = True) -> Figure:
    """Overlaid ROC curves with pointwise bootstrap bands; AUROC (95% CI) in the legend."""
    style = style or figure_style()
    require_items(curves, "ROC")
    with style.context():
        fig = new_figure(style, style.plot_aspect(1.0))
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls=(0, (3, 2)), lw=0.6, color=GREY, label="_nolegend_", zorder=2)
        for i, c in enumerate(curves):
            color = PALETTE[i % len(PALETTE)]
            if band:
                _band(ax, c.grid, c.tpr_lower, c.tpr_upper, color)
            ax.plot(c.fpr, c.tpr, color=color, drawstyle="steps-post", zorder=3, label=f"{c.label}  {_ci_text(c.auroc)}".strip())
        ax.set_xlabel(style.text("figures.roc.x"))
        ax.set_ylabel(style.text("figures.roc.y"))
        _unit_axes(ax)
        _legend(ax, style, title=f"{style.metric('auroc')} (95% CI)", loc="lower right")
    return fig


def pr_figure(curves: Sequence[PrCurve], *, style: FigureStyle | None = None, band: bool = True) -> Figure:
    """Interpolated precision-recall curves with bands; the dashed line is the prevalence (no skill)."""
    style = style or figure_style()
    require_items(curves, "PR")
    with style.context():
        fig = new_figure(style, style.plot_aspect(1.0))
        ax = fig.add_subplot()
        prevalence = curves[0].prevalence
        ax.axhline(prevalence, ls=(0, (3, 2)), lw=0.6, color=GREY)
        # below the line at the right end, where every PR curve meets the prevalence from above
        ax.text(0.99, prevalence - 0.015, style.text("figures.pr.baseline", value=fmt_num(prevalence)),
                ha="right", va="top", color=GREY, fontsize=style.base_pt - 1)
        for i, c in enumerate(curves):
            color = PALETTE[i % len(PALETTE)]
            if band:
                _band(ax, c.grid, c.precision_lower, c.precision_upper, color)
            # interpolated precision (the best precision at this recall or beyond), the same quantity
            # as the band; the raw saw-tooth would wander outside its own interval at low recall
            envelope = np.maximum.accumulate(c.precision[::-1])[::-1]
            ax.plot(c.recall, envelope, color=color, drawstyle="steps-pre", zorder=3, label=f"{c.label}  {_ci_text(c.auprc)}".strip())
        ax.set_xlabel(style.text("figures.pr.x"))
        ax.set_ylabel(style.text("figures.pr.y"))
        _unit_axes(ax)
        _legend(ax, style, title=f"{style.metric('auprc')} (95% CI)", loc="lower left")
    return fig


def calibration_figure(curves: Sequence[CalibrationCurve], *, style: FigureStyle | None = None) -> Figure:
    """Observed vs predicted risk per bin with exact CIs, and the distribution of predictions below."""
    style = style or figure_style()
    require_items(curves, "calibration")
    with style.context():
        fig = new_figure(style, style.plot_aspect(1.2))
        double = style.preset == "double"
        grid = fig.add_gridspec(2, 2 if double else 1, height_ratios=(4, 1), width_ratios=(1, 0.7) if double else None)
        ax = fig.add_subplot(grid[0, 0])
        hist = fig.add_subplot(grid[1, 0], sharex=ax)
        if double:  # the calibration statistics go beside the plot, where a legend would be
            notes = fig.add_subplot(grid[:, 1])
            notes.axis("off")
        ax.plot([0, 1], [0, 1], ls=(0, (3, 2)), lw=0.6, color=GREY, label=style.text("figures.calibration.ideal"))
        offsets = np.linspace(-0.006, 0.006, len(curves)) if len(curves) > 1 else [0.0]
        lines = []
        for i, c in enumerate(curves):
            color = PALETTE[i % len(PALETTE)]
            x = c.predicted + offsets[i]
            ax.errorbar(x, c.observed, yerr=[c.observed - c.observed_lower, c.observed_upper - c.observed],
                        fmt="o", ms=3, mfc=color, mec="white", mew=0.4, ecolor=color, elinewidth=0.7, capsize=0, zorder=3)
            ax.plot(x, c.observed, color=color, lw=0.9, zorder=2)
            slope = style.text("figures.calibration.slope")
            intercept = style.text("figures.calibration.intercept")
            intercept = intercept.lower() if style.lang == "en" else intercept
            slope_ci, intercept_ci = _ci_text(c.slope, lang=style.lang), _ci_text(c.intercept, lang=style.lang)
            lines.append((color, f"{c.label}: {slope} {slope_ci}, {intercept} {intercept_ci}".lstrip(": ")))
        for j, (color, text) in enumerate(lines):
            if double:
                notes.text(0.0, 0.6 - j * 0.08, text.replace(": ", ":\n", 1), transform=notes.transAxes, ha="left",
                           va="top", color=color, fontsize=style.base_pt - 0.5, linespacing=1.4)
            else:  # the model's name on its own line: a name and both estimates do not fit in one column
                ax.text(0.02, 0.98 - j * 0.11, text.replace(": ", ":\n", 1), transform=ax.transAxes, ha="left",
                        va="top", color=color, fontsize=style.base_pt - 1, linespacing=1.25)
        ax.set_ylabel(style.text("figures.calibration.y"))
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.xaxis.set_major_locator(MultipleLocator(0.2))
        ax.yaxis.set_major_locator(MultipleLocator(0.2))
        ax.spines["left"].set_bounds(0, 1)
        ax.spines["bottom"].set_bounds(0, 1)
        ax.tick_params(labelbottom=False)
        # spike histogram of the first model: events above the axis, non-events below
        c0 = curves[0]
        centers = (c0.histogram_edges[:-1] + c0.histogram_edges[1:]) / 2
        width = np.diff(c0.histogram_edges)[0] * 0.85
        hist.bar(centers, c0.histogram_events, width=width, color=PALETTE[1], lw=0, label=style.text("figures.calibration.events"))
        hist.bar(centers, -c0.histogram_non_events, width=width, color=PALETTE[0], lw=0, label=style.text("figures.calibration.non_events"))
        hist.axhline(0, color="#222222", lw=0.4)
        top = max(int(c0.histogram_events.max()), int(c0.histogram_non_events.max()), 1)
        hist.set_ylim(-top * 1.1, top * 1.1)
        hist.set_yticks([-top, 0, top], [str(top), "0", str(top)])
        hist.set_ylabel(style.text("figures.calibration.count"))
        hist.set_xlabel(style.text("figures.calibration.x"))
        hist.spines["bottom"].set_bounds(0, 1)
        hist.legend(loc="upper right", fontsize=style.base_pt - 1.5, handlelength=0.8, ncols=2)
        tidy_axes(ax)
        tidy_axes(hist)
        fig.align_ylabels([ax, hist])
    return fig


def decision_curve_figure(
    curves: Sequence[DecisionCurve], *, style: FigureStyle | None = None, max_threshold: float | None = None
) -> Figure:
    """Net benefit of each model against treat-all and treat-none across threshold probabilities."""
    style = style or figure_style()
    require_items(curves, "decision curve")
    with style.context():
        fig = new_figure(style, style.plot_aspect(0.8))
        ax = fig.add_subplot()
        c0 = curves[0]
        limit = max_threshold if max_threshold is not None else min(1.0, max(0.5, round(c0.prevalence * 2 + 0.1, 1)))
        keep = c0.thresholds <= limit
        ax.plot(c0.thresholds[keep], c0.treat_all[keep], color=GREY, lw=0.9, label=style.text("figures.dca.treat_all"))
        ax.plot(c0.thresholds[keep], c0.treat_none[keep], color="#000000", lw=0.9, ls=(0, (3, 2)), label=style.text("figures.dca.treat_none"))
        for i, c in enumerate(curves):
            k = c.thresholds <= limit
            ax.plot(c.thresholds[k], c.net_benefit[k], color=PALETTE[i % len(PALETTE)], label=c.label or None)
        top = max(c0.prevalence, *(float(np.nanmax(c.net_benefit)) for c in curves))
        ax.set_ylim(-0.05 * max(top, 0.1) * 2, top * 1.1)
        ax.set_xlim(0, limit)
        ax.set_xlabel(style.text("figures.dca.x"))
        ax.set_ylabel(style.text("figures.dca.y"))
        _legend(ax, style, loc="upper right")
        tidy_axes(ax)
    return fig


def confusion_matrix_figure(
    matrix: ConfusionMatrix,
    *,
    style: FigureStyle | None = None,
    threshold: float | None = None,
    suppress_below: int = 0,
    cells: Sequence[Sequence[str]] | None = None,
    note: str = "",
) -> Figure:
    """Counts with row percentages; ``suppress_below=5`` prints "<5" for small cells (sharing).

    ``cells``: the four texts to print (rows observed no event / event) when the caller hid more than
    the small cells (a restricted viewer: the other cell of a row with a small one, no percentages
    there); a row with a hidden cell is left unshaded, since its shade is its share. ``note`` is a
    footnote that says why.
    """
    style = style or figure_style()
    table = matrix.table
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    texts = [[_confusion_text(int(table[r, c]), shares[r, c], suppress_below) for c in range(2)] for r in range(2)]
    if cells is not None:
        texts = [[str(cells[r][c]) for c in range(2)] for r in range(2)]
    with style.context():
        fig, ax = _confusion_grid(style, shares, texts, aspect=0.8, size=style.base_pt + 1, note=note)
        names = [style.text("figures.confusion.negative"), style.text("figures.confusion.positive")]
        ax.set_xticks([0, 1], names)
        ax.set_yticks([0, 1], names, rotation=90, va="center")
        if threshold is not None:
            ax.set_title(style.text("figures.confusion.threshold", value=fmt_num(threshold)), fontsize=style.base_pt, loc="left")
    return fig


def _confusion_grid(style: FigureStyle, shares: np.ndarray, texts: list[list[str]], *, aspect: float, size: float,
                    note: str) -> tuple[Figure, Axes]:
    """A confusion matrix's cells (binary or multiclass; call inside ``style.context()``): each row
    shaded by its shares, left unshaded when it has a hidden cell (its shade is its share), the texts
    written in, the axis titles, and ``note`` wrapped under the figure. The caller sets the ticks."""
    k = len(texts)
    hidden_rows = np.array([any(not text[0].isdigit() for text in row) for row in texts])
    shade = np.where(hidden_rows[:, None], 0.0, shares)
    note_lines = textwrap.wrap(note, int(style.width_in * 72 / ((style.base_pt - 1) * (1.0 if style.lang == "ko" else 0.5))))
    fig = new_figure(style, style.plot_aspect(aspect) + 0.06 * len(note_lines))
    if note_lines:
        fig.supxlabel("\n".join(note_lines), x=0.0, ha="left", fontsize=style.base_pt - 1)
    ax = fig.add_subplot()
    ax.imshow(shade, cmap="Blues", vmin=0, vmax=1.4, aspect="equal")
    for r in range(k):
        for c in range(k):
            ax.text(c, r, texts[r][c], ha="center", va="center", fontsize=size,
                    color="white" if shade[r, c] > 0.75 else "#000000")
    ax.set_xlabel(style.text("figures.confusion.x"))
    ax.set_ylabel(style.text("figures.confusion.y"))
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig, ax


def _confusion_text(count: int, share: float, suppress_below: int) -> str:
    return f"<{suppress_below}" if 0 < count < suppress_below else f"{count}\n({100 * share:.1f}%)"


def threshold_figure(curve: ThresholdCurve, *, style: FigureStyle | None = None, chosen: float | None = None) -> Figure:
    """Sensitivity, specificity, PPV and NPV across thresholds, with the chosen cut-off marked."""
    style = style or figure_style()
    with style.context():
        fig = new_figure(style, style.plot_aspect(0.8))
        ax = fig.add_subplot()
        series = [("sensitivity", curve.sensitivity, "-"), ("specificity", curve.specificity, "-"),
                  ("ppv", curve.ppv, (0, (4, 1.5))), ("npv", curve.npv, (0, (1, 1)))]
        for i, (name, values, ls) in enumerate(series):
            ax.plot(curve.thresholds, values, color=PALETTE[i], ls=ls, label=style.metric(name))
        if chosen is not None:
            ax.axvline(chosen, color=GREY, lw=0.6, ls=(0, (3, 2)))
            ax.text(chosen + 0.012, 0.03, f"{style.text('figures.threshold.chosen')} {fmt_num(chosen)}", ha="left",
                    va="bottom", rotation=90, fontsize=style.base_pt - 1, color=GREY, transform=ax.get_xaxis_transform())
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.0)
        ax.xaxis.set_major_locator(MultipleLocator(0.2))
        ax.yaxis.set_major_locator(MultipleLocator(0.2))
        ax.set_xlabel(style.text("figures.threshold.x"))
        ax.set_ylabel(style.text("figures.threshold.y"))
        ax.legend(loc="lower center", ncols=4, bbox_to_anchor=(0.5, 1.0), handlelength=1.8, columnspacing=1.0)
        ax.grid(False)
        tidy_axes(ax)
    return fig
