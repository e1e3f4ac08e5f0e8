"""The calculator's input form, generated from the model's inputs (type, unit, ranges, categories)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages._units import unit_name
from workbench.services.calculator import CalculatorForm, InputField

__all__ = ["inputs"]

_PER_ROW = 2


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _help(ctx: Any, field: InputField) -> str:
    parts = []
    if field.train_min is not None:
        key = "calculator.help_training_central" if field.central else "calculator.help_training"
        parts.append(ctx.t(key, low=_number(field.train_min), high=_number(field.train_max),
                           median=_number(field.train_median)))
    if field.plausible_low is not None:
        parts.append(ctx.t("calculator.help_plausible", low=_number(field.plausible_low),
                           high=_number(field.plausible_high)))
    return "  \n".join(parts) or ctx.t("calculator.help_none")


def _widget(ctx: Any, field: InputField, key: str) -> Any:
    label = f"{field.name} ({unit_name(ctx, field.unit)})" if field.unit else field.name
    if field.kind == "binary":
        return st.selectbox(label, [0, 1], index=None, key=key, placeholder=ctx.t("calculator.unknown"),
                            format_func=lambda v: ctx.t("calculator.yes" if v == 1 else "calculator.no", value=v))
    if field.kind == "categorical":
        return st.selectbox(label, list(field.categories), index=None, key=key,
                            placeholder=ctx.t("calculator.unknown"))
    return st.number_input(label, value=None, key=key, help=_help(ctx, field), format="%g",
                           placeholder=ctx.t("calculator.placeholder", median=_number(field.train_median)))


def inputs(ctx: Any, form: CalculatorForm) -> dict[str, Any] | None:
    """The typed values when the user pressed Calculate, else None. An empty field is missing
    (the model imputes it, as it did in training)."""
    st.caption(ctx.t("calculator.model", model=form.model_name, target=form.target,
                     event="" if form.positive_label is None else str(form.positive_label)))
    with st.form(f"calc_form_{form.run_id}_{form.model_id}", border=True):
        values = {}
        # two to a row, each row bottom-aligned: at a laptop's 1024 px three cut "unknown (typical 250…" off
        # inside the box, and a label on two lines pushed its box below its neighbours'
        for start in range(0, len(form.fields), _PER_ROW):
            for column, field in zip(st.columns(_PER_ROW, vertical_alignment="bottom"),
                                     form.fields[start:start + _PER_ROW], strict=False):
                with column:
                    values[field.name] = _widget(ctx, field, f"calc_{form.run_id}_{field.name}")
        pressed = st.form_submit_button(ctx.t("calculator.calculate"), type="primary", icon=":material/calculate:")
    return values if pressed else None
