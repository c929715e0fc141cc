"""`sys-date` as Watson Assistant gives it: one day "yyyy-MM-dd" per mention ("tomorrow", "on Friday",
"May 8", "5/8/2026", "in 3 days"), future dates preferred for a day or month said without a year.

Periods ("March 2023", "last year", "next week") are mentions of their first day; every mention also
carries `granularity` (day, week, month, quarter, year or period), `from` and `to` (the period's first
and last day), and where the text says so a `role` ({"type": "date_from"} after "from", "since",
"between"..., {"type": "date_to"} after "to", "until", "before"...). A day said without a year also
has the past reading in `alternatives`. US English order: 5/8 is May 8, 25/8 is August 25.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from bot.nlu.mention import Entity
from knowledge.dates import NUMBER_WORDS, time_expressions

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_DAY = r"(?P<day>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:])"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?"
_ON = r"(?:\bon\s+)?"
_COUNT_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_RELATIVE_DAYS = {"the day after tomorrow": 2, "day after tomorrow": 2, "the day before yesterday": -2,
                  "day before yesterday": -2, "today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}

_DAYS = [
    ("word", re.compile(r"\b(?P<word>(?:the\s+)?day\s+(?:after\s+tomorrow|before\s+yesterday)|today|tonight|"
                        r"tomorrow|yesterday)\b", re.I)),
    ("in_days", re.compile(rf"\bin\s+(?P<count>\d{{1,3}}|{_COUNT_WORDS})\s+(?P<unit>days?|weeks?)\b|"
                           rf"\b(?P<count2>\d{{1,3}}|{_COUNT_WORDS})\s+(?P<unit2>days?|weeks?)\s+from\s+(?:now|today)\b",
                           re.I)),
    ("next_period", re.compile(r"\b(?:next|coming)\s+(?P<unit>week|month|year)\b", re.I)),
    ("weekday", re.compile(rf"{_ON}(?:\b(?P<mod>next|this|last|coming)\s+)?\b(?P<weekday>"
                           + "|".join(_WEEKDAYS) + r")\b", re.I)),
    ("iso", re.compile(rf"{_ON}\b(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})\b", re.I)),
    ("month_day", re.compile(rf"{_ON}(?:\bthe\s+)?\b{_MONTH}\s+(?:the\s+)?{_DAY}{_YEAR}", re.I)),
    ("day_month", re.compile(rf"{_ON}(?:\bthe\s+)?\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", re.I)),
    ("slash", re.compile(rf"{_ON}(?<![\d/])(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})(?:/(?P<year>\d{{4}}|\d{{2}}))?(?![\d/])",
                         re.I)),
]
_FROM = re.compile(r"\b(?:since|after|between|starting(?:\s+on)?)\s+(?:the\s+)?$", re.I)
_FROM_IF_TO = re.compile(r"\bfrom\s+(?:the\s+)?$", re.I)     # "from May 3" starts a range only before "to ..."
_TO = re.compile(r"(?:\b(?:to|until|till|through|before|by)|-|–)\s*(?:the\s+)?$", re.I)
_AND = re.compile(r"\band\s+(?:the\s+)?$", re.I)


def _on(year: int, month: int, day: int) -> dt.date | None:
    """The day in that year (29 February is the 28th in other years), None for a day no year has."""
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(month: int, day: int, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """(the next month/day on or after today, the last one before it), None for a day no year has."""
    this_year = _on(today.year, month, day)
    if this_year is None:
        return None
    if this_year >= today:
        return this_year, _on(today.year - 1, month, day)
    return _on(today.year + 1, month, day), this_year


def _calendar_day(year: str | None, month: int, day: int, today: dt.date) -> tuple[dt.date, dt.date | None] | None:
    """(the day, its past alternative when said without a year)."""
    if year:
        number = int(year) + (2000 if len(year) == 2 else 0)
        try:
            return dt.date(number, month, day), None
        except ValueError:
            return None
    return _next_occurrence(month, day, today)


def _weekday(g: dict, today: dt.date) -> tuple[dt.date, dt.date | None]:
    weekday, mod = _WEEKDAYS[g["weekday"].lower()], (g.get("mod") or "").lower()
    if mod == "last":
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7), None
    ahead = today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return ahead, (None if mod else ahead - dt.timedelta(days=7))


def _count(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text.lower()]


def _day(kind: str, m: re.Match, today: dt.date) -> tuple[dt.date, dt.date, dt.date | None] | None:
    """(first day, last day, past alternative) of one match, None when it names no real day."""
    g = m.groupdict()
    if kind == "word":
        day = today + dt.timedelta(days=_RELATIVE_DAYS[re.sub(r"\s+", " ", g["word"].lower())])
        return day, day, None
    if kind == "in_days":
        count, unit = (g["count"], g["unit"]) if g.get("count") else (g["count2"], g["unit2"])
        day = today + dt.timedelta(days=_count(count) * (7 if unit.lower().startswith("week") else 1))
        return day, day, None
    if kind == "next_period":
        unit = g["unit"].lower()
        if unit == "week":
            first = today + dt.timedelta(days=7 - today.weekday())
            return first, first + dt.timedelta(days=6), None
        if unit == "month":
            first = dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)
            return first, first.replace(day=calendar.monthrange(first.year, first.month)[1]), None
        return dt.date(today.year + 1, 1, 1), dt.date(today.year + 1, 12, 31), None
    if kind == "weekday":
        day, past = _weekday(g, today)
        return day, day, past
    if kind == "slash":
        first, second = int(g["a"]), int(g["b"])
        month, day = (second, first) if first > 12 else (first, second)
        if month > 12:
            return None
    else:
        month = int(g["month"]) if g["month"].isdigit() else _MONTHS[g["month"].lower().rstrip(".")]
        day = int(g["day"])
    found = _calendar_day(g.get("year"), month, day, today)
    return (found[0], found[0], found[1]) if found else None


def _granularity(first: dt.date, last: dt.date) -> str:
    if first == last:
        return "day"
    if (last - first).days == 6 and first.weekday() == 0:
        return "week"
    month_end = calendar.monthrange(last.year, last.month)[1]
    if first.day == 1 and last.day == month_end:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        if months == 1:
            return "month"
        if months == 3 and first.month % 3 == 1:
            return "quarter"
        if months == 12 and first.month == 1:
            return "year"
    return "period"


def _roles(text: str, spans: list[tuple[int, int]]) -> list[dict | None]:
    """Each date's role in a range, from the words before it: date_from, date_to or none."""
    roles: list[dict | None] = []
    for i, (start, _) in enumerate(spans):
        before = text[:start]
        after_from = i > 0 and roles[i - 1] == {"type": "date_from"}
        if _FROM.search(before):
            roles.append({"type": "date_from"})
        elif _TO.search(before) or (after_from and _AND.search(before)):
            roles.append({"type": "date_to"})
        elif _FROM_IF_TO.search(before) and i + 1 < len(spans) and _TO.search(text[:spans[i + 1][0]]):
            roles.append({"type": "date_from"})
        else:
            roles.append(None)
    return roles


