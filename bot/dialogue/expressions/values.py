"""Methods that expressions call on values: strings (dates and times included), arrays, objects, numbers.

Watson's methods mutate and return their array (`append`, `remove`, ...); here they return a new value and
never change the context they read, so a context update such as `<? $list.append('x') ?>` stores the result.
Regular expressions are Python's `re` (Watson uses RE2; the common syntax is the same).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable

from bot.dialogue.expressions import dates
from bot.dialogue.expressions.core import (EntityList, ExpressionError, IntentList, JavaType, MentionValue, as_number,
                                           export, plain, to_json_text, to_text)
from bot.dialogue.expressions.java import call_static


def text_arg(value: object) -> str:
    """An argument used as text."""
    value = plain(value)
    return value if isinstance(value, str) else to_text(value)


def int_arg(value: object) -> int:
    """An argument used as a whole number."""
    return int(_number_arg(value))


def _number_arg(value: object) -> int | float:
    number = as_number(value)
    if number is None:
        raise ExpressionError(f"expected a number, not {plain(value)!r}")
    return number


def regex(pattern: object) -> re.Pattern:
    """A compiled regular expression; a bad one is an ExpressionError."""
    try:
        return re.compile(text_arg(pattern))
    except re.error as err:
        raise ExpressionError(f"bad regular expression {text_arg(pattern)!r}: {err}") from None


def equal(left: object, right: object) -> bool:
    """`==`: numbers (or numeric strings against numbers) by value, strings exactly, null only to null."""
    a, b = plain(left), plain(right)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na == nb
    return export(a) == export(b)


def _same_value(item: object, wanted: object) -> bool:
    """Array membership: a mention matches its value case-insensitively (as @entity:value does)."""
    if isinstance(item, MentionValue):
        return shorthand_match(item.get("value"), text_arg(wanted), ignore_case=True)
    return equal(item, wanted)


def shorthand_match(actual: object, text: str, ignore_case: bool) -> bool:
    """`$var:value` / `@entity:value`: the value, written as text, is `text` (numbers by value)."""
    actual = plain(actual)
    if actual is None:
        return False
    if isinstance(actual, bool):
        return text.lower() == ("true" if actual else "false")
    number, wanted = as_number(actual), as_number(text)
    if number is not None and wanted is not None and not isinstance(actual, str):
        return number == wanted
    actual_text = text_arg(actual)
    return actual_text.lower() == text.lower() if ignore_case else actual_text == text


def _java_replacement(text: str) -> str:
    """Java's replaceAll replacement ($1, \\$) as Python's (\\g<1>, $)."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1].replace("\\", "\\\\"))
            i += 2
        elif char == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            out.append(f"\\g<{text[i + 1]}>")
            i += 2
        else:
            out.append("\\\\" if char == "\\" else char)
            i += 1
    return "".join(out)


def _extract(text: str, pattern: object, group: object = 0) -> str:
    match = regex(pattern).search(text)
    if not match:
        return ""
    return match.group(int_arg(group)) or ""


def _get_match(text: str, pattern: object, index: object) -> str:
    matches = [m.group(0) for m in regex(pattern).finditer(text)]
    position = int_arg(index)
    return matches[position] if 0 <= position < len(matches) else ""


def _split(text: str, pattern: object) -> list[str]:
    parts = regex(pattern).split(text) if text else [""]
    while len(parts) > 1 and parts[-1] == "":  # Java drops trailing empty strings
        parts.pop()
    return parts


def _substring(text: str, begin: object, end: object = None) -> str:
    start, stop = int_arg(begin), len(text) if end is None else int_arg(end)
    if not 0 <= start <= stop <= len(text):
        raise ExpressionError(f"substring({start}, {stop}) is out of range for a string of {len(text)}")
    return text[start:stop]


def _to_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as err:
        raise ExpressionError(f"toJson: not JSON: {err}") from None


