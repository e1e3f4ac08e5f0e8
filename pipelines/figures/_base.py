"""Shared helpers of the figure modules: a new figure at column width, and small drawing aids."""

from __future__ import annotations

from collections.abc import Sequence
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pipelines.errors import EvaluationError
from pipelines.figures._style import FigureStyle
from pipelines.figures.export import RC_ATTRIBUTE

__all__ = ["new_figure", "refuse_patient_level", "require_items", "fmt_num", "tidy_axes"]


def new_figure(style: FigureStyle, aspect: float, *, max_height_mm: float = 170.0, layout: str | None = "constrained") -> Figure:
    """A figure of the column width; remembers its rc so export draws ticks with the same style."""
    figure = Figure(figsize=style.size(aspect, max_height_mm=max_height_mm), layout=layout)
    setattr(figure, RC_ATTRIBUTE, style.rc())
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
