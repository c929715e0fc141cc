"""Dialog node conditions, Watson Assistant style.

    #intent                 the turn's intent is `intent`
    @entity  @entity:value  an entity was found (its first value), or found with that value;
                            @entity:(two words) for a value with spaces
    $variable               a context variable (None when unset)
    'text' "text" 12 3.5    literals; also true, false, null
    == != > < >= <=         comparisons;  !x  x && y  x || y  ( )
    anything_else           always true (the fallback node)
    conversation_start      true on the first turn of a conversation
    welcome                 true when the conversation opens, before the reader says anything

`parse_condition` checks the syntax once (at load); `Condition.evaluate(turn)` runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message says where."""


class TurnFacts(Protocol):
    """What a condition can look at."""

    def intent_is(self, name: str) -> bool: ...
    def entity_value(self, name: str) -> Any: ...
    def entity_has(self, name: str, value: str) -> bool: ...
    def variable(self, name: str) -> Any: ...
    def flag(self, name: str) -> bool: ...


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<intent>\#[\w-]+)
    | (?P<entity>@[\w-]+(?::(?:\([^)]*\)|[\w.-]+))?)
    | (?P<variable>\$[\w.]+)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>&&|\|\||==|!=|>=|<=|>|<|!|\(|\))
    | (?P<word>[A-Za-z_]+)
    )""", re.X)
_WORDS = {"true": True, "false": False, "null": None}
_FLAGS = {"anything_else", "conversation_start", "welcome"}


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        m = _TOKEN.match(text, position)
        if not m or m.end() == position:
            raise ConditionError(f"cannot read {text[position:].strip()!r} in condition {text!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        position = m.end()
    return tokens


Node = Callable[[TurnFacts], Any]


@dataclass
class Condition:
    source: str
    evaluate_fn: Node

    def evaluate(self, facts: TurnFacts) -> bool:
        return bool(self.evaluate_fn(facts))

    def references(self) -> list[str]:
        """The entity names this condition tests, in order (slots take their value from these)."""
        return [token[1:].split(":")[0] for kind, token in _tokens(self.source) if kind == "entity"]


def parse_condition(text: str) -> Condition:
    """Compile a condition; a syntax error raises ConditionError naming the problem."""
    tokens = _tokens(str(text))
    if not tokens:
        raise ConditionError("empty condition")
    parser = _Parser(tokens, str(text))
    node = parser.expression()
    if parser.position != len(tokens):
        raise ConditionError(f"unexpected {tokens[parser.position][1]!r} in condition {text!r}")
    return Condition(str(text), node)


class _Parser:
    """Recursive descent: or -> and -> not -> comparison -> atom."""

    def __init__(self, tokens: list[tuple[str, str]], source: str):
        self.tokens, self.source, self.position = tokens, source, 0

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ConditionError(f"condition {self.source!r} ends too early")
        self.position += 1
        return self.tokens[self.position - 1]

    def expression(self) -> Node:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = (lambda a, b: lambda f: a(f) or b(f))(left, right)
        return left

    def _and(self) -> Node:
        left = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            left = (lambda a, b: lambda f: a(f) and b(f))(left, right)
        return left

    def _not(self) -> Node:
        if self._peek() == "!":
            self._take()
            inner = self._not()
            return lambda f: not inner(f)
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._atom()
        op = self._peek()
        if op in ("==", "!=", ">", "<", ">=", "<="):
            self._take()
            right = self._atom()
            return lambda f: _compare(op, left(f), right(f))
        return left

    def _atom(self) -> Node:
        kind, token = self._take()
        if token == "(":
            inner = self.expression()
            if self._take()[1] != ")":
                raise ConditionError(f"missing ')' in condition {self.source!r}")
            return inner
        if kind == "intent":
            return lambda f: f.intent_is(token[1:])
        if kind == "entity":
            name, _, value = token[1:].partition(":")
            if value:
                value = value.strip("()")
                return lambda f: f.entity_has(name, value)
            return lambda f: f.entity_value(name)
        if kind == "variable":
            return lambda f: f.variable(token[1:])
        if kind == "string":
            return lambda f: token[1:-1]
        if kind == "number":
            number = float(token)
            return lambda f: number
        if kind == "word" and token in _WORDS:
            return lambda f: _WORDS[token]
        if kind == "word" and token in _FLAGS:
            return lambda f: f.flag(token)
        raise ConditionError(f"unexpected {token!r} in condition {self.source!r}")


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("==", "!="):
        same = _loose(left) == _loose(right)
        return same if op == "==" else not same
    try:
        a, b = float(left), float(right)
    except (TypeError, ValueError):
        return False
    return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]


def _loose(value: Any) -> Any:
    """Numbers compare as numbers, text case-insensitively."""
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value).lower()
