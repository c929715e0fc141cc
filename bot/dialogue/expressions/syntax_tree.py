"""The syntax tree of Watson's expression language: one frozen dataclass per kind of node."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Literal:
    """A string, number, true, false or null."""

    pos: int
    value: object


@dataclass(frozen=True)
class ListLit:
    """`{1, 2}` (SpEL) or `[1, 2]` (JSON)."""

    pos: int
    items: tuple


@dataclass(frozen=True)
class MapLit:
    """`{'a': 1, b: 2}` or `{:}`."""

    pos: int
    keys: tuple
    values: tuple


@dataclass(frozen=True)
class Var:
    """`$name` or `$(name)`: a context variable; `text` set for `$name:value`."""

    pos: int
    name: str
    text: str | None = None


@dataclass(frozen=True)
class Entity:
    """`@name`: the first mention; `text` set for `@name:value` (any mention with that value)."""

    pos: int
    name: str
    text: str | None = None


@dataclass(frozen=True)
class Intent:
    """`#name`: the top intent is this one, at or above the threshold."""

    pos: int
    name: str


@dataclass(frozen=True)
class Name:
    """A bare name: a global (context, input, intents, entities, ...) or a filter's variable."""

    pos: int
    name: str


@dataclass(frozen=True)
class Call:
    """A function call: now(), today()."""

    pos: int
    name: str
    args: tuple


@dataclass(frozen=True)
class Member:
    """`target.name` (or `target?.name` when safe)."""

    pos: int
    target: object
    name: str
    safe: bool = False


@dataclass(frozen=True)
class MethodCall:
    """`target.name(args)` (or `?.` when safe)."""

    pos: int
    target: object
    name: str
    args: tuple
    safe: bool = False


@dataclass(frozen=True)
class Index:
    """`target[index]`."""

    pos: int
    target: object
    index: object


@dataclass(frozen=True)
class Project:
    """`target.![expr]` (select=False) or `target.?[expr]` (select=True)."""

    pos: int
    target: object
    expr: object
    select: bool = False


@dataclass(frozen=True)
class Unary:
    """`!x`, `-x`, `+x`."""

    pos: int
    op: str
    operand: object


@dataclass(frozen=True)
class Binary:
    """`a op b` for arithmetic, comparison and the short-circuit `&&` / `||`."""

    pos: int
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Ternary:
    """`cond ? then : other`."""

    pos: int
    cond: object
    then: object
    other: object


@dataclass(frozen=True)
class Elvis:
    """`value ?: fallback`."""

    pos: int
    value: object
    fallback: object


@dataclass(frozen=True)
class TypeRef:
    """`T(Math)`: a class for static calls."""

    pos: int
    name: str


@dataclass(frozen=True)
class New:
    """`new JsonArray()` and the like."""

    pos: int
    name: str
    args: tuple


def walk(node: object) -> Iterator[object]:
    """Every node of a tree, depth first, in source order."""
    yield node
    for value in vars(node).values():
        if isinstance(value, tuple):
            for item in value:
                if hasattr(item, "pos"):
                    yield from walk(item)
        elif hasattr(value, "pos") and not isinstance(value, (int, str)):
            yield from walk(value)
