"""The date window of a search query ("in 2019", "September 2012", "summer 2016"): the time
expressions `knowledge.dates` finds that name a year, as one window of days."""

from __future__ import annotations

import calendar
import datetime as dt

from knowledge.dates import time_expressions


def date_window(query: str, today: dt.date | None = None) -> tuple[str, str] | None:
    """(first day, last day) as ISO dates of the time a query names with a year, or None. Several
    years give the years from the first to the last; a month or a season runs from the start of its
    first month to the end of the month after its last, because posts about a month are often
    written just after it; a day gives its year. Times without a year ("last week", "in
    May") are left to the dialogue, and "since" or "between" do not widen the window: search ranks
    the posts of the time named, it does not filter."""
    named = [p for p in time_expressions(query, today) if p.has_year and not p.relative]
    if not named:
        return None
    first, last = min(p.first for p in named), max(p.last for p in named)
    if first.year != last.year:
        return f"{first.year}-01-01", f"{last.year}-12-31"
    # A month or a season narrows the window; a single day does not: it is mostly an event's, which
    # posts announce before it and report after it (measured on the synthetic Rust questions, which
    # name conference days: MRR@10 0.894 with a day's month window, 0.908 with its year).
    within = [p for p in named if (p.first.month, p.first.day, p.last.month, p.last.day) != (1, 1, 12, 31)
              and p.first != p.last]
    if len(within) != 1:        # only the year or a day in it, or several times in it
        return f"{first.year}-01-01", f"{first.year}-12-31"
    first, last = within[0].first, within[0].last
    year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    return first.replace(day=1).isoformat(), dt.date(year, month, calendar.monthrange(year, month)[1]).isoformat()