_STRING: dict[str, Callable] = {
    "append": lambda s, *a: s + "".join(text_arg(x) for x in a),
    "concat": lambda s, x: s + text_arg(x),
    "contains": lambda s, x: text_arg(x) in s,
    "endsWith": lambda s, x: s.endswith(text_arg(x)),
    "startsWith": lambda s, x: s.startswith(text_arg(x)),
    "equals": lambda s, x: plain(x) == s,
    "equalsIgnoreCase": lambda s, x: plain(x) is not None and s.lower() == text_arg(x).lower(),
    "extract": _extract,
    "find": lambda s, r: regex(r).search(s) is not None,
    "getMatch": _get_match,
    "matches": lambda s, r: regex(r).fullmatch(s) is not None,
    "indexOf": lambda s, x, start=0: s.find(text_arg(x), int_arg(start)),
    "lastIndexOf": lambda s, x: s.rfind(text_arg(x)),
    "isEmpty": lambda s: s == "",
    "isBlank": lambda s: s.strip() == "",
    "length": len,
    "charAt": lambda s, i: s[int_arg(i)] if 0 <= int_arg(i) < len(s) else None,
    "replace": lambda s, a, b: s.replace(text_arg(a), text_arg(b)),
    "replaceAll": lambda s, r, b: regex(r).sub(_java_replacement(text_arg(b)), s),
    "replaceFirst": lambda s, r, b: regex(r).sub(_java_replacement(text_arg(b)), s, count=1),
    "split": _split,
    "substring": _substring,
    "toLowerCase": str.lower,
    "toUpperCase": str.upper,
    "trim": str.strip,
    "toJson": _to_json,
    "reformatDateTime": dates.reformat,
    **{name: (lambda s, x, _m=name: dates.compare(s, x, _m))
       for name in ("before", "after", "sameMoment", "sameOrAfter", "sameOrBefore")},
    **{f"{sign}{unit}": (lambda s, n, _m=f"{sign}{unit}": dates.shift(s, _m, n))
       for sign in ("plus", "minus") for unit in ("Days", "Months", "Years", "Hours", "Minutes", "Seconds")},
}


def _contains_intent(items: list, name: object, minimum: object, top: object = -1) -> bool:
    limit = int_arg(top)
    for position, item in enumerate(items):
        if isinstance(item, dict) and item.get("intent") == plain(name):
            score = as_number(item.get("confidence")) or 0
            return score >= (as_number(minimum) or 0) and (limit < 0 or position < limit)
    return False


def _index_of(items: list, wanted: object) -> int:
    return next((i for i, item in enumerate(items) if equal(item, wanted)), -1)


def _without(items: list, position: object) -> list:
    index = int_arg(position)
    return [x for i, x in enumerate(items) if i != index]


def _without_value(items: list, wanted: object) -> list:
    index = _index_of(items, wanted)
    return [x for i, x in enumerate(items) if i != index]


def _set(items: list, position: object, value: object) -> list:
    index = int_arg(position)
    if not 0 <= index < len(items):
        raise ExpressionError(f"set({index}): no such position in an array of {len(items)}")
    return [plain(value) if i == index else x for i, x in enumerate(items)]


def _fill(template: object, item: object, retain: bool) -> object:
    """joinToArray: %e.property% in a string (or in an object's / array's strings) replaced by item values."""
    if isinstance(template, dict):
        return {k: _fill(v, item, retain) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, item, retain) for v in template]
    text = text_arg(template)

    def lookup(path: str) -> object:
        value = item
        for part in path.split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    whole = re.fullmatch(r"%(e(?:\.\w+)*)%", text)
    if whole and retain:
        return export(lookup(whole[1]))
    return re.sub(r"%(e(?:\.\w+)*)%", lambda m: to_text(lookup(m[1])), text)


