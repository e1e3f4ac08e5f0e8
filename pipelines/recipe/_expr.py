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

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import RecipeError

__all__ = ["Expression", "parse_expression", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "FUNCTIONS"]

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_EXPONENT = 64.0

_KEYWORDS = {"and", "or", "not", "true", "false", "null"}
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<quoted>`[^`]+`)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|==|!=|<=|>=|[-+*/%^<>(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    type: str
    text: str
    pos: int


def _tokenise(text: str, source: str) -> list[_Tok]:
    if len(text) > MAX_LENGTH:
        raise RecipeError("recipe.expr_too_long", expression=source[:60] + "...", limit=MAX_LENGTH)
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise RecipeError("recipe.expr_unexpected", expression=source, position=pos + 1,
                              found=text[pos])
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


# A node is a tuple: ("num", float) | ("str", str) | ("bool", bool) | ("null",) | ("col", name)
# | ("call", fname, args) | ("bin", op, left, right) | ("neg", x) | ("not", x)
Node = tuple


class _Parser:
    def __init__(self, text: str) -> None:
        self.source = text
        self.toks = _tokenise(text, text)
        self.i = 0
        self.depth = 0

    # -- helpers
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok.type == "name" and tok.text.lower() == word

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            self.unexpected(tok, expected=text)

    def unexpected(self, tok: _Tok, *, expected: str = "") -> None:
        raise RecipeError("recipe.expr_syntax", expression=self.source, position=tok.pos + 1,
                          found=tok.text or "end of text", expected=expected or "a value")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RecipeError("recipe.expr_too_deep", expression=self.source[:60], limit=MAX_DEPTH)

    # -- grammar
    def parse(self) -> Node:
        node = self.or_()
        tok = self.peek()
        if tok.type != "end":
            self.unexpected(tok, expected="an operator or the end")
        return node

    def or_(self) -> Node:
        self.enter()
        node = self.and_()
        while self.is_word("or"):
            self.take()
            node = ("bin", "or", node, self.and_())
        self.depth -= 1
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.is_word("and"):
            self.take()
            node = ("bin", "and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.is_word("not"):
            self.take()
            self.enter()
            node = ("not", self.not_())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        tok = self.peek()
        if tok.type == "op" and tok.text in {"==", "!=", "<", "<=", ">", ">="}:
            self.take()
            node = ("bin", tok.text, node, self.additive())
            nxt = self.peek()
            if nxt.type == "op" and nxt.text in {"==", "!=", "<", "<=", ">", ">="}:
                self.unexpected(nxt, expected="'and' between two comparisons")
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.peek().type == "op" and self.peek().text in {"+", "-"}:
            op = self.take().text
            node = ("bin", op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek().type == "op" and self.peek().text in {"*", "/", "%"}:
            op = self.take().text
            node = ("bin", op, node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok.type == "op" and tok.text in {"-", "+"}:
            self.take()
            self.enter()
            inner = self.unary()
            self.depth -= 1
            return ("neg", inner) if tok.text == "-" else inner
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        tok = self.peek()
        if tok.type == "op" and tok.text in {"^", "**"}:
            self.take()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            const = _constant(exponent)
            if const is not None and abs(const) > MAX_EXPONENT:
                raise RecipeError("recipe.expr_exponent_too_large", expression=self.source,
                                  exponent=const, limit=MAX_EXPONENT)
            return ("bin", "^", base, exponent)
        return base

    def atom(self) -> Node:
        tok = self.take()
        if tok.type == "num":
            value = float(tok.text)
            if not math.isfinite(value):
                raise RecipeError("recipe.expr_number_too_large", expression=self.source,
                                  position=tok.pos + 1)
            return ("num", value)
        if tok.type == "str":
            return ("str", _unescape(tok.text[1:-1]))
        if tok.type == "quoted":
            return ("col", tok.text[1:-1])
        if tok.type == "name":
            word = tok.text
            nxt = self.peek()
            if nxt.type == "op" and nxt.text == "(":
                fname = word.lower()
                if fname not in FUNCTIONS:
                    raise RecipeError("recipe.expr_unknown_function", expression=self.source,
                                      name=word, allowed=sorted(FUNCTIONS))
                self.take()
                self.enter()
                args: list[Node] = []
                if not (self.peek().type == "op" and self.peek().text == ")"):
                    args.append(self.or_())
                    while self.peek().type == "op" and self.peek().text == ",":
                        self.take()
                        args.append(self.or_())
                self.expect(")")
                self.depth -= 1
                lo, hi, _ = FUNCTIONS[fname]
                if len(args) < lo or (hi is not None and len(args) > hi):
                    raise RecipeError("recipe.expr_arity", expression=self.source, name=fname,
                                      given=len(args), minimum=lo, maximum=hi if hi is not None else "any")
                return ("call", fname, tuple(args))
            low = word.lower()
            if low in {"true", "false"}:
                return ("bool", low == "true")
            if low == "null":
                return ("null",)
            if low in _KEYWORDS:
                self.unexpected(tok)
            return ("col", word)
        if tok.type == "op" and tok.text == "(":
            self.enter()
            node = self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        self.unexpected(tok)
        raise AssertionError  # unreachable


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", r"\1", body)


def _constant(node: Node) -> float | None:
    if node[0] == "num":
        return node[1]
    if node[0] == "neg":
        inner = _constant(node[1])
        return None if inner is None else -inner
    return None


# -- values -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _V:
    """A typed column of values: ``num`` and ``bool`` are float arrays (bool as 0/1, NaN = missing),
    ``str`` an object array with None for missing, ``date`` datetime64[ns] with NaT."""

    kind: str
    data: np.ndarray


def _num(v: _V, expr: str, where: str) -> np.ndarray:
    if v.kind in {"num", "bool"}:
        return v.data
    raise RecipeError("recipe.expr_type", expression=expr, operation=where, actual=_KIND_NAMES[v.kind],
                      expected="number")


_KIND_NAMES = {"num": "number", "bool": "true/false", "str": "text", "date": "date", "null": "empty"}


def _boolean(v: _V, expr: str, where: str) -> np.ndarray:
    if v.kind == "bool":
        return v.data
    raise RecipeError("recipe.expr_type", expression=expr, operation=where,
                      actual=_KIND_NAMES[v.kind], expected="true/false")


def _from_column(series: pd.Series) -> _V:
    if pd.api.types.is_bool_dtype(series.dtype):
        data = series.astype("float64").to_numpy()
        return _V("bool", data)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _V("num", series.astype("float64").to_numpy(dtype="float64", na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _V("date", series.to_numpy(dtype="datetime64[ns]"))
    values = series.astype("object").to_numpy()
    mask = pd.isna(series).to_numpy()
    out = np.array([None if m else str(v) for v, m in zip(values, mask)], dtype=object)
    return _V("str", out)


def _isnan(v: _V) -> np.ndarray:
    if v.kind in {"num", "bool"}:
        return np.isnan(v.data)
    if v.kind == "date":
        return np.isnat(v.data)
    if v.kind == "null":
        return np.ones(len(v.data), dtype=bool)
    return np.array([x is None for x in v.data], dtype=bool)


def _bool_result(values: np.ndarray, missing: np.ndarray) -> _V:
    out = values.astype("float64")
    out[missing] = np.nan
    return _V("bool", out)


def _compare(op: str, a: _V, b: _V, expr: str) -> _V:
    missing = _isnan(a) | _isnan(b)
    if a.kind == "null" or b.kind == "null":
        raise RecipeError("recipe.expr_null_compare", expression=expr)
    kinds = {a.kind, b.kind}
    if kinds <= {"num", "bool"}:
        x, y = a.data, b.data
    elif kinds == {"str"}:
        if op not in {"==", "!="}:
            x = np.array(["" if v is None else v for v in a.data], dtype=object)
            y = np.array(["" if v is None else v for v in b.data], dtype=object)
        else:
            x, y = a.data, b.data
    elif kinds == {"date"}:
        x, y = a.data, b.data
    else:
        raise RecipeError("recipe.expr_type", expression=expr, operation=op,
                          actual=f"{_KIND_NAMES[a.kind]} {op} {_KIND_NAMES[b.kind]}",
                          expected="two values of the same type")
    with np.errstate(invalid="ignore"):
        res = {
            "==": lambda: x == y, "!=": lambda: x != y, "<": lambda: x < y,
            "<=": lambda: x <= y, ">": lambda: x > y, ">=": lambda: x >= y,
        }[op]()
    return _bool_result(np.asarray(res, dtype=bool), missing)


def _arith(op: str, a: _V, b: _V, expr: str) -> _V:
    if op == "+" and a.kind == "str" and b.kind == "str":
        missing = _isnan(a) | _isnan(b)
        data = np.array([None if m else x + y for x, y, m in zip(a.data, b.data, missing)], dtype=object)
        return _V("str", data)
    x, y = _num(a, expr, op), _num(b, expr, op)
    with np.errstate(all="ignore"):
        if op == "+":
            res = x + y
        elif op == "-":
            res = x - y
        elif op == "*":
            res = x * y
        elif op == "/":
            res = np.where(y == 0, np.nan, x / np.where(y == 0, 1.0, y))
        elif op == "%":
            res = np.where(y == 0, np.nan, np.mod(x, np.where(y == 0, 1.0, y)))
        else:  # power
            finite = y[~np.isnan(y)]
            if finite.size and np.abs(finite).max() > MAX_EXPONENT:
                raise RecipeError("recipe.expr_exponent_too_large", expression=expr,
                                  exponent=float(np.abs(finite).max()), limit=MAX_EXPONENT)
            res = np.power(x, y)
    return _V("num", _finite(res))


def _finite(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype="float64").copy()
    out[~np.isfinite(out)] = np.nan
    return out


# -- functions -----------------------------------------------------------------------------------

def _f_unary(fn: Callable[[np.ndarray], np.ndarray], domain: Callable[[np.ndarray], np.ndarray] | None = None):
    def run(args: list[_V], expr: str, name: str) -> _V:
        x = _num(args[0], expr, name)
        with np.errstate(all="ignore"):
            if domain is not None:
                ok = domain(x)
                res = np.where(ok, fn(np.where(ok, x, 1.0)), np.nan)
            else:
                res = fn(x)
        return _V("num", _finite(res))
    return run


def _f_round(args: list[_V], expr: str, name: str) -> _V:
    x = _num(args[0], expr, name)
    digits = 0
    if len(args) > 1:
        d = _num(args[1], expr, name)
        vals = np.unique(d[~np.isnan(d)])
        if vals.size != 1 or vals[0] != int(vals[0]) or abs(vals[0]) > 15:
            raise RecipeError("recipe.expr_type", expression=expr, operation=name,
                              actual="digits", expected="a whole number between -15 and 15")
        digits = int(vals[0])
    return _V("num", np.round(x, digits))


def _f_minmax(pick: Callable[..., np.ndarray]):
    def run(args: list[_V], expr: str, name: str) -> _V:
        cols = np.vstack([_num(a, expr, name) for a in args])
        all_nan = np.all(np.isnan(cols), axis=0)
        with np.errstate(all="ignore"):
            filled = np.where(np.isnan(cols), np.nan, cols)
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = pick(filled, axis=0)
        res[all_nan] = np.nan
        return _V("num", res)
    return run


def _f_if(args: list[_V], expr: str, name: str) -> _V:
    cond = _boolean(args[0], expr, "if")
    a, b = args[1], args[2]
    if a.kind == "null":
        a = _V(b.kind, _null_like(b))
    if b.kind == "null":
        b = _V(a.kind, _null_like(a))
    kind_a = "num" if a.kind == "bool" else a.kind
    kind_b = "num" if b.kind == "bool" else b.kind
    if kind_a != kind_b:
        raise RecipeError("recipe.expr_type", expression=expr, operation="if",
                          actual=f"{_KIND_NAMES[a.kind]} / {_KIND_NAMES[b.kind]}",
                          expected="both results of the same type")
    out_kind = a.kind if a.kind == b.kind else "num"
    if a.kind == "str":
        data = np.array([x if c == 1 else (y if c == 0 else None)
                         for c, x, y in zip(cond, a.data, b.data)], dtype=object)
    elif a.kind == "date":
        data = np.where(cond == 1, a.data, np.where(cond == 0, b.data, np.datetime64("NaT")))
    else:
        data = np.where(cond == 1, a.data, np.where(cond == 0, b.data, np.nan)).astype("float64")
    return _V(out_kind, data)


def _null_like(v: _V) -> np.ndarray:
    n = len(v.data)
    if v.kind == "str":
        return np.array([None] * n, dtype=object)
    if v.kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, np.nan)


def _f_isnull(args: list[_V], expr: str, name: str) -> _V:
    miss = _isnan(args[0])
    return _V("bool", (miss if name == "isnull" else ~miss).astype("float64"))


def _f_coalesce(args: list[_V], expr: str, name: str) -> _V:
    first = args[0]
    for other in args[1:]:
        if {first.kind, other.kind} - {"num", "bool"} and first.kind != other.kind:
            raise RecipeError("recipe.expr_type", expression=expr, operation=name,
                              actual=f"{_KIND_NAMES[first.kind]} / {_KIND_NAMES[other.kind]}",
                              expected="values of the same type")
        miss = _isnan(first)
        data = first.data.copy()
        data[miss] = other.data[miss]
        first = _V(first.kind if first.kind == other.kind else "num", data)
    return first


def _as_date(v: _V, expr: str, name: str) -> np.ndarray:
    if v.kind == "date":
        return v.data
    if v.kind == "str":
        parsed = pd.to_datetime(pd.Series(v.data, dtype=object), errors="coerce", format="mixed")
        return parsed.to_numpy(dtype="datetime64[ns]")
    raise RecipeError("recipe.expr_type", expression=expr, operation=name,
                      actual=_KIND_NAMES[v.kind], expected="date")


def _f_date(args: list[_V], expr: str, name: str) -> _V:
    return _V("date", _as_date(args[0], expr, name))


def _f_days_between(args: list[_V], expr: str, name: str) -> _V:
    start = _as_date(args[0], expr, name)
    end = _as_date(args[1], expr, name)
    delta = (end - start).astype("timedelta64[s]").astype("float64") / 86400.0
    delta[np.isnat(start) | np.isnat(end)] = np.nan
    return _V("num", delta)


def _f_year(args: list[_V], expr: str, name: str) -> _V:
    d = _as_date(args[0], expr, name)
    years = pd.DatetimeIndex(d).year.to_numpy(dtype="float64", na_value=np.nan)
    return _V("num", years)


def _f_between(args: list[_V], expr: str, name: str) -> _V:
    lo = _compare(">=", args[0], args[1], expr)
    hi = _compare("<=", args[0], args[2], expr)
    return _and(lo, hi)


def _f_isin(args: list[_V], expr: str, name: str) -> _V:
    result: _V | None = None
    for option in args[1:]:
        eq = _compare("==", args[0], option, expr)
        result = eq if result is None else _or(result, eq)
    assert result is not None
    return result


def _and(a: _V, b: _V) -> _V:
    x, y = a.data, b.data
    res = np.where((x == 0) | (y == 0), 0.0, np.where(np.isnan(x) | np.isnan(y), np.nan, 1.0))
    return _V("bool", res)


def _or(a: _V, b: _V) -> _V:
    x, y = a.data, b.data
    res = np.where((x == 1) | (y == 1), 1.0, np.where(np.isnan(x) | np.isnan(y), np.nan, 0.0))
    return _V("bool", res)


# name -> (min args, max args or None, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[[list[_V], str, str], _V]]] = {
    "log": (1, 1, _f_unary(np.log, lambda x: x > 0)),
    "ln": (1, 1, _f_unary(np.log, lambda x: x > 0)),
    "log10": (1, 1, _f_unary(np.log10, lambda x: x > 0)),
    "log2": (1, 1, _f_unary(np.log2, lambda x: x > 0)),
    "exp": (1, 1, _f_unary(lambda x: np.exp(np.clip(x, -700, 700)))),
    "sqrt": (1, 1, _f_unary(np.sqrt, lambda x: x >= 0)),
    "abs": (1, 1, _f_unary(np.abs)),
    "round": (1, 2, _f_round),
    "min": (2, None, _f_minmax(np.nanmin)),
    "max": (2, None, _f_minmax(np.nanmax)),
    "if": (3, 3, _f_if),
    "isnull": (1, 1, _f_isnull),
    "notnull": (1, 1, _f_isnull),
    "coalesce": (2, None, _f_coalesce),
    "date": (1, 1, _f_date),
    "days_between": (2, 2, _f_days_between),
    "year": (1, 1, _f_year),
    "between": (3, 3, _f_between),
    "isin": (2, None, _f_isin),
}


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
