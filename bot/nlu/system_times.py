"""The `sys-time` system entity: times of day ("at 7pm", "14:30", "noon", "5 o'clock"), as Watson
Assistant's new system entities find them.

The value is "HH:mm:ss"; the mention carries `granularity` ("hour", "minute" or "second") and, for an
hour said without am or pm ("at 5"), the afternoon reading in `alternatives` (Watson takes 5 as 05:00).
A leading "at" is part of the mention, as in Watson ("The store closes at 8PM": "at 8PM").
"""

from __future__ import annotations

import re

from bot.nlu.mention import Entity

_HOUR_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
               "ten": 10, "eleven": 11, "twelve": 12}
_HOUR_WORD = "|".join(sorted(_HOUR_WORDS, key=len, reverse=True))
_AT = r"(?:(?P<at>\bat|@)\s*)?"
_MERIDIEM = r"(?P<ap>[ap]\.\s?m\.|[ap]m\b)"
# What a bare "at 5" must not be followed by: it counts something else ("at 5 percent", "at 3 stores").
_NOT_A_TIME = re.compile(r"\s*(?:[%$€£.,:/-]\d|%|\$|€|£|(?:per\s?cent|percent|dollars?|euros?|pounds?|cents?|"
                         r"years?|months?|weeks?|days?|hours?|minutes?|seconds?|times?|[a-z]+s)\b)", re.I)

_TIMES = [
    # "14:30", "7:05 pm", "at 23:59:59"
    ("clock", re.compile(rf"{_AT}(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])"
                         rf"(?:\s*{_MERIDIEM})?", re.I)),
    # "7pm", "at 7 p.m.", "seven am"
    ("meridiem", re.compile(rf"{_AT}(?:(?<![\d:.])(?P<h>1[0-2]|0?\d)|\b(?P<hw>{_HOUR_WORD}))\s*{_MERIDIEM}", re.I)),
    # "5 o'clock", "at seven o'clock"
    ("oclock", re.compile(rf"{_AT}(?:(?<![\d:.])(?P<h>1[0-2]|0?\d)|\b(?P<hw>{_HOUR_WORD}))\s*o['’]?\s?clock\b", re.I)),
    ("named", re.compile(rf"{_AT}\b(?P<word>noon|midday|midnight)\b", re.I)),
    # "at 5", "at 17": an hour after "at" only
    ("at_hour", re.compile(r"(?P<at>\bat|@)\s*(?<![\d:.])(?P<h>[01]?\d|2[0-3])(?![\d:.,]\d|\d|\s*[ap]\.?\s?m\b)", re.I)),
]


def _hour(m: re.Match) -> int:
    word = m.groupdict().get("hw")
    return _HOUR_WORDS[word.lower()] if word else int(m.group("h"))


def _time(kind: str, m: re.Match) -> tuple[int, int, int, str, bool] | None:
    """(hour, minute, second, granularity, ambiguous) of one match, None if it is no time."""
    if kind == "named":
        return (0 if m.group("word").lower() == "midnight" else 12), 0, 0, "hour", False
    hour = _hour(m)
    minute = int(m.group("m")) if kind == "clock" else 0
    second = int(m.group("s")) if kind == "clock" and m.group("s") else 0
    granularity = "second" if kind == "clock" and m.group("s") else ("minute" if kind == "clock" else "hour")
    meridiem = (m.groupdict().get("ap") or "").lower()[:1]
    if meridiem:
        if hour > 12 or hour == 0:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
        return hour, minute, second, granularity, False
    return hour, minute, second, granularity, 1 <= hour <= 11


def find_times(text: str, taken: list[tuple[int, int]] = ()) -> list[Entity]:
    """`sys-time` mentions, leaving out text inside the spans `taken` (dates, amounts)."""
    spans = list(taken)
    found = []
    for kind, pattern in _TIMES:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            if kind == "at_hour" and _NOT_A_TIME.match(text, m.end()):
                continue
            parsed = _time(kind, m)
            if parsed is None:
                continue
            hour, minute, second, granularity, ambiguous = parsed
            extra: dict = {"granularity": granularity}
            if ambiguous:
                extra["alternatives"] = [{"value": f"{hour + 12:02d}:{minute:02d}:{second:02d}"}]
            found.append(Entity("sys-time", f"{hour:02d}:{minute:02d}:{second:02d}", m.start(), m.end(), extra))
            spans.append(m.span())
    return sorted(found, key=lambda e: e.start)