_ARRAY: dict[str, Callable] = {
    "append": lambda a, *x: list(a) + [export(v) for v in x],
    "add": lambda a, *x: list(a) + [export(v) for v in x],
    "addAll": lambda a, other: list(a) + list(export(other) or []),
    "clear": lambda a: [],
    "contains": lambda a, x: any(_same_value(item, x) for item in a),
    "containsIgnoreCase": lambda a, x: any(text_arg(item).lower() == text_arg(x).lower() for item in a),
    "containsIntent": _contains_intent,
    "get": lambda a, i: a[int_arg(i)] if 0 <= int_arg(i) < len(a) else None,
    "getRandomItem": lambda a: random.choice(a) if a else None,
    "indexOf": _index_of,
    "join": lambda a, sep=",": text_arg(sep).join(to_text(x) for x in a),
    "joinToArray": lambda a, t, retain=False: [_fill(export(t), x, bool(plain(retain))) for x in a],
    "remove": _without,
    "removeValue": _without_value,
    "set": _set,
    "size": len,
    "isEmpty": lambda a: len(a) == 0,
    "find": lambda a, r: regex(r).search(to_json_text(a)) is not None,
}
_OBJECT: dict[str, Callable] = {
    "has": lambda o, k: text_arg(k) in o,
    "containsKey": lambda o, k: text_arg(k) in o,
    "get": lambda o, k: o.get(text_arg(k)),
    "remove": lambda o, k: {text_arg(k): o[text_arg(k)]} if text_arg(k) in o else None,
    "clear": lambda o: {},
    "size": len,
    "isEmpty": lambda o: len(o) == 0,
    "keySet": lambda o: list(o),
    "deepCopy": export,
    "find": lambda o, r: regex(r).search(to_json_text(o)) is not None,
}
_NUMBER: dict[str, Callable] = {
    "intValue": lambda n: int(n), "longValue": lambda n: int(n), "doubleValue": float, "floatValue": float,
    "compareTo": lambda n, x: (n > _number_arg(x)) - (n < _number_arg(x)),
}


def _convert(value: object, kind: type) -> object:
    """toInt/toDouble/toLong: the value as that number type, null when it is not a number."""
    number = as_number(value)
    return None if number is None else kind(number)


_ANY: dict[str, Callable] = {
    "toString": to_text,
    "toInt": lambda v: _convert(v, int),
    "toLong": lambda v: _convert(v, int),
    "toDouble": lambda v: _convert(v, float),
    "toJson": lambda v: _to_json(v) if isinstance(v, str) else v,
    "equals": equal,
    "getAsString": text_arg,
    "getAsInt": lambda v: _convert(v, int),
    "getAsLong": lambda v: _convert(v, int),
    "getAsDouble": lambda v: _convert(v, float),
    "getAsBoolean": lambda v: v is True or (isinstance(v, str) and v.lower() == "true"),
    "booleanValue": lambda v: v is True,
}
KNOWN_METHODS = frozenset(_STRING) | frozenset(_ARRAY) | frozenset(_OBJECT) | frozenset(_NUMBER) | frozenset(_ANY)


def call_method(target: object, name: str, args: list) -> object:
    """`target.name(args)`; an unknown method, or the wrong arguments, raise ExpressionError."""
    if isinstance(target, JavaType):
        return call_static(target.name, name, args)
    value = target if isinstance(target, (EntityList, IntentList)) else plain(target)
    if value is None:
        if name in ("append", "add"):  # null.append(x) starts a new array
            return [export(v) for v in args]
        if name in KNOWN_METHODS:
            return None  # lenient: a method on null (an unset variable, no such entity) gives null
        raise ExpressionError(f"unknown method {name!r}")
    table = _table_for(value)
    method = table.get(name) or _ANY.get(name)
    if method is None:
        kind = "string" if isinstance(value, str) else "array" if isinstance(value, list) else \
            "object" if isinstance(value, dict) else "number" if as_number(value) is not None else "boolean"
        raise ExpressionError(f"unknown method {name!r} for a {kind}")
    try:
        return method(value, *args)
    except TypeError:
        raise ExpressionError(f"{name}() does not take {len(args)} argument(s)") from None


def _table_for(value: object) -> dict[str, Callable]:
    if isinstance(value, str):
        return _STRING
    if isinstance(value, list):
        return _ARRAY
    if isinstance(value, dict):
        return _OBJECT
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _NUMBER
    return {}
