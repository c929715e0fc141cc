"""Dates and times in Watson's expression language: values are strings, methods work on them.

Formats read: dates "yyyy-MM-dd", times "HH:mm:ss" or "HH:mm", date-times "yyyy-MM-dd HH:mm:ss" (also with a
"T", fractions of a second, or a trailing zone such as " GMT+01:00" or " Europe/London", which is ignored).
Calculations give the input's own format; `reformatDateTime` follows Java's SimpleDateFormat letters.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import re

from bot.dialogue.expressions.core import ExpressionError, as_number, plain

logger = logging.getLogger(__name__)

_MOMENT = re.compile(
    r"\s*(?:(?P<date>\d{4}-\d{1,2}-\d{1,2})(?:[ T]+|$))?"
    r"(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
    r"(?P<zone>\s*(?:Z|GMT|UTC|[A-Za-z]+/[A-Za-z_/+-]+|GMT[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}))?\s*")
_FORMATS = {"date": "%Y-%m-%d", "time": "%H:%M:%S", "datetime": "%Y-%m-%d %H:%M:%S"}
_EPOCH = datetime.date(1970, 1, 1)  # "When you try to format time only, the date is treated as 1970-01-01."


def parse_moment(text: object) -> tuple[str, datetime.datetime]:
    """(kind, moment) of a date ("date"), time ("time") or date-time ("datetime") string."""
    value = plain(text)
    if not isinstance(value, str):
        raise ExpressionError(f"not a date or time: {value!r}")
    match = _MOMENT.fullmatch(value)
    if not match or not (match["date"] or match["time"]):
        raise ExpressionError(f"not a date or time: {value!r}")
    try:
        day = datetime.date.fromisoformat(_iso_date(match["date"])) if match["date"] else _EPOCH
        clock = _parse_clock(match["time"]) if match["time"] else datetime.time()
    except ValueError as err:
        raise ExpressionError(f"bad date or time {value!r}: {err}") from None
    kind = "datetime" if match["date"] and match["time"] else ("date" if match["date"] else "time")
    return kind, datetime.datetime.combine(day, clock)


def _iso_date(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _parse_clock(text: str) -> datetime.time:
    parts = text.split(":")
    seconds = float(parts[2]) if len(parts) > 2 else 0.0
    whole = int(seconds)
    return datetime.time(int(parts[0]), int(parts[1]), whole, int(round((seconds - whole) * 1_000_000)))


def format_moment(kind: str, moment: datetime.datetime) -> str:
    """A moment written in the format of its kind."""
    return moment.strftime(_FORMATS[kind])


def now_text(moment: datetime.datetime) -> str:
    """`now()`: "yyyy-MM-dd HH:mm:ss"."""
    return moment.strftime(_FORMATS["datetime"])


def today_text(moment: datetime.datetime) -> str:
    """`today()`: "yyyy-MM-dd"."""
    return moment.strftime(_FORMATS["date"])


def _add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """Java's plusMonths: the day is clamped to the last day of the target month."""
    total = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ExpressionError("date out of range")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


_UNITS = {"Days": "days", "Hours": "hours", "Minutes": "minutes", "Seconds": "seconds"}


def shift(text: object, method: str, amount: object) -> str:
    """plusDays/minusMonths/...: the moment moved, in the same format as the input."""
    kind, moment = parse_moment(text)
    number = as_number(amount)
    if number is None:
        raise ExpressionError(f"{method} needs a number, not {plain(amount)!r}")
    steps = int(number) * (1 if method.startswith("plus") else -1)
    unit = method[4:] if method.startswith("plus") else method[5:]
    try:
        if unit == "Months":
            moment = _add_months(moment, steps)
        elif unit == "Years":
            moment = _add_months(moment, steps * 12)
        else:
            moment = moment + datetime.timedelta(**{_UNITS[unit]: steps})
    except OverflowError:
        raise ExpressionError("date out of range") from None
    return format_moment(kind, moment)


