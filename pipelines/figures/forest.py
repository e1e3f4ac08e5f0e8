"""Subgroup forest plot: one metric per subgroup with its CI, beside a table of n and values.

The layout follows the forest plots of NEJM and Lancet subgroup analyses: subgroup labels on the
left (variable in bold, levels indented), counts and "estimate (95% CI)" as text columns, and
the intervals on a shared axis with the overall estimate as a dashed reference line.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from pipelines.evaluation import SubgroupPerformance
from pipelines.figures._base import fmt_num, new_figure
from pipelines.figures._style import GREY, PALETTE, FigureStyle, figure_style

__all__ = ["forest_figure"]


def _interval(est) -> str:
    sep = " to " if est.lower < 0 else "\u2013"
    return f"{fmt_num(est.value)} ({fmt_num(est.lower)}{sep}{fmt_num(est.upper)})"


def forest_figure(
    subgroups: SubgroupPerformance,
    *,
    metric: str = "auroc",
    style: FigureStyle | None = None,
    suppress_below: int = 0,
    counts: Sequence[tuple[object, object]] | None = None,
    note: str = "",
) -> Figure:
    """``suppress_below=5`` prints counts under 5 as "<5" (for figures shared with collaborators).

    ``counts``: the (n, events) to print for the overall line and then each row, when the caller hid
    more than the small counts (secondary suppression); ``note`` a footnote that says why.
    """
    style = style or figure_style()
    lines: list[tuple[str, str, str, object, bool]] = []  # label, n, text, estimate, is_header
    printed = iter(counts) if counts is not None else None

    def count(n: int, events: int) -> str:
        if printed is not None:
            shown_n, shown_events = next(printed)
            return f"{shown_n} ({shown_events})"

        def one(v: int) -> str:
            return f"<{suppress_below}" if 0 < v < suppress_below else str(v)

        return f"{one(n)} ({one(events)})"

    overall = subgroups.overall
    lines.append((style.text("figures.forest.overall"), count(overall.n, overall.n_positive),
                  _interval(overall.metrics[metric]) if metric in overall.metrics else "", overall.metrics.get(metric), True))
    current = None
    for row in subgroups.rows:
        if row.variable != current:
            lines.append((row.variable, "", "", None, True))
            current = row.variable
        est = row.metrics.get(metric)
        text = _interval(est) if est is not None else style.text("figures.forest.not_estimable")
        lines.append(("   " + row.level, count(row.n, row.n_positive), text, est, False))
    n_lines = len(lines)
    # about 0.5 em per Latin character, 1 em per Hangul one, at the footnote's size
    note_lines = textwrap.wrap(note, int(style.width_in * 72 / ((style.base_pt - 1) * (1.0 if style.lang == "ko" else 0.5))))
    with style.context():
        fig = new_figure(style, height_mm=5.3 * (n_lines + 1) + 12.0 + 3.2 * len(note_lines))
        if note_lines:  # constrained layout keeps room for it below the axis
            fig.supxlabel("\n".join(note_lines), x=0.0, ha="left", fontsize=style.base_pt - 1)
        grid = fig.add_gridspec(1, 2, width_ratios=(1.9, 1.0), wspace=0.0)
        table = fig.add_subplot(grid[0])
        ax = fig.add_subplot(grid[1], sharey=table)
        ys = np.arange(n_lines)[::-1]
        header_y = n_lines + 0.1
        for y, (label, n_text, text, est, header) in zip(ys, lines):
            weight = style.bold if header else "normal"
            table.text(0.0, y, label, ha="left", va="center", fontweight=weight)
            table.text(0.50, y, n_text, ha="center", va="center")
            table.text(1.0, y, text, ha="right", va="center")
            if est is not None and np.isfinite(est.value):
                color = "#000000" if header else PALETTE[0]
                ax.plot([est.lower, est.upper], [y, y], color=color, lw=0.9, solid_capstyle="butt")
                ax.plot(est.value, y, marker="D" if header else "s", ms=3.6 if header else 3.0, color=color, mec="white", mew=0.3)
        table.text(0.0, header_y, style.text("figures.forest.subgroup"), ha="left", va="bottom", fontweight=style.bold)
        table.text(0.50, header_y, style.text("figures.forest.n"), ha="center", va="bottom", fontweight=style.bold)
        table.text(1.0, header_y, style.text("figures.forest.estimate", metric=style.metric(metric)), ha="right",
                   va="bottom", fontweight=style.bold)
        table.set_xlim(0, 1.04)
        table.set_ylim(-0.8, n_lines + 0.9)
        table.axis("off")
        ref = overall.metrics.get(metric)
        if ref is not None:
            ax.axvline(ref.value, color=GREY, lw=0.6, ls=(0, (3, 2)), zorder=0)
        values = [v for line in lines if (v := line[3]) is not None and np.isfinite(v.lower)]
        lo = min(v.lower for v in values) if values else 0.0
        hi = max(v.upper for v in values) if values else 1.0
        pad = (hi - lo) * 0.08 or 0.05
        ax.set_xlim(lo - pad, hi + pad)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", left=False, labelleft=False)
        ax.set_xlabel(style.metric(metric))
        ax.spines["bottom"].set_bounds(lo - pad, hi + pad)
    return fig
