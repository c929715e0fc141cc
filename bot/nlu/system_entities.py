"""System entities: `sys-date` (dates and ranges) and `sys-number`, found with their spans.

A `sys-date` value is an ISO 8601 interval "FROM/TO" (both days inclusive); the entity also
carries `from` and `to`. The periods come from `knowledge.dates`, the parser search uses too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.dates import NUMBER_WORDS, find_periods


@dataclass
class Entity:
    entity: str
    value: object
    start: int
    end: int
    extra: dict | None = None

    def as_json(self) -> dict:
        return {"entity": self.entity, "value": self.value, "start": self.start, "end": self.end, **(self.extra or {})}


def find_dates(text: str, today: dt.date | None = None) -> list[Entity]:
    """The `sys-date` entities of a text: single periods, ranges and open ranges."""
    return [Entity("sys-date", f"{p.first.isoformat()}/{p.last.isoformat()}", p.start, p.end,
                   {"from": p.first.isoformat(), "to": p.last.isoformat()}) for p in find_periods(text, today)]


_NUMBER = re.compile(r"(?<![\w.-])(?P<digits>\d+(?:\.\d+)?)(?![\w.-]|-\d)|\b(?P<word>" +
                     "|".join(w for w in NUMBER_WORDS if " " not in w and w not in ("a", "one")) + r")\b", re.I)


def find_numbers(text: str, dates: list[Entity] = ()) -> list[Entity]:
    """`sys-number` entities (digits and number words), leaving out numbers inside dates."""
    found = []
    for m in _NUMBER.finditer(text):
        if any(d.start <= m.start() < d.end for d in dates):
            continue
        value = float(m.group("digits")) if m.group("digits") else float(NUMBER_WORDS[m.group("word").lower()])
        found.append(Entity("sys-number", int(value) if value.is_integer() else value, m.start(), m.end()))
    return found
