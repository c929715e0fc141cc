"""System entities: `sys-date`, `sys-number`, `sys-time`, `sys-currency` and `sys-percentage`, found
with their spans. Which of them an assistant finds is set in entities.yml (`system_entities`).

A `sys-date` value is, by default, an ISO 8601 interval "FROM/TO" (both days inclusive) with `from`
and `to` (the blog's periods, from `knowledge.dates`, which the parser search uses too); with
`sys_date_values: day` it is Watson's single day "yyyy-MM-dd" (see `bot.nlu.system_days`).
Times and amounts are in `bot.nlu.system_times` and `bot.nlu.system_amounts`.

Overlaps follow Watson's new system entities: an amount's or a time's number is not also a
`sys-number` ("$20" is a currency only, "7pm" a time only), nor are a date's digits; an amount is
not a date ("$2020"). Numbers are left alone by a kind that is switched off.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.nlu.mention import Entity
from bot.nlu.system_amounts import find_currencies, find_percentages
from bot.nlu.system_days import find_days
from bot.nlu.system_times import find_times
from knowledge.dates import NUMBER_WORDS, find_periods

__all__ = ["Entity", "SystemEntityConfig", "SYSTEM_ENTITIES", "DEFAULT_SYSTEM_ENTITIES", "DATE_VALUES",
           "find_dates", "find_numbers", "find_system_entities"]

SYSTEM_ENTITIES = ("sys-date", "sys-time", "sys-number", "sys-currency", "sys-percentage")
DEFAULT_SYSTEM_ENTITIES = ("sys-date", "sys-number")       # without `system_entities` in entities.yml
DATE_VALUES = ("period", "day")    # sys-date values: "FROM/TO" intervals (the blog's), or Watson's days


@dataclass(frozen=True)
class SystemEntityConfig:
    """Which system entities are on, and how `sys-date` values are written ("period" or "day")."""

    enabled: tuple[str, ...] = DEFAULT_SYSTEM_ENTITIES
    date_values: str = "period"


def find_dates(text: str, today: dt.date | None = None) -> list[Entity]:
    """The `sys-date` entities of a text: single periods, ranges and open ranges."""
    return [Entity("sys-date", f"{p.first.isoformat()}/{p.last.isoformat()}", p.start, p.end,
                   {"from": p.first.isoformat(), "to": p.last.isoformat()}) for p in find_periods(text, today)]


_NUMBER = re.compile(r"(?<![\w.-])(?P<digits>\d+(?:\.\d+)?)(?![\w.-]|-\d)|\b(?P<word>" +
                     "|".join(w for w in NUMBER_WORDS if " " not in w and w not in ("a", "one")) + r")\b", re.I)


def find_numbers(text: str, dates: list[Entity] = ()) -> list[Entity]:
    """`sys-number` entities (digits and number words), leaving out numbers inside `dates` (or any
    other mentions given there: amounts, times)."""
    found = []
    for m in _NUMBER.finditer(text):
        if any(d.start <= m.start() < d.end for d in dates):
            continue
        value = float(m.group("digits")) if m.group("digits") else float(NUMBER_WORDS[m.group("word").lower()])
        found.append(Entity("sys-number", int(value) if value.is_integer() else value, m.start(), m.end()))
    return found


def find_system_entities(text: str, today: dt.date | None = None,
                         config: SystemEntityConfig = SystemEntityConfig()) -> list[Entity]:
    """The mentions of the system entities that `config` switches on, ordered by position."""
    on = set(config.enabled)
    amounts = [*(find_currencies(text) if "sys-currency" in on else []),
               *(find_percentages(text) if "sys-percentage" in on else [])]
    amount_spans = [(a.start, a.end) for a in amounts]
    if config.date_values == "day":
        dates = find_days(text, today, amount_spans)
    else:
        dates = [d for d in find_dates(text, today) if not any(s < d.end and d.start < e for s, e in amount_spans)]
    times = find_times(text, amount_spans + [(d.start, d.end) for d in dates]) if "sys-time" in on else []
    numbers = find_numbers(text, [*dates, *amounts, *times]) if "sys-number" in on else []
    found = [*(dates if "sys-date" in on else []), *times, *amounts, *numbers]
    return sorted(found, key=lambda e: (e.start, -e.end))