def _mention(span: tuple[int, int], first: dt.date, last: dt.date, past: dt.date | None, role: dict | None) -> Entity:
    extra: dict = {"granularity": _granularity(first, last), "from": first.isoformat(), "to": last.isoformat()}
    if role:
        extra["role"] = role
    if past is not None:
        extra["alternatives"] = [{"value": past.isoformat()}]
    return Entity("sys-date", first.isoformat(), span[0], span[1], extra)


def find_days(text: str, today: dt.date | None = None, taken: list[tuple[int, int]] = ()) -> list[Entity]:
    """Watson-style `sys-date` mentions of a text, in order, leaving out text inside the spans `taken`."""
    today = today or dt.date.today()
    spans = list(taken)
    found: list[tuple[tuple[int, int], dt.date, dt.date, dt.date | None]] = []
    for kind, pattern in _DAYS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            day = _day(kind, m, today)
            if day is not None:
                found.append((m.span(), *day))
                spans.append(m.span())
    for atom in time_expressions(text, today):
        if any(s < atom.end and atom.start < e for s, e in spans) or atom.kind == "today":
            continue        # "recently", "lately": no day of their own
        first, last, past = atom.first, atom.last, None
        if not atom.has_year and atom.last < today:     # "in January": the coming one, as Watson
            past, first = first, first.replace(year=first.year + 1)
            last = last.replace(year=first.year, day=calendar.monthrange(first.year, last.month)[1])
        found.append(((atom.start, atom.end), first, last, past))
    found.sort(key=lambda item: item[0])
    roles = _roles(text, [span for span, *_ in found])
    return [_mention(span, first, last, past, role) for (span, first, last, past), role in zip(found, roles)]
