"""System entities: `sys-date` periods, ranges and open ranges (with spans), and `sys-number`."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlu.system_entities import find_dates, find_numbers
from helpers import TODAY

OPEN = None   # an open start: "before X" covers every earlier post

# (text, the expression's span text, first day, last day), resolved against TODAY = 2026-11-26.
DATE_CASES = [
    ("posts from March 2023", "March 2023", "2023-03-01", "2023-03-31"),
    ("anything in 2019?", "2019", "2019-01-01", "2019-12-31"),
    ("what did you write last year", "last year", "2025-01-01", "2025-12-31"),
    ("articles between May and July 2021", "between May and July 2021", "2021-05-01", "2021-07-31"),
    ("anything from summer 2019?", "summer 2019", "2019-06-01", "2019-08-31"),
    ("posts since 2020", "since 2020", "2020-01-01", "2026-11-26"),
    ("posts before March 2022", "before March 2022", OPEN, "2022-02-28"),
    ("posts 2019-2021 please", "2019-2021", "2019-01-01", "2021-12-31"),
    ("list posts from 2018 to 2020", "from 2018 to 2020", "2018-01-01", "2020-12-31"),
    ("what was posted on 2021-05-03?", "2021-05-03", "2021-05-03", "2021-05-03"),
    ("the post of May 3, 2021", "May 3, 2021", "2021-05-03", "2021-05-03"),
    ("posts from the last 3 months", "the last 3 months", "2026-08-26", "2026-11-26"),
    ("what did you write two years ago", "two years ago", "2024-01-01", "2024-12-31"),
    ("anything new this month?", "this month", "2026-11-01", "2026-11-30"),
    # The parser search's date window uses too (knowledge/dates.py): a comma or "in" after a part
    # of the year, a dotted day's year.
    ("the hackfest in fall, 2020", "fall, 2020", "2020-09-01", "2020-11-30"),
    ("what came out late in 2020?", "late in 2020", "2020-09-01", "2020-12-31"),
    ("the meetup on 05.12.2020", "2020", "2020-01-01", "2020-12-31"),
]

# A year glued to other characters is not a date, and neither are four digits outside 1980-2099.
NOT_DATES = ["the project goals for 2025H2", "listen on port 9999-12", "a gtx 1080-10 card"]


@pytest.mark.parametrize("text, span, first, last", DATE_CASES, ids=[c[1] for c in DATE_CASES])
def test_sys_date_value_and_span(text, span, first, last):
    dates = find_dates(text, TODAY)
    assert len(dates) == 1, [d.as_json() for d in dates]
    date = dates[0].as_json()
    assert date["entity"] == "sys-date"
    assert text[date["start"]:date["end"]] == span
    if first is OPEN:
        assert date["from"] <= "1990-01-01", date
    else:
        assert date["from"] == first, date
    assert date["to"] == last, date
    assert date["value"] == f"{date['from']}/{date['to']}"


def test_relative_dates_follow_today():
    assert find_dates("posts from last year", dt.date(2020, 3, 1))[0].value == "2019-01-01/2019-12-31"
    assert find_dates("posts from this month", dt.date(2024, 2, 10))[0].value == "2024-02-01/2024-02-29"
    assert find_dates("posts since 2023", dt.date(2024, 6, 30))[0].value == "2023-01-01/2024-06-30"


def test_a_month_without_year_is_the_latest_one_not_after_today():
    assert find_dates("what went up in June?", TODAY)[0].value == "2026-06-01/2026-06-30"
    assert find_dates("posts from December", TODAY)[0].value == "2025-12-01/2025-12-31"


def test_two_dates_in_one_text_stay_apart():
    text = "posts from March 2023 or from summer 2019"
    assert [d.value for d in find_dates(text, TODAY)] == ["2023-03-01/2023-03-31", "2019-06-01/2019-08-31"]


@pytest.mark.parametrize("text", ["I may need help", "what about the second one", "summarize the first post",
                                  "how do I run a 7B model on 12 GB of memory?", "can I ask you something"])
def test_no_date_in_ordinary_words(text):
    assert find_dates(text, TODAY) == []


def test_range_written_newest_first_covers_both_years():
    [date] = find_dates("posts between 2021 and 2019", TODAY)
    assert date.value == "2019-01-01/2021-12-31", f"got {date.value}: the range must cover both whole years"


def numbers(text: str) -> list:
    return [n.value for n in find_numbers(text, find_dates(text, TODAY))]


def test_sys_number_digits_and_words_with_spans():
    text = "show me 3 posts, then twelve more and 2.5 extra"
    found = find_numbers(text, find_dates(text, TODAY))
    assert [(n.entity, n.value) for n in found] == [("sys-number", 3), ("sys-number", 12), ("sys-number", 2.5)]
    assert [text[n.start:n.end] for n in found] == ["3", "twelve", "2.5"]


@pytest.mark.parametrize("text, expected", [
    ("give me five articles", [5]),
    ("three posts from March 2023", [3]),
    ("posts from the last 3 months", []),
    ("what was posted on 2021-05-03?", []),
    ("posts 2019-2021 please", []),
    ("the post of May 3, 2021", []),
    ("what about the second one", []),
    ("I may need help", []),
])
def test_sys_number_leaves_out_numbers_inside_dates(text, expected):
    assert numbers(text) == expected


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_a_date(text):
    assert find_dates(text, TODAY) == []
