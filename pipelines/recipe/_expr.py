"""A small, safe expression language for derived columns, filters and outcome definitions.

Physicians type things like ``weight / (height / 100) ^ 2`` or ``num > 0 and age >= 18``. The text is
tokenised and parsed into a tree by hand and evaluated column-wise with numpy over a whitelist of
operators and functions; there is no attribute access, no indexing, no Python ``eval`` and nothing
that can reach the interpreter. Missing values propagate (three-valued logic for ``and``/``or``),
because a filter must never silently treat "unknown" as "true".

Column names that are not plain words (``In-hospital_death``, ``SAPS-I``, names with spaces) are
written in backticks: ```SAPS-I` > 10``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import RecipeError
from pipelines.recipe._expr_parse import MAX_DEPTH, MAX_LENGTH, Node, _Parser
from pipelines.recipe._expr_values import (
    _KIND_NAMES,
    _V,
    FUNCTIONS,
    MAX_EXPONENT,
    _and,
    _arith,
    _boolean,
    _compare,
    _from_column,
    _num,
    _or,
)

__all__ = ["Expression", "parse_expression", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "FUNCTIONS"]


# -- public ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the columns it reads, and an evaluator over a DataFrame."""

    text: str
    tree: Node

    @property
    def columns(self) -> tuple[str, ...]:
        found: list[str] = []
        _collect(self.tree, found)
        return tuple(dict.fromkeys(found))

    def result_kind(self, schema: Mapping[str, str]) -> str:
        """``"number"``, ``"true/false"``, ``"text"`` or ``"date"`` for a table with ``schema``.

        Runs the evaluator on an empty table of the right column kinds, so type errors are found
        when the recipe is validated, not half-way through preparing the data.
        """
        empty = pd.DataFrame({
            name: pd.Series([], dtype={"numeric": "float64", "datetime": "datetime64[ns]"}.get(kind, object))
            for name, kind in schema.items()
        })
        return _KIND_NAMES[self._eval(empty).kind]

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """The values for every row of ``frame`` (numbers/true-false as float, text, or dates)."""
        v = self._eval(frame)
        if v.kind == "str":
            return pd.Series(v.data, index=frame.index, dtype="str")
        if v.kind == "date":
            return pd.Series(v.data, index=frame.index, dtype="datetime64[ns]")
        if v.kind == "null":
            return pd.Series(np.nan, index=frame.index, dtype="float64")
        return pd.Series(v.data, index=frame.index, dtype="float64")

    def evaluate_condition(self, frame: pd.DataFrame) -> pd.Series:
        """A float series: 1 where true, 0 where false, NaN where unknown (a value was missing)."""
        v = self._eval(frame)
        data = _boolean(v, self.text, "condition")
        return pd.Series(data, index=frame.index, dtype="float64")

    def _eval(self, frame: pd.DataFrame) -> _V:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise RecipeError("recipe.expr_unknown_column", expression=self.text, column=missing[0],
                              available=", ".join(map(str, list(frame.columns)[:12])))
        return _evaluate(self.tree, frame, self.text)


def parse_expression(text: str) -> Expression:
    """Parse ``text`` or raise :class:`RecipeError` naming the position and what was expected."""
    if not isinstance(text, str) or not text.strip():
        raise RecipeError("recipe.expr_empty")
    return Expression(text=text, tree=_Parser(text).parse())


def _collect(node: Node, out: list[str]) -> None:
    tag = node[0]
    if tag == "col":
        out.append(node[1])
    elif tag == "call":
        for arg in node[2]:
            _collect(arg, out)
    elif tag == "bin":
        _collect(node[2], out)
        _collect(node[3], out)
    elif tag in {"neg", "not"}:
        _collect(node[1], out)


def _evaluate(node: Node, frame: pd.DataFrame, expr: str) -> _V:
    n = len(frame)
    tag = node[0]
    if tag == "num":
        return _V("num", np.full(n, node[1], dtype="float64"))
    if tag == "bool":
        return _V("bool", np.full(n, 1.0 if node[1] else 0.0))
    if tag == "str":
        return _V("str", np.array([node[1]] * n, dtype=object))
    if tag == "null":
        return _V("null", np.full(n, np.nan))
    if tag == "col":
        return _from_column(frame[node[1]])
    if tag == "neg":
        v = _evaluate(node[1], frame, expr)
        return _V("num", -_num(v, expr, "-"))
    if tag == "not":
        v = _evaluate(node[1], frame, expr)
        x = _boolean(v, expr, "not")
        return _V("bool", np.where(np.isnan(x), np.nan, 1.0 - x))
    if tag == "call":
        args = [_evaluate(a, frame, expr) for a in node[2]]
        return FUNCTIONS[node[1]][2](args, expr, node[1])
    op, left, right = node[1], node[2], node[3]
    a = _evaluate(left, frame, expr)
    b = _evaluate(right, frame, expr)
    if op in {"and", "or"}:
        x = _V("bool", _boolean(a, expr, op))
        y = _V("bool", _boolean(b, expr, op))
        return _and(x, y) if op == "and" else _or(x, y)
    if op in {"==", "!=", "<", "<=", ">", ">="}:
        if a.kind == "bool":
            a = _V("num", a.data)
        if b.kind == "bool":
            b = _V("num", b.data)
        return _compare(op, a, b, expr)
    return _arith(op, a, b, expr)