def compare(left: object, right: object, method: str) -> bool:
    """before/after/sameMoment/sameOrAfter/sameOrBefore, as the docs describe them.

    Time vs date, date vs time and time vs date-time are not comparable: false (logged, as Watson logs it).
    Date-time vs time compares the times only. Date vs date-time compares the dates only (docs silent).
    """
    kind_a, a = parse_moment(left)
    kind_b, b = parse_moment(right)
    if kind_a == "time" and kind_b != "time" or kind_a == "date" and kind_b == "time":
        logger.info("%s: cannot compare %s %r with %s %r", method, kind_a, left, kind_b, right)
        return False
    if kind_a == "datetime" and kind_b == "time":
        a = datetime.datetime.combine(_EPOCH, a.time())
    elif "date" in (kind_a, kind_b) and kind_a != kind_b:
        a, b = a.replace(hour=0, minute=0, second=0, microsecond=0), b.replace(hour=0, minute=0, second=0,
                                                                                microsecond=0)
    results = {"before": a < b, "after": a > b, "sameMoment": a == b, "sameOrAfter": a >= b, "sameOrBefore": a <= b}
    return results[method]


def reformat(text: object, pattern: object) -> str:
    """`reformatDateTime(pattern)`: the moment written with a Java SimpleDateFormat pattern."""
    if not isinstance(plain(pattern), str):
        raise ExpressionError("reformatDateTime needs a pattern string")
    return java_format(parse_moment(text)[1], str(plain(pattern)))


def java_format(moment: datetime.datetime, pattern: str) -> str:
    """Format a moment with a Java SimpleDateFormat pattern (US English names)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "'":
            if pattern.startswith("''", i):
                out.append("'")
                i += 2
                continue
            i = _quoted(pattern, i, out)
        elif char.isascii() and char.isalpha():
            j = i
            while j < n and pattern[j] == char:
                j += 1
            out.append(_field(moment, char, j - i))
            i = j
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _quoted(pattern: str, i: int, out: list[str]) -> int:
    """Copy 'quoted text' ('' inside is one quote); return the index after the closing quote."""
    j = i + 1
    while j < len(pattern):
        if pattern[j] == "'":
            if pattern.startswith("''", j):
                out.append("'")
                j += 2
                continue
            return j + 1
        out.append(pattern[j])
        j += 1
    raise ExpressionError(f"unterminated quote in date pattern {pattern!r}")


def _week_year_and_week(moment: datetime.datetime) -> tuple[int, int]:
    """US weeks (Java's default locale): weeks start on Sunday, week 1 holds January 1st."""
    day = moment.date()
    saturday = day + datetime.timedelta(days=(5 - day.weekday()) % 7)
    if saturday.year > day.year:
        return day.year + 1, 1
    jan1 = datetime.date(day.year, 1, 1)
    offset = (jan1.weekday() + 1) % 7  # Sunday = 0
    return day.year, ((day - jan1).days + offset) // 7 + 1


def _field(moment: datetime.datetime, letter: str, count: int) -> str:
    """One pattern letter run, e.g. ("M", 3) -> "Dec"."""
    if letter in "yY":
        year = moment.year if letter == "y" else _week_year_and_week(moment)[0]
        return f"{year % 100:02d}" if count == 2 else str(year).zfill(count)
    if letter in "ML":
        if count >= 4:
            return calendar.month_name[moment.month]
        return calendar.month_abbr[moment.month] if count == 3 else str(moment.month).zfill(count)
    if letter == "E":
        return calendar.day_name[moment.weekday()] if count >= 4 else calendar.day_abbr[moment.weekday()]
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter in "zZX":
        return {"z": "GMT", "Z": "+0000", "X": "Z"}[letter]
    if letter == "G":
        return "AD"
    numbers = {
        "d": moment.day, "H": moment.hour, "m": moment.minute, "s": moment.second,
        "h": moment.hour % 12 or 12, "k": moment.hour or 24, "K": moment.hour % 12,
        "S": moment.microsecond // 1000, "D": moment.timetuple().tm_yday, "u": moment.isoweekday(),
        "F": (moment.day - 1) // 7 + 1, "w": _week_year_and_week(moment)[1],
        "W": (moment.day + (moment.replace(day=1).weekday() + 1) % 7 - 1) // 7 + 1,
    }
    if letter not in numbers:
        raise ExpressionError(f"illegal date pattern character {letter!r}")
    return str(numbers[letter]).zfill(count)
