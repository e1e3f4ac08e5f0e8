"""The look of the app's interactive plotly charts, applied without plotly's per-figure copy.

``fig.update_layout(template="simple_white")`` deep-copies the registered template and validates
every property of it again, for every figure: 15-20 ms of CPU each, which made the template most of
what the Results page's four charts cost the web server on every rerun (``benchmarks/page_cpu.py``).
Plotly assigns its own default template the same way as here (validated once, assigned without
validation: ``BaseFigure._initialize_layout_template``). The template is a private copy, shared by
the figures and never changed; the JSON sent to the browser is the same (tested).
"""

from __future__ import annotations

import copy
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["simple_white"]


@cache
def _template() -> go.layout.Template:
    return copy.deepcopy(pio.templates["simple_white"])


def simple_white(fig: go.Figure) -> go.Figure:
    """``fig`` with the "simple_white" template; chain ``.update_layout(...)`` for the rest."""
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = _template()
    finally:
        layout._validate = fig._validate
    return fig
