"""The single-patient waterfall: one prediction built up from the average by each feature's
contribution (log-odds for a classifier).

It shows one patient, so it refuses to draw when ``collaborator_safe`` is set. Feature names from
hospital exports run long (``serum_creatinine_first_measurement_mg_per_dL``): a label is broken
over two lines at an underscore, space or hyphen and, when even that is too long, the name is cut
with an ellipsis; the value after ``=`` is always kept whole. The contributions stand in a column
right of the bars and the average and final predictions are labelled away from each other, so no
two texts overlap however the bars fall.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from pipelines.errors import EvaluationError
from pipelines.evaluation import Contributions
from pipelines.figures._base import fmt_num, new_figure, refuse_patient_level, tidy_axes
from pipelines.figures._style import GREY, PALETTE, FigureStyle, figure_style

__all__ = ["waterfall_figure", "fit_label"]

#: Label width in Latin characters (a Hangul syllable counts two) per column preset.
_LABEL_WIDTH = {"single": 30, "double": 52}
_ELLIPSIS = "\u2026"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` with an ellipsis (nothing cut when it fits)."""
    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out.rstrip("_ -") + _ELLIPSIS


def fit_label(name: str, value: str, width: int) -> str:
    """``name = value`` in at most two lines of ``width`` characters; the value is never cut."""
    suffix = f" = {value}"
    if _width(name + suffix) <= width:
        return name + suffix
    first = ""
    pieces = re.split(r"(?<=[_\s-])", name)
    while pieces and _width(first + pieces[0]) <= width:
        first += pieces.pop(0)
    rest = "".join(pieces)
    if not first:  # one long word: break it at the width
        first, rest = _cut(name, width + 1)[:-1], name[len(_cut(name, width + 1)) - 1:]
    if not rest:  # the name fits on the first line, the value goes on the second
        return f"{first.rstrip()}\n= {value}"
    room = max(width - _width(suffix), 4)
    return f"{first.rstrip()}\n{_cut(rest, room)}{suffix}"


def _short(value: float) -> str:
    if not np.isfinite(value):
        return "NA"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}".replace("-", "\u2212")


def waterfall_figure(
    contributions: Contributions,
    index: int,
    *,
    style: FigureStyle | None = None,
    max_features: int = 9,
    title: str | None = None,
    collaborator_safe: bool = False,
) -> Figure:
    """One patient's prediction, built up from the average by each feature's contribution.
    ``title`` names the patient without identifiers (for example by their place in the holdout)."""
    refuse_patient_level(collaborator_safe, "waterfall")
    style = style or figure_style()
    n = contributions.values.shape[0]
    if not 0 <= index < n:
        raise EvaluationError("figures.bad_patient_index", index=index, n=n, last=n - 1)
    values = contributions.values[index]
    order = np.argsort(np.abs(values))[::-1]
    shown = order[:max_features]
    rest = order[max_features:]
    width = _LABEL_WIDTH[style.preset]
    names = [fit_label(str(contributions.features[j]), _short(contributions.data[index, j]), width) for j in shown]
    deltas = [float(v) for v in values[shown]]
    if len(rest):
        names.append(style.text("figures.waterfall.other", n=len(rest)))
        deltas.append(float(values[rest].sum()))
    row_mm = 8.0 if any("\n" in name for name in names) else 6.5
    with style.context():
        fig = new_figure(style, height_mm=max(45.0, row_mm * len(deltas) + 26.0 + (7.0 if title else 0.0)))
        ax = fig.add_subplot()
        start = contributions.base_value
        k = len(deltas)
        beside = blended_transform_factory(ax.transAxes, ax.transData)  # x in the axes, y in rows
        # the smallest contribution at the bottom, the largest just under the final prediction
        running = start
        for y, delta in enumerate(deltas[::-1]):
            color = PALETTE[1] if delta > 0 else PALETTE[0]
            ax.barh(y, delta, left=running, color=color, height=0.7, lw=0)
            ax.text(1.03, y, ("+" if delta > 0 else "\u2212") + fmt_num(abs(delta)), transform=beside, va="center",
                    ha="left", color=color, fontsize=style.base_pt - 1)
            running += delta
        ax.axvline(start, color=GREY, lw=0.5, ls=(0, (3, 2)))
        ax.axvline(running, color="#000000", lw=0.5)
        ax.set_yticks(range(k), names[::-1])
        ax.set_ylim(-0.7, k - 0.3)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(style.text("figures.waterfall.x"))
        ends = start + np.cumsum(deltas[::-1])
        lo, hi = min(start, running, *ends), max(start, running, *ends)
        pad = (hi - lo) * 0.06 or 0.5
        ax.set_xlim(lo - pad, hi + pad)
        # the two reference lines labelled above the bars, each text running away from the other
        above = blended_transform_factory(ax.transData, ax.transAxes)
        left_first = start <= running
        for x, text, ha in ((start, f"{style.text('figures.waterfall.base')} {fmt_num(start)}",
                             "right" if left_first else "left"),
                            (running, f"{style.text('figures.waterfall.final')} {fmt_num(running)}",
                             "left" if left_first else "right")):
            ax.text(x, 1.01, text, transform=above, ha=ha, va="bottom", fontsize=style.base_pt - 1,
                    color=GREY if x is start else "#000000")
        if title:  # from the figure's left edge: the labels push the axes far to the right
            fig.suptitle(title, x=0.01, ha="left", fontsize=style.base_pt, linespacing=1.3)
        tidy_axes(ax)
    return fig
