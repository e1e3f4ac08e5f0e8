"""Tokeniser and hand-written recursive-descent parser of the expression language (no eval)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pipelines.errors import RecipeError
from pipelines.recipe._expr_values import FUNCTIONS, MAX_EXPONENT

MAX_LENGTH = 2000
MAX_DEPTH = 40

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
