"""Shared pieces of Watson's expression language: the error, the scope, how values look and convert.

Values are plain JSON-like Python values (None, bool, int, float, str, list, dict). Three wrappers keep
Watson's conveniences: `MentionValue` (an entity mention, a JSON object that stands for its value in
comparisons and output), `IntentValue` (an intent object that stands for its name) and the lists
`EntityList` / `IntentList` (`entities`, `intents`), which read properties from their first item.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass, field


class ExpressionError(ValueError):
    """A syntax or runtime error in a Watson expression; the message says what and at which character."""

    def __init__(self, message: str, position: int | None = None, source: str | None = None) -> None:
        if position is not None:
            message = f"{message} at character {position + 1}"
        if source is not None:
            shown = source if len(source) <= 160 else source[:157] + "..."
            message = f"{message} in {shown!r}"
        super().__init__(message)
        self.position = position
        self.source = source


@dataclass
class Mention:
    """One entity found in the input."""

    entity: str
    value: object
    literal: str = ""
    start: int = 0
    end: int = 0
    confidence: float = 1.0
    groups: list[str] = field(default_factory=list)  # pattern entities' capture groups


@dataclass
class Scope:
    """What an expression can see; evaluating never mutates any of it."""

    context: dict  # context variables
    input_text: str = ""
    entities: list[Mention] = field(default_factory=list)
    intents: list[tuple[str, float]] = field(default_factory=list)  # best first
    now: datetime.datetime | None = None  # None = the real clock (UTC, as Watson outside its UI)
    flags: dict[str, bool] = field(default_factory=dict)  # anything_else, conversation_start, welcome, irrelevant
    intent_threshold: float = 0.2  # Watson's default: #intent holds only at or above it
    output: dict = field(default_factory=dict)  # the `output` object, for expressions that read it


class MentionValue(dict):
    """An entity mention as expressions see it: a JSON object that stands for its value."""

    def __init__(self, mention: Mention, all_values: list | None = None) -> None:
        super().__init__(entity=mention.entity, location=[mention.start, mention.end], value=mention.value,
                         confidence=mention.confidence, literal=mention.literal, groups=list(mention.groups))
        self.all_values = list(all_values) if all_values is not None else [mention.value]


class IntentValue(dict):
    """An intent as expressions see it: {"intent", "confidence"}, equal to its name in comparisons."""

    def __init__(self, name: str, confidence: float) -> None:
        super().__init__(intent=name, confidence=confidence)


class EntityList(list):
    """`entities` (filtered=False) or `entities['name']` (filtered=True); reads properties from item 0."""

    def __init__(self, items: list | tuple = (), filtered: bool = False) -> None:
        super().__init__(items)
        self.filtered = filtered


class IntentList(list):
    """`intents`: the intents, best first; reads properties from the first one."""


class JavaType:
    """`T(Math)`, `T(String)`...: a class whose static methods an expression may call."""

    def __init__(self, name: str) -> None:
        self.name = name.rsplit(".", 1)[-1]

    def __repr__(self) -> str:
        return f"T({self.name})"


def plain(value: object) -> object:
    """The value a wrapper stands for: a mention's value, an intent's name; anything else as is."""
    if isinstance(value, MentionValue):
        return value.get("value")
    if isinstance(value, IntentValue):
        return value.get("intent")
    return value


def export(value: object, top: bool = True) -> object:
    """A deep, plain JSON copy of a value (a top-level mention becomes its value), safe to store."""
    if top and isinstance(value, MentionValue):
        return export(value.get("value"), False)
    if isinstance(value, dict):
        return {str(k): export(v, False) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [export(v, False) for v in value]
    if isinstance(value, JavaType):
        return repr(value)
    return value


def truthy(value: object) -> bool:
    """Whether a value holds in a condition: null, false, 0, "" and empty lists/objects do not."""
    # The docs name null/false; "" and 0 follow Watson's known behaviour (a bare `@sys-number` is false for
    # the number 0). Empty lists and objects are false too (docs silent): `entities['x']` with no mention
    # of x is then false, as it is in Watson, where it is null.
    value = plain(value)
    if value is None or value is False:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    if isinstance(value, (str, list, dict, tuple)):
        return len(value) > 0
    return True


_NUMERIC = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")


def as_number(value: object) -> int | float | None:
    """A number, or a string that is one, as a number; None for anything else (booleans included)."""
    value = plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        text = value.strip()
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        return float(text)
    return None


def tidy_number(value: int | float) -> int | float:
    """A float that is a whole number (and not huge) as an int; other numbers unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def format_number(value: int | float) -> str:
    """A number as Watson shows it: whole numbers without a trailing ".0"."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    value = tidy_number(value)
    return str(value) if isinstance(value, int) else repr(value)


def _json_ready(value: object) -> object:
    """A plain copy with whole floats as ints, for JSON text."""
    value = export(value, False)
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return tidy_number(value)
    return value


def to_json_text(value: object) -> str:
    """Compact JSON text of a value (lists and objects in output text look like this)."""
    return json.dumps(_json_ready(value), ensure_ascii=False, separators=(",", ":"), default=str)


def to_text(value: object) -> str:
    """A value as output text: strings as is, null as "", numbers without ".0", lists/objects as JSON."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        return to_json_text(value)
    return str(value)
