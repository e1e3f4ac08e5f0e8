"""CONSORT-style cohort flow: the main boxes top to bottom, exclusions in boxes to the right.

The recipe produces the steps as ``(label, n_in, n_excluded, reason)``: the number entering a
step, how many the step removed and why. The last box is the analysed cohort.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from pipelines.errors import EvaluationError
from pipelines.figures._base import new_figure
from pipelines.figures._style import FigureStyle, figure_style

__all__ = ["FlowStep", "cohort_flow_figure"]


@dataclass(frozen=True)
class FlowStep:
    label: str
    n_in: int
    n_excluded: int = 0
    reason: str = ""


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _as_step(step: FlowStep | Sequence) -> FlowStep:
    if isinstance(step, FlowStep):
        return step
    return FlowStep(*step)


def cohort_flow_figure(
    steps: Sequence[FlowStep | Sequence],
    *,
    style: FigureStyle | None = None,
    final_label: str | None = None,
    suppress_below: int = 0,
) -> Figure:
    """Boxes of ``label / n = ...``; each exclusion as a side box; ``final_label`` names the last box."""
    style = style or figure_style()
    items = [_as_step(s) for s in steps]
    if not items:
        raise EvaluationError("figures.empty_flow")

    def n_text(n: int) -> str:
        return f"<{suppress_below}" if 0 < n < suppress_below else f"{n:,}"

    main: list[str] = [f"{_wrap(s.label, 34)}\n{style.text('figures.flow.n', n=n_text(s.n_in))}" for s in items]
    last = items[-1]
    if last.n_excluded or final_label:
        main.append(f"{final_label or ''}\n{style.text('figures.flow.n', n=n_text(last.n_in - last.n_excluded))}".strip())
    side = [(i, s) for i, s in enumerate(items) if s.n_excluded]
    rows = len(main)
    with style.context():
        fig = new_figure(style, height_mm=3.5 + 15.0 * rows, layout=None)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, rows)
        ax.axis("off")
        # boxes keep their printed size (mm) in either column width; the diagram is centred
        width_mm = style.width_in * 25.4
        main_mm, gap_mm, side_mm = 44.0, 5.0, 38.0
        left = (width_mm - (main_mm + gap_mm + side_mm)) / 2
        box_w, side_w = main_mm / width_mm, side_mm / width_mm
        cx = (left + main_mm / 2) / width_mm
        side_left = (left + main_mm + gap_mm) / width_mm
        box_h = 0.66

        def box(x: float, y: float, w: float, text: str) -> None:
            ax.add_patch(FancyBboxPatch((x - w / 2, y - box_h / 2), w, box_h, boxstyle="square,pad=0",
                                        fc="white", ec="#000000", lw=0.6))
            ax.text(x, y, text, ha="center", va="center", fontsize=style.base_pt, linespacing=1.3)

        centers = [rows - 0.5 - i for i in range(rows)]
        for text, y in zip(main, centers):
            box(cx, y, box_w, text)
        arrow = dict(arrowstyle="-|>", mutation_scale=6, lw=0.6, color="#000000", shrinkA=0, shrinkB=0)
        for a, b in zip(centers[:-1], centers[1:]):
            ax.add_patch(FancyArrowPatch((cx, a - box_h / 2), (cx, b + box_h / 2), **arrow))
        for i, s in side:
            y = (centers[i] + centers[i + 1]) / 2 if i + 1 < rows else centers[i] - 0.5
            ex_text = style.text("figures.flow.excluded", n=n_text(s.n_excluded))
            if s.reason:
                ex_text += "\n" + _wrap(s.reason, 30)
            ax.add_patch(FancyArrowPatch((cx, y), (side_left, y), **arrow))
            ax.add_patch(FancyBboxPatch((side_left, y - box_h * 0.4), side_w, box_h * 0.8, boxstyle="square,pad=0",
                                        fc="white", ec="#000000", lw=0.6))
            ax.text(side_left + 1.5 / width_mm, y, ex_text, ha="left", va="center", fontsize=style.base_pt - 0.5,
                    linespacing=1.3)
    return fig
