"""Tokenizer and recursive-descent parser for Watson's expression language (a SpEL subset plus shorthand).

Precedence, lowest first: `a ? b : c` and `a ?: b`; `||` `or`; `&&` `and`; comparisons (`==` `!=` `<` `>`
`<=` `>=`, `=` as `==`, the words eq ne lt gt le ge, `matches`); `+ -`; `* / %` (div, mod); unary `! not - +`;
postfix `.name`, `.method(...)`, `?.`, `[index]`, `.![projection]`, `.?[selection]`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bot.dialogue.expressions import syntax_tree as ast
from bot.dialogue.expressions.core import ExpressionError

# Words after `@entity.` that are members, not part of the entity's name (names may contain dots).
ENTITY_MEMBERS = frozenset({"value", "literal", "location", "confidence", "values", "groups", "entity",
                            "numeric_value", "metadata", "interpretation", "role", "alternatives"})
_OPS = (".![", ".?[", "&&", "||", "==", "!=", "<=", ">=", "?.", "?:", "<", ">", "!", "+", "-", "*", "/", "%",
        "?", ":", "(", ")", "[", "]", "{", "}", ",", ".", "=")
_CMP_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "matches": "matches"}
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"(\d+\.\d+|\d+)([eE][-+]?\d+)?([lLdDfF](?![A-Za-z0-9_]))?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VAR = re.compile(r"\$(?:\(([^)]*)\)|([A-Za-z_][A-Za-z0-9_]*))")
_ENTITY = re.compile(r"@([A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)")
_INTENT = re.compile(r"#([A-Za-z0-9_][A-Za-z0-9_.-]*)")
_SHORT_VALUE = re.compile(r":(?:\(([^)]*)\)|([^\s()&|!=<>,?'\"{}\[\]@$#:]+(?::\d+)*))")  # 12:00:00 too
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "'": "'", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Token:
    """One token: kind is num, str, name, var, entity, intent, op or end."""

    kind: str
    value: object
    pos: int
    extra: str | None = None  # the value of `$var:value` / `@entity:value`


def split_entity_name(source: str, start: int, dotted: str) -> str:
    """The entity name in `@a.b.literal`: dotted segments up to the first member word or method call."""
    segments = dotted.split(".")
    end = start + 1 + len(dotted)
    for index in range(1, len(segments)):
        last = index == len(segments) - 1
        if segments[index] in ENTITY_MEMBERS or (last and source[end:end + 1] == "("):
            return ".".join(segments[:index])
    return dotted


def _read_string(source: str, start: int) -> tuple[str, int]:
    """A quoted string: backslash escapes \\' \\" \\\\ \\n \\t \\r (others, e.g. regex \\d, stay), '' or ""."""
    quote, out, i = source[start], [], start + 1
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        elif char == quote:
            if source.startswith(quote * 2, i):  # SpEL doubles a quote inside a string
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise ExpressionError("unterminated string", start, source)


