"""The shared template sends the browser exactly what ``update_layout(template=...)`` sends (a
plotly upgrade that changes that shows up here); what it saves is measured by benchmarks/page_cpu.py."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from pages._chart_style import simple_white


def _figure() -> go.Figure:
    grid = np.linspace(0, 1, 101)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=grid, y=grid ** 2, mode="lines", name="model"))
    fig.add_bar(x=["a", "b"], y=[1, 2])
    return fig


def test_same_json_as_the_named_template():
    named = _figure().update_layout(template="simple_white", height=420, xaxis={"title": "x"})
    shared = simple_white(_figure()).update_layout(height=420, xaxis={"title": "x"})
    assert json.loads(pio.to_json(shared)) == json.loads(pio.to_json(named))
    assert json.loads(pio.to_json(shared))["layout"]["template"]["layout"]["plot_bgcolor"] == "white"


def test_figures_do_not_change_each_other_or_plotly_registry():
    first = simple_white(_figure())
    second = simple_white(_figure()).update_layout(height=300, yaxis={"title": "y"})
    assert first.layout.height is None and first.layout.yaxis.title.text is None
    assert second.layout.template.layout.plot_bgcolor == "white"
    assert pio.templates["simple_white"].layout.to_plotly_json() == first.layout.template.layout.to_plotly_json()
    first.update_layout(xaxis={"range": [0, 1]})  # validation is back on after the template
    assert first.layout._validate

