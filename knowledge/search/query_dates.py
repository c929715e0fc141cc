"""Time expressions in a search query ("in 2019", "September 2012", "summer 2016") as a date window."""

from __future__ import annotations

import calendar
import re

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS.pop("may", None)  # "may" is mostly the verb; "May 2021" is still caught below
_PARTS = {
    "spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 12),
    "early": (1, 4), "beginning": (1, 4), "mid": (5, 8), "middle": (5, 8), "late": (9, 12), "end": (9, 12),
}
_YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
_BEFORE_YEAR = re.compile(r"(\w+)\W+(?:of\W+)?(?:in\W+)?$")


def date_window(query: str) -> tuple[str, str] | None:
    """(first day, last day) as ISO dates for the single year (and month or season) a query names."""
    years = sorted(set(_YEAR.findall(query)))
    if not years:
        return None
    if len(years) > 1:
        return f"{years[0]}-01-01", f"{years[-1]}-12-31"
    year = years[0]
    match = _YEAR.search(query)
    before = _BEFORE_YEAR.search(query[:match.start()])
    word = before.group(1).lower() if before else ""
    if word in _MONTHS or word == "may":
        first = end = _MONTHS.get(word, 5)
    elif word in _PARTS:
        first, end = _PARTS[word]
    else:
        return f"{year}-01-01", f"{year}-12-31"
    # Posts about a month or season are often written just after it: allow one more month.
    end_year, end = (int(year) + 1, 1) if end == 12 else (int(year), end + 1)
    last = calendar.monthrange(end_year, end)[1]
    return f"{year}-{first:02d}-01", f"{end_year}-{end:02d}-{last:02d}"