def _shorthand_value(source: str, end: int) -> tuple[str | None, int]:
    """The `:value` / `:(multi word value)` after `$var` or `@entity`, if any."""
    match = _SHORT_VALUE.match(source, end)
    if not match:
        return None, end
    text = match[1] if match[1] is not None else match[2]
    return text.strip(), match.end()


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens; raises ExpressionError on a character it cannot read."""
    tokens, i, n = [], 0, len(source)
    while i < n:
        space = _SPACE.match(source, i)
        if space:
            i = space.end()
            continue
        char = source[i]
        token, i = _next_token(source, i, char)
        tokens.append(token)
    tokens.append(Token("end", None, n))
    return tokens


def _next_token(source: str, i: int, char: str) -> tuple[Token, int]:
    """The token that starts at i, and where the next one starts."""
    if char in "'\"":
        text, end = _read_string(source, i)
        return Token("str", text, i), end
    if char.isdigit():
        match = _NUMBER.match(source, i)
        text = match[1] + (match[2] or "")
        value = int(text) if match[2] is None and "." not in text else float(text)
        if match[3] in ("d", "D", "f", "F"):
            value = float(value)
        return Token("num", value, i), match.end()
    if char == "$" and (match := _VAR.match(source, i)):
        name = match[1] if match[1] is not None else match[2]
        extra, end = _shorthand_value(source, match.end())
        return Token("var", name.strip(), i, extra), end
    if char == "@" and (match := _ENTITY.match(source, i)):
        name = split_entity_name(source, i, match[1])
        extra, end = (None, i + 1 + len(name))
        if name == match[1]:
            extra, end = _shorthand_value(source, end)
        return Token("entity", name, i, extra), end
    if char == "#" and (match := _INTENT.match(source, i)):
        name = match[1].rstrip(".")
        return Token("intent", name, i), i + 1 + len(name)
    if match := _NAME.match(source, i):
        return Token("name", match[0], i), match.end()
    for op in _OPS:
        if source.startswith(op, i):
            return Token("op", op, i), i + len(op)
    raise ExpressionError(f"unexpected character {char!r}", i, source)


def parse(source: str) -> object:
    """The syntax tree of an expression; raises ExpressionError for bad syntax."""
    if not source.strip():
        raise ExpressionError("empty expression", 0, source)
    try:
        return _Parser(source).parse()
    except RecursionError:
        raise ExpressionError("expression nested too deeply", 0, source) from None


parse_cached = functools.lru_cache(maxsize=2048)(parse)


class _Parser:
    """Recursive descent over the token list."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0

    # -- token helpers
    def peek(self, offset: int = 0) -> Token:
        """The token `offset` ahead, without taking it."""
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        """Take the current token."""
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def is_op(self, *ops: str) -> bool:
        """Whether the current token is one of these operators."""
        token = self.peek()
        return token.kind == "op" and token.value in ops

    def is_word(self, *words: str) -> bool:
        """Whether the current token is one of these words (any case)."""
        token = self.peek()
        return token.kind == "name" and str(token.value).lower() in words

    def expect_op(self, op: str) -> Token:
        """Take this operator, or fail."""
        if not self.is_op(op):
            self.fail(f"expected {op!r}")
        return self.take()

    def fail(self, what: str) -> None:
        """Raise an ExpressionError naming what was expected and what was found."""
        token = self.peek()
        found = "the end" if token.kind == "end" else repr(self.source[token.pos:token.pos + 12])
        raise ExpressionError(f"{what} but found {found}", token.pos, self.source)

    # -- grammar
    def parse(self) -> object:
        """The whole expression; nothing may follow it."""
        node = self.ternary()
        if self.peek().kind != "end":
            self.fail("expected an operator or the end")
        return node

    def ternary(self) -> object:
        """`a ? b : c`, `a ?: b` (right-associative), or a lower level."""
        cond = self.logic_or()
        pos = self.peek().pos
        if self.is_op("?:"):
            self.take()
            return ast.Elvis(pos, cond, self.ternary())
        if self.is_op("?"):
            self.take()
            then = self.ternary()
            self.expect_op(":")
            return ast.Ternary(pos, cond, then, self.ternary())
        return cond

    def logic_or(self) -> object:
        """`a || b`, `a or b`."""
        left = self.logic_and()
        while self.is_op("||") or self.is_word("or"):
            pos = self.take().pos
            left = ast.Binary(pos, "||", left, self.logic_and())
        return left

    def logic_and(self) -> object:
        """`a && b`, `a and b`."""
        left = self.comparison()
        while self.is_op("&&") or self.is_word("and"):
            pos = self.take().pos
            left = ast.Binary(pos, "&&", left, self.comparison())
        return left

    def comparison(self) -> object:
        """`a == b` and the other comparisons (word forms, `=`, `matches`)."""
        left = self.additive()
        while self.is_op("==", "!=", "<", ">", "<=", ">=", "=") or self.is_word(*_CMP_WORDS):
            token = self.take()
            op = "==" if token.value == "=" else _CMP_WORDS.get(str(token.value).lower(), token.value)
            left = ast.Binary(token.pos, op, left, self.additive())
        return left

    def additive(self) -> object:
        """`a + b`, `a - b`."""
        left = self.multiplicative()
        while self.is_op("+", "-"):
            token = self.take()
            left = ast.Binary(token.pos, token.value, left, self.multiplicative())
        return left

    def multiplicative(self) -> object:
        """`a * b`, `a / b`, `a % b`."""
        left = self.unary()
        while self.is_op("*", "/", "%") or self.is_word("div", "mod"):
            token = self.take()
            op = {"div": "/", "mod": "%"}.get(str(token.value).lower(), token.value)
            left = ast.Binary(token.pos, op, left, self.unary())
        return left

    def unary(self) -> object:
        """`!a`, `not a`, `-a`, `+a`, or a postfix expression."""
        if self.is_op("!", "-", "+") or self.is_word("not"):
            token = self.take()
            op = "!" if token.value in ("!",) or token.kind == "name" else token.value
            return ast.Unary(token.pos, op, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: object) -> object:
        """Members, method calls, indexes, projections and selections after a primary."""
        while True:
            token = self.peek()
            if token.kind != "op":
                return node
            if token.value in (".", "?."):
                self.take()
                node = self.member(node, token.value == "?.")
            elif token.value == "[":
                self.take()
                index = self.ternary()
                self.expect_op("]")
                node = ast.Index(token.pos, node, index)
            elif token.value in (".![", ".?["):
                self.take()
                expr = self.ternary()
                self.expect_op("]")
                node = ast.Project(token.pos, node, expr, token.value == ".?[")
            else:
                return node

    def member(self, target: object, safe: bool) -> object:
        """`.name` or `.name(args)` after a target."""
        token = self.peek()
        if token.kind != "name":
            self.fail("expected a property or method name")
        self.take()
        if self.is_op("("):
            return ast.MethodCall(token.pos, target, token.value, self.arguments(), safe)
        return ast.Member(token.pos, target, token.value, safe)

    def arguments(self, close: str = ")") -> tuple:
        """A bracketed, comma-separated list of expressions."""
        self.take()  # the opening bracket
        items = []
        if not self.is_op(close):
            items.append(self.ternary())
            while self.is_op(","):
                self.take()
                items.append(self.ternary())
        self.expect_op(close)
        return tuple(items)

    def primary(self) -> object:
        """A literal, shorthand, name, call, parenthesised expression or inline list/map."""
        token = self.peek()
        kind = token.kind
        if kind in ("num", "str"):
            self.take()
            return ast.Literal(token.pos, token.value)
        if kind == "var":
            self.take()
            return ast.Var(token.pos, token.value, token.extra)
        if kind == "entity":
            self.take()
            return ast.Entity(token.pos, token.value, token.extra)
        if kind == "intent":
            self.take()
            return ast.Intent(token.pos, token.value)
        if kind == "name":
            return self.word()
        if self.is_op("("):
            self.take()
            node = self.ternary()
            self.expect_op(")")
            return node
        if self.is_op("{"):
            return self.braces()
        if self.is_op("["):
            return ast.ListLit(token.pos, self.arguments("]"))
        self.fail("expected a value")

    def word(self) -> object:
        """A name: true/false/null, T(Class), new Class(...), a function call or a global."""
        token = self.take()
        name, lower = str(token.value), str(token.value).lower()
        if lower in ("true", "false", "null"):
            return ast.Literal(token.pos, {"true": True, "false": False, "null": None}[lower])
        if name == "T" and self.is_op("("):
            self.take()
            qualified = self.qualified_name()
            self.expect_op(")")
            return ast.TypeRef(token.pos, qualified)
        if lower == "new" and self.peek().kind == "name":
            qualified = self.qualified_name()
            if not self.is_op("("):
                self.fail("expected '('")
            return ast.New(token.pos, qualified, self.arguments())
        if self.is_op("("):
            return ast.Call(token.pos, name, self.arguments())
        return ast.Name(token.pos, name)

    def qualified_name(self) -> str:
        """`java.lang.String` and the like."""
        parts = []
        while True:
            if self.peek().kind != "name":
                self.fail("expected a class name")
            parts.append(str(self.take().value))
            if not self.is_op("."):
                return ".".join(parts)
            self.take()

    def braces(self) -> object:
        """`{1, 2}` (list), `{'a': 1}` (map), `{}` (empty list) or `{:}` (empty map)."""
        pos = self.take().pos
        if self.is_op("}"):
            self.take()
            return ast.ListLit(pos, ())
        if self.is_op(":"):
            self.take()
            self.expect_op("}")
            return ast.MapLit(pos, (), ())
        first = self.ternary()
        if not self.is_op(":"):
            items = [first]
            while self.is_op(","):
                self.take()
                items.append(self.ternary())
            self.expect_op("}")
            return ast.ListLit(pos, tuple(items))
        keys, values = [], []
        key = first
        while True:
            self.expect_op(":")
            keys.append(self.map_key(key))
            values.append(self.ternary())
            if not self.is_op(","):
                break
            self.take()
            key = self.ternary()
        self.expect_op("}")
        return ast.MapLit(pos, tuple(keys), tuple(values))

    def map_key(self, node: object) -> str:
        """A map key: a bare name or a literal."""
        if isinstance(node, ast.Name):
            return node.name
        if isinstance(node, ast.Literal) and node.value is not None:
            return str(node.value)
        raise ExpressionError("a map key must be a name or a literal", node.pos, self.source)
