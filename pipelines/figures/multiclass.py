"""One-vs-rest ROC and precision-recall figures of a multiclass outcome, and its confusion matrix.

One model: every class in its own colour and the macro average in black over its bootstrap band,
in one plot (a restricted reader's copy, with small classes left out, has the drawn classes' macro
average without a band, and a note naming the classes left out). Several models: small multiples, as a journal prints a comparison: one panel per class
and one for the macro average, every model in its own colour in every panel (the same colour in
each), its AUROC or AUPRC (95% CI) in the panel, the models named once for the whole figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from pipelines.evaluation import MulticlassCurves, PrCurve, RocCurve
from pipelines.figures._base import new_figure, require_items
from pipelines.figures._style import GREY, MM, PALETTE, FigureStyle, figure_style
from pipelines.figures.performance import _band, _ci_text, _confusion_grid, _legend, _unit_axes

__all__ = ["multiclass_roc_figure", "multiclass_pr_figure", "multiclass_confusion_figure"]

# yellow is too pale for a thin line on white paper; eight classes or models are already a lot
_LINE_COLOURS = tuple(c for c in PALETTE if c != "#F0E442")


def _class_name(style: FigureStyle, outcome: str | None, value: str) -> str:
    return style.text("figures.multiclass.class", outcome=outcome, value=value) if outcome else value


def _draw(ax, curve: RocCurve | PrCurve, *, color: str, lw: float, label: str, zorder: float = 3) -> Line2D:
    if isinstance(curve, RocCurve):
        return ax.plot(curve.fpr, curve.tpr, color=color, lw=lw, drawstyle="steps-post", zorder=zorder, label=label)[0]
    # interpolated precision (the best precision at this recall or beyond), as in the binary PR figure
    envelope = np.maximum.accumulate(curve.precision[::-1])[::-1]
    return ax.plot(curve.recall, envelope, color=color, lw=lw, drawstyle="steps-pre", zorder=zorder, label=label)[0]


def _area(curve: RocCurve | PrCurve) -> str:
    return _ci_text(curve.auroc if isinstance(curve, RocCurve) else curve.auprc)


def _one_vs_rest(curves: MulticlassCurves, style: FigureStyle, *, kind: str, outcome: str | None) -> Figure:
    """Each class in its own colour, the macro average in black over its band, areas in the legend."""
    roc = kind == "roc"
    # PR curves of rare classes run along the bottom, where a legend would sit: in a single column
    # it goes under the plot, one line per class
    below = not roc and style.preset == "single"
    with style.context():
        fig = new_figure(style, 1.0 + 0.045 * (len(curves.pr) + 2) if below else style.plot_aspect(1.0))
        ax = fig.add_subplot()
        if roc:
            ax.plot([0, 1], [0, 1], ls=(0, (3, 2)), lw=0.6, color=GREY, label="_nolegend_", zorder=2)
        macro = curves.macro_roc if roc else curves.macro_pr
        lower, upper = (macro.tpr_lower, macro.tpr_upper) if roc else (macro.precision_lower, macro.precision_upper)
        if len(macro.grid):  # a restricted reader's macro of the drawn classes has no band
            _band(ax, macro.grid, lower, upper, "#000000")
        for i, c in enumerate(curves.roc if roc else curves.pr):
            _draw(ax, c, color=_LINE_COLOURS[i % len(_LINE_COLOURS)], lw=0.8,
                  label=f"{_class_name(style, outcome, c.label)}  {_area(c)}")
        x, y = (macro.fpr, macro.tpr) if roc else (macro.recall, macro.precision)
        ax.plot(x, y, color="#000000", lw=1.4, drawstyle="steps-post" if roc else "default", zorder=4,
                label=f"{style.text('figures.multiclass.macro')}  {_area(macro)}")
        ax.set_xlabel(style.text("figures.roc.x" if roc else "figures.pr.x"))
        ax.set_ylabel(style.text("figures.roc.y" if roc else "figures.pr.y"))
        _unit_axes(ax)
        title = f"{style.metric('auroc' if roc else 'auprc')} (95% CI)"
        if below:
            legend = fig.legend(*ax.get_legend_handles_labels(), title=title, loc="outside lower left",
                                alignment="left")
            legend.get_title().set_fontweight(style.bold)
        else:
            _legend(ax, style, title=title, loc="lower right")
        _absent_note(ax, curves, style)
    return fig


def _notes(curves: MulticlassCurves, style: FigureStyle) -> str:
    notes = [style.text("figures.multiclass.absent", classes=", ".join(curves.absent))] if curves.absent else []
    if curves.suppressed:  # a restricted reader's copy: classes of 1-4 patients (and complements) left out,
        # the macro average of the drawn classes only (workbench.services._curve_disclosure)
        notes.append(style.text("figures.multiclass.suppressed", classes=", ".join(curves.suppressed)))
    return "\n".join(notes)


def _absent_note(ax, curves: MulticlassCurves, style: FigureStyle) -> None:
    if notes := _notes(curves, style):
        ax.text(1.0, 1.02, notes, transform=ax.transAxes, ha="right", va="bottom", color=GREY,
                fontsize=style.base_pt - 1)


def _panels(models: Sequence[MulticlassCurves], style: FigureStyle, *, kind: str, outcome: str | None) -> Figure:
    """Small multiples: a panel per class (the classes of the first model, found by name in the
    others) and a last one for the macro average; each model one colour throughout."""
    roc = kind == "roc"
    first = models[0]
    titles = [_class_name(style, outcome, c) for c in first.classes] + [style.text("figures.multiclass.macro")]
    n_cols = 2 if style.preset == "single" else 3
    n_rows = math.ceil(len(titles) / n_cols)
    panel_mm = style.width_in / MM / n_cols
    with style.context():
        fig = new_figure(style, height_mm=n_rows * panel_mm * 1.05 + 14 + 4 * math.ceil(len(models) / n_cols))
        axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False).ravel()
        handles = []
        for i, model in enumerate(models):
            color = _LINE_COLOURS[i % len(_LINE_COLOURS)]
            by_class = dict(zip(model.classes, model.roc if roc else model.pr))
            per_panel = [by_class.get(c) for c in first.classes] + [model.macro_roc if roc else model.macro_pr]
            for ax, curve in zip(axes, per_panel):
                if curve is not None:
                    _draw(ax, curve, color=color, lw=0.9, label=_area(curve), zorder=3 + 0.1 * i)
            handles.append(Line2D([], [], color=color, lw=1.2, label=model.label))
        for k, (ax, title) in enumerate(zip(axes, titles)):
            if roc:
                ax.plot([0, 1], [0, 1], ls=(0, (3, 2)), lw=0.5, color=GREY, label="_nolegend_", zorder=2)
            elif k < len(first.pr):  # no skill: the class's prevalence (the macro panel has none)
                ax.axhline(first.pr[k].prevalence, ls=(0, (3, 2)), lw=0.5, color=GREY, zorder=2)
            ax.set_title(title, fontsize=style.base_pt, loc="left", pad=2)
            _unit_axes(ax, ticks=0.5)
            ax.legend(loc="lower right" if roc else "best", fontsize=style.base_pt - 1.5, handlelength=1.0,
                      handletextpad=0.4, borderaxespad=0.2, labelspacing=0.2)
        for ax in axes[len(titles):]:
            ax.set_visible(False)
        for ax in axes:
            ax.xaxis.set_major_locator(MultipleLocator(0.5))
        fig.supxlabel(style.text("figures.roc.x" if roc else "figures.pr.x"), fontsize=style.base_pt + 0.5)
        fig.supylabel(style.text("figures.roc.y" if roc else "figures.pr.y"), fontsize=style.base_pt + 0.5)
        legend = fig.legend(handles=handles, loc="outside upper left", ncols=min(len(handles), n_cols),
                            title=f"{style.metric('auroc' if roc else 'auprc')} (95% CI)", alignment="left")
        legend.get_title().set_fontweight(style.bold)
        if notes := _notes(first, style):  # above the panels: over one, it would cover its title
            fig.suptitle(notes, x=0.99, ha="right", color=GREY, fontsize=style.base_pt - 1)
    return fig


def _figure(curves: MulticlassCurves | Sequence[MulticlassCurves], style: FigureStyle, kind: str,
            outcome: str | None) -> Figure:
    models = [curves] if isinstance(curves, MulticlassCurves) else list(curves)
    require_items(models, "ROC" if kind == "roc" else "PR")
    if len(models) == 1:
        return _one_vs_rest(models[0], style, kind=kind, outcome=outcome)
    return _panels(models, style, kind=kind, outcome=outcome)


def multiclass_roc_figure(curves: MulticlassCurves | Sequence[MulticlassCurves], *, style: FigureStyle | None = None,
                          outcome: str | None = None) -> Figure:
    """One-vs-rest ROC curves: of one model, every class and the macro average (with its bootstrap
    band) in one plot; of several models, a panel per class and one for the macro average, every
    model in each. ``outcome`` names the classes ("num = 2")."""
    return _figure(curves, style or figure_style(), "roc", outcome)


def multiclass_pr_figure(curves: MulticlassCurves | Sequence[MulticlassCurves], *, style: FigureStyle | None = None,
                         outcome: str | None = None) -> Figure:
    """One-vs-rest precision-recall curves, laid out as :func:`multiclass_roc_figure`."""
    return _figure(curves, style or figure_style(), "pr", outcome)


def multiclass_confusion_figure(confusion: np.ndarray, classes: Sequence[str], *, style: FigureStyle | None = None,
                                outcome: str | None = None, cells: Sequence[Sequence[str]] | None = None,
                                note: str = "") -> Figure:
    """Observed classes as rows, predicted ones as columns: counts with row percentages, shaded by them.

    ``cells`` are the texts to print instead (a restricted viewer: "<5", ``x`` for a complement, no
    percentage in a row with a hidden cell, as the binary matrix); such a row is left unshaded, since
    its shade is its share. ``note`` is a footnote that says why."""
    style = style or figure_style()
    table = np.asarray(confusion, dtype=float)
    k = table.shape[0]
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    texts = [[f"{int(table[r, c])}\n({100 * shares[r, c]:.1f}%)" for c in range(k)] for r in range(k)]
    if cells is not None:
        texts = [[str(cells[r][c]) for c in range(k)] for r in range(k)]
    names = [_class_name(style, outcome, str(c)) for c in classes]
    size = max(style.base_pt - 0.5 * max(k - 3, 0), 4.5)
    with style.context():
        fig, ax = _confusion_grid(style, shares, texts, aspect=0.9, size=size, note=note)
        ax.set_xticks(range(k), names, rotation=30 if k > 3 else 0, ha="right" if k > 3 else "center")
        ax.set_yticks(range(k), names)
    return fig
