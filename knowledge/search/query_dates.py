"""The date window of a search query ("in 2019", "September 2012", "summer 2016"): the time
expressions `knowledge.dates` finds that name a year, as one window of days."""

from __future__ import annotations

import calendar
import datetime as dt

from knowledge.dates import time_expressions


# The expressions that narrow a window below its year: a month or a part of a year, with the year.
NARROWING = ("month_year", "iso_month", "season_year", "quarter_year")


def date_window(query: str, today: dt.date | None = None) -> tuple[str, str] | None:
    """(first day, last day) as ISO dates of the time a query names with a year, or None. Several
    years give the years from the first to the last. Months and parts of one year ("March 2021",
    "late 2025", "Q1 2022", "2023-05") give the months from the first to the last, plus the month
    after, because posts about a month are often written just after it; a day gives its year,
    because it is mostly an event's, which posts announce before and report after. Times without a
    year ("last week", "in May") are left to the dialogue, and "since" or "between" do not widen the
    window: search ranks the posts of the time named, it does not filter."""
    named = [p for p in time_expressions(query, today) if p.has_year and not p.relative]
    if not named:
        return None
    first, last = min(p.first for p in named), max(p.last for p in named)
    if first.year != last.year:
        return f"{first.year}-01-01", f"{last.year}-12-31"
    within = [p for p in named if p.kind in NARROWING]
    if not within:
        return f"{first.year}-01-01", f"{first.year}-12-31"
    first, last = min(p.first for p in within), max(p.last for p in within)
    year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    return first.replace(day=1).isoformat(), dt.date(year, month, calendar.monthrange(year, month)[1]).isoformat()
