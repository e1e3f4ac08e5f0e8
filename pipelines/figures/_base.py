"""Shared helpers of the figure modules: a new figure at column width, and small drawing aids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pipelines.errors import EvaluationError
from pipelines.figures._style import FigureStyle
from pipelines.figures.export import LANG_ATTRIBUTE, RC_ATTRIBUTE

__all__ = ["new_figure", "refuse_patient_level", "require_items", "fmt_num", "tidy_axes", "tint"]


def new_figure(
    style: FigureStyle,
    aspect: float | None = None,
    *,
    height_mm: float | None = None,
    max_height_mm: float = 230.0,
    layout: str | None = "constrained",
) -> Figure:
    """A figure of the column width, ``aspect`` x width tall or ``height_mm`` (for figures that grow
    by rows). It remembers its rc so export draws lazily created ticks in the same style."""
    if height_mm is not None:
        size = (style.width_in, min(height_mm, max_height_mm) / 25.4)
    else:
        size = style.size(aspect if aspect is not None else 1.0, max_height_mm=max_height_mm)
    figure = Figure(figsize=size, layout=layout)
    setattr(figure, RC_ATTRIBUTE, style.rc())
    setattr(figure, LANG_ATTRIBUTE, style.lang)
    return figure


def refuse_patient_level(collaborator_safe: bool, figure: str) -> None:
    """Collaborators may never see a point that is one patient (DESIGN: no row-level data)."""
    if collaborator_safe:
        raise EvaluationError("figures.patient_level_not_shared", figure=figure)


def require_items(items: Sequence[Any], figure: str) -> None:
    if len(items) == 0:
        raise EvaluationError("figures.nothing_to_draw", figure=figure)


def fmt_num(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace("-", "\u2212")


def tidy_axes(ax: Axes, *, square: bool = False) -> None:
    ax.tick_params(which="both", color="#222222")
    if square:
        ax.set_aspect("equal", adjustable="box")


def tint(color: str, strength: float = 0.2) -> tuple[float, float, float]:
    """An opaque light version of ``color``: EPS has no transparency, so bands may not use alpha."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (1 - strength * (1 - r), 1 - strength * (1 - g), 1 - strength * (1 - b))
