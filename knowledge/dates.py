"""Time expressions in text as periods of days: the one date parser of the dialogue's `sys-date`
entity and of search's date window.

"March 2023" -> 2023-03-01..2023-03-31, "last year" -> the previous calendar year, "between May and
July 2021" -> 2021-05-01..2021-07-31, "since 2020" -> 2020-01-01 up to today. Relative expressions
are resolved against `today`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTH_NAMES["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19[89]\d|20\d\d))"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 12),
            "early": (1, 4), "beginning of": (1, 4), "mid": (5, 8), "middle of": (5, 8), "late": (9, 12),
            "end of": (9, 12)}
_SEASON = r"(?P<season>" + "|".join(_SEASONS) + r"),?[\s-]*(?:(?:of|in)\s+)?"   # "fall, 2020", "late in 2020"
_UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
          "year": "year", "years": "year"}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a few": 3, "a": 1}
_COUNT = r"(?P<count>\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"

# Single points or periods of time, most specific first.
_ATOMS = [
    ("iso_day", re.compile(rf"\b{_YEAR}-(?P<month>\d{{2}})-(?P<day>\d{{2}})\b")),
    ("iso_month", re.compile(rf"\b{_YEAR}-(?P<month>0[1-9]|1[0-2])\b(?!-\d)")),
    ("month_day_year", re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I)),
    ("day_month_year", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I)),
    ("month_year", re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", re.I)),
    ("season_year", re.compile(rf"\b{_SEASON}{_YEAR}\b", re.I)),
    ("quarter_year", re.compile(rf"\bQ(?P<quarter>[1-4])[\s/-]*{_YEAR}\b", re.I)),
    ("relative_count", re.compile(rf"\b(?:(?:in\s+)?the\s+)?(?:last|past|previous)\s+{_COUNT}\s+(?P<unit>days?|weeks?|months?|years?)\b", re.I)),
    ("ago", re.compile(rf"\b{_COUNT}\s+(?P<unit>days?|weeks?|months?|years?)\s+ago\b", re.I)),
    ("relative", re.compile(r"\b(?P<which>this|last|past|previous|current)\s+(?P<unit>week|month|year|spring|summer|autumn|fall|winter)\b", re.I)),
    ("today", re.compile(r"\b(?P<word>today|yesterday|recently|lately)\b", re.I)),
    ("year", re.compile(rf"\b{_YEAR}\b")),     # a word of its own: not "2025H2" or "FY2021"
    ("month", re.compile(rf"\b{_MONTH}\b", re.I)),
]
_RANGE = re.compile(r"\b(?:between|from)\s+$", re.I)
_RANGE_JOIN = re.compile(r"^\s*(?:and|to|until|till|through|-|–)\s*$", re.I)
_OPEN_BEFORE = re.compile(r"\b(?:since|after|before|until|till|prior to|up to)\s+(?:the\s+)?$", re.I)


_RELATIVE_KINDS = ("relative_count", "ago", "relative", "today")


@dataclass
class DateSpan:
    """One matched time expression: where it is, its first and last day."""
    start: int
    end: int
    first: dt.date
    last: dt.date
    has_year: bool = True       # a month named without a year is taken in the last twelve months
    relative: bool = False      # said relative to today ("last year", "recently", "two weeks ago")
    kind: str = ""              # which expression: "year", "month_year", "season_year", "iso_day", ...


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _count(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _period(kind: str, m: re.Match, today: dt.date) -> tuple[dt.date, dt.date, bool] | None:
    """(first day, last day, has an explicit year) of one matched atom."""
    g = m.groupdict()
    if kind == "today":
        word = g["word"].lower()
        if word == "today":
            return today, today, True
        if word == "yesterday":
            return today - dt.timedelta(days=1), today - dt.timedelta(days=1), True
        return _shift_months(today, -3), today, True        # "recently": the last three months
    if kind in ("relative_count", "ago"):
        return _counted_period(kind, g, today)
    if kind == "relative":
        return _relative_period(g, today)
    return _calendar_period(kind, g, today)


def _calendar_period(kind: str, g: dict[str, str | None], today: dt.date) -> tuple[dt.date, dt.date, bool] | None:
    """The period of a day, month, season, quarter or year named on the calendar ("2021-07-04",
    "July 2021", "late 2025", "Q3 2024", "2019", "May"); None for a date that does not exist."""
    month = _MONTH_NAMES.get((g.get("month") or "").lower().rstrip(".")) if kind not in ("iso_day", "iso_month") \
        else int(g["month"])
    try:
        if kind in ("iso_day", "month_day_year", "day_month_year"):
            day = dt.date(int(g["year"]), month, int(g["day"]))
            return day, day, True
        if kind in ("iso_month", "month_year"):
            return dt.date(int(g["year"]), month, 1), _month_end(int(g["year"]), month), True
    except ValueError:
        return None
    if kind == "season_year":
        first, last = _SEASONS[g["season"].lower()]
        return dt.date(int(g["year"]), first, 1), _month_end(int(g["year"]), last), True
    if kind == "quarter_year":
        first = (int(g["quarter"]) - 1) * 3 + 1
        return dt.date(int(g["year"]), first, 1), _month_end(int(g["year"]), first + 2), True
    if kind == "year":
        return dt.date(int(g["year"]), 1, 1), dt.date(int(g["year"]), 12, 31), True
    if kind == "month":
        year = today.year if month <= today.month else today.year - 1
        return dt.date(year, month, 1), _month_end(year, month), False
    return None


def _counted_period(kind: str, g: dict[str, str | None], today: dt.date) -> tuple[dt.date, dt.date, bool]:
    """The period of "the last three weeks" (`relative_count`: up to today) or "two years ago"
    (`ago`: that day, month or calendar year)."""
    unit = _UNITS.get((g.get("unit") or "").lower())
    count = _count(g["count"])
    if unit == "day":
        start = today - dt.timedelta(days=count)
    elif unit == "week":
        start = today - dt.timedelta(weeks=count)
    else:
        start = _shift_months(today, -count * (12 if unit == "year" else 1))
    if kind == "relative_count":
        return start, today, True
    if unit == "year":                              # "two years ago": that calendar year
        return dt.date(start.year, 1, 1), dt.date(start.year, 12, 31), True
    if unit == "month":
        return start.replace(day=1), _month_end(start.year, start.month), True
    return start, start, True


def _relative_period(g: dict[str, str | None], today: dt.date) -> tuple[dt.date, dt.date, bool]:
    """The period of "this week", "last month", "last summer", "this year" and the like."""
    which, unit_word = g["which"].lower(), g["unit"].lower()
    back = 0 if which in ("this", "current") else 1
    if unit_word in _SEASONS:
        first, last = _SEASONS[unit_word]
        year = today.year - back if today.month >= first else today.year - 1
        return dt.date(year, first, 1), _month_end(year, last), True
    if unit_word == "year":
        return dt.date(today.year - back, 1, 1), dt.date(today.year - back, 12, 31), True
    if unit_word == "month":
        start = _shift_months(today.replace(day=1), -back)
        return start, _month_end(start.year, start.month), True
    monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=back)
    return monday, monday + dt.timedelta(days=6), True


def _same_day_in(day: dt.date, year: int) -> dt.date:
    """`day` moved to `year` (29 February becomes the 28th)."""
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def time_expressions(text: str, today: dt.date | None = None) -> list[DateSpan]:
    """Each time expression of a text on its own ("July 2021", "late 2025", "May"), in order; no
    ranges ("between May and July 2021") or open ranges ("since 2020") are made of them."""
    today = today or dt.date.today()
    taken = [False] * len(text)
    found = []
    for kind, pattern in _ATOMS:
        for m in pattern.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            if kind == "month" and m.group("month").lower() in ("may", "mar", "jan", "jun", "dec", "sept", "sep",
                                                               "oct", "nov", "aug", "feb", "apr", "jul", "march"):
                # Short or ambiguous words ("may", "mar") count only next to a date word.
                before = text[:m.start()].lower().rstrip()
                if not re.search(r"\b(in|since|before|after|from|between|until|and|to|of|during)$", before):
                    continue
            period = _period(kind, m, today)
            if period is None:
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            found.append(DateSpan(m.start(), m.end(), period[0], period[1], period[2],
                                  relative=kind in _RELATIVE_KINDS, kind=kind))
    return sorted(found, key=lambda span: span.start)


def find_periods(text: str, today: dt.date | None = None) -> list[DateSpan]:
    """The periods a text names, in order: single periods, ranges ("between May and July 2021") and
    open ranges ("since 2020"), each with its span in the text."""
    today = today or dt.date.today()
    atoms = time_expressions(text, today)
    periods, i = [], 0
    while i < len(atoms):
        atom = atoms[i]
        nxt = atoms[i + 1] if i + 1 < len(atoms) else None
        start, end, first, last = atom.start, atom.end, atom.first, atom.last
        has_year, relative = atom.has_year, atom.relative
        if nxt and _RANGE_JOIN.match(text[atom.end:nxt.start]):
            head_first, head_last = atom.first, atom.last
            if not atom.has_year and nxt.has_year:      # "between May and July 2021"
                head_first, head_last = head_first.replace(year=nxt.first.year), _same_day_in(head_last, nxt.first.year)
            if not atom.has_year and not nxt.has_year and head_first > nxt.first:   # "between November and February"
                head_first, head_last = head_first.replace(year=nxt.first.year - 1), _same_day_in(head_last, nxt.first.year - 1)
            joined = _RANGE.search(text[:atom.start])
            start = joined.start() if joined else atom.start
            end = nxt.end
            # Either end may come first ("between 2021 and 2019"): the range spans both periods.
            first, last = min(head_first, nxt.first), max(head_last, nxt.last)
            has_year, relative = atom.has_year or nxt.has_year, atom.relative or nxt.relative
            i += 1
        else:
            opener = _OPEN_BEFORE.search(text[:atom.start])
            if opener:
                word = opener.group(0).split()[0].lower()
                start = opener.start()
                if word in ("since",):
                    last = today
                elif word == "after":
                    first, last = atom.last + dt.timedelta(days=1), today
                else:
                    first, last = dt.date(1970, 1, 1), atom.first - dt.timedelta(days=1)
        periods.append(DateSpan(start, end, first, last, has_year, relative))
        i += 1
    return periods

