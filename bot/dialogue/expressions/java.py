"""The few Java classes Watson's docs use from expressions: T(Math), T(String), T(Integer), T(Double), T(Long).

`T(String).format` follows java.util.Formatter for the common conversions (%s %d %f %e %x %c %b %n %%, flags
`-`, `0`, `+`, ` `, `,`, width and precision, and `n$` argument indexes).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable

from bot.dialogue.expressions.core import ExpressionError, as_number, export, plain, to_text

_SPEC = re.compile(r"%(?:(\d+)\$)?([-#+ 0,(]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _number(value: object, what: str = "a number") -> int | float:
    number = as_number(value)
    if number is None:
        raise ExpressionError(f"expected {what}, not {plain(value)!r}")
    return number


def _java_round(value: object) -> int:
    """Math.round: halves go up (towards positive infinity)."""
    return math.floor(_number(value) + 0.5)


def _join(delimiter: object, *items: object) -> str:
    """String.join(delimiter, list) or String.join(delimiter, a, b, ...)."""
    values = plain(items[0]) if len(items) == 1 and isinstance(plain(items[0]), list) else items
    return to_text(delimiter).join(to_text(v) for v in values)


def _parse_int(value: object) -> int:
    text = to_text(value).strip()
    if not re.fullmatch(r"[-+]?\d+", text):
        raise ExpressionError(f"not an integer: {text!r}")
    return int(text)


def _parse_double(value: object) -> float:
    number = as_number(to_text(value))
    if number is None:
        raise ExpressionError(f"not a number: {to_text(value)!r}")
    return float(number)


def _format_one(spec: re.Match, arg: object) -> str:
    """One %-conversion of java.util.Formatter."""
    flags, width, precision, conversion = spec[2], spec[3], spec[4], spec[5]
    value = plain(arg)
    kind = conversion.lower()
    if kind in "dfex":
        number = _number(value, f"a number for %{conversion}")
        body_spec = ("+" if "+" in flags else " " if " " in flags else "") + ("," if "," in flags else "")
        if kind == "d":
            text = format(int(number), body_spec + "d")
        elif kind == "x":
            text = format(int(number), "x")
        else:
            text = format(float(number), f"{body_spec}.{precision or 6}{kind}")
    elif kind == "s":
        text = "null" if value is None else to_text(value)
        text = text[:int(precision)] if precision else text
    elif kind == "b":
        text = "false" if value is None or value is False else "true"
    elif kind == "c":
        text = chr(int(value)) if isinstance(value, int) else to_text(value)[:1]
    else:
        raise ExpressionError(f"unknown format conversion %{conversion}")
    if conversion.isupper():
        text = text.upper()
    if width and len(text) < int(width):
        pad = int(width) - len(text)
        if "-" in flags:
            text += " " * pad
        elif "0" in flags and kind in "dfex":
            sign = text[0] if text[:1] in "+- " else ""
            text = sign + "0" * pad + text[len(sign):]
        else:
            text = " " * pad + text
    return text


def java_format(pattern: object, *args: object) -> str:
    """String.format(pattern, args...)."""
    template, out, position, next_arg = to_text(pattern), [], 0, 0
    for spec in _SPEC.finditer(template):
        out.append(template[position:spec.start()])
        position = spec.end()
        if spec[5] == "%":
            out.append("%")
            continue
        if spec[5] == "n":
            out.append("\n")
            continue
        index = int(spec[1]) - 1 if spec[1] else next_arg
        if not spec[1]:
            next_arg += 1
        if index >= len(args):
            raise ExpressionError(f"String.format: no argument for {spec[0]!r}")
        out.append(_format_one(spec, args[index]))
    out.append(template[position:])
    return "".join(out)


def _math_max(*values: object) -> int | float:
    return max(_number(v) for v in values)


def _math_min(*values: object) -> int | float:
    return min(_number(v) for v in values)


_STATICS: dict[str, dict[str, Callable]] = {
    "Math": {
        "max": _math_max, "min": _math_min, "abs": lambda x: abs(_number(x)),
        "pow": lambda x, y: float(_number(x)) ** _number(y), "sqrt": lambda x: math.sqrt(_number(x)),
        "round": _java_round, "floor": lambda x: float(math.floor(_number(x))),
        "ceil": lambda x: float(math.ceil(_number(x))), "random": random.random,
    },
    "String": {"format": java_format, "join": _join, "valueOf": to_text},
    "Integer": {"parseInt": _parse_int, "valueOf": _parse_int},
    "Long": {"parseLong": _parse_int, "valueOf": _parse_int},
    "Double": {"parseDouble": _parse_double, "valueOf": _parse_double},
}


def call_static(class_name: str, name: str, args: list) -> object:
    """`T(Class).name(args)` for the supported classes and methods."""
    method = _STATICS.get(class_name, {}).get(name)
    if method is None:
        raise ExpressionError(f"unknown method T({class_name}).{name}")
    try:
        return method(*[export(a) for a in args])
    except ExpressionError:
        raise
    except TypeError:
        raise ExpressionError(f"T({class_name}).{name}() does not take {len(args)} argument(s)") from None
    except (ValueError, OverflowError) as err:
        raise ExpressionError(f"T({class_name}).{name}(): {err}") from None
