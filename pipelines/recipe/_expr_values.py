"""Values and functions of the expression language: typed columns, three-valued logic, the
whitelisted functions. Evaluated column-wise with numpy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import RecipeError

MAX_EXPONENT = 64.0

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
