"""Watson's system entities: `sys-time`, `sys-currency`, `sys-percentage`, Watson-style `sys-date` days,
which of them are on (entities.yml `system_entities`), and how they share a text with `sys-number`."""

from __future__ import annotations

import pytest

from bot.nlu.entities import EntityExtractor, load_entity_definitions, load_system_entities
from bot.nlu.system_amounts import find_currencies, find_percentages, word_number
from bot.nlu.system_days import find_days
from bot.nlu.system_entities import SYSTEM_ENTITIES, SystemEntityConfig, find_system_entities
from bot.nlu.system_times import find_times
from helpers import TODAY           # 2026-11-26, a Thursday
from knowledge.settings import SettingsError

WATSON = SystemEntityConfig(SYSTEM_ENTITIES, "day")


def found(entities, text: str) -> list[tuple[str, object, str]]:
    return [(e.entity, e.value, text[e.start:e.end]) for e in entities]


# -- sys-time -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, literal", [
    ("can we talk at 7pm", "19:00:00", "at 7pm"),
    ("The store closes at 8PM.", "20:00:00", "at 8PM"),     # Watson's own example: "at" is in the literal
    ("the train leaves 14:30", "14:30:00", "14:30"),
    ("6:30 PM works", "18:30:00", "6:30 PM"),
    ("5:30:10 p.m. sharp", "17:30:10", "5:30:10 p.m."),
    ("let's meet at noon", "12:00:00", "at noon"),
    ("open until midnight", "00:00:00", "midnight"),
    ("call me at seven am", "07:00:00", "at seven am"),
    ("12am is late", "00:00:00", "12am"),
    ("at 12pm then", "12:00:00", "at 12pm"),
    ("at 3 o'clock", "03:00:00", "at 3 o'clock"),
    ("The meeting is at 5", "05:00:00", "at 5"),             # Watson: 5 AM, with 5 PM as an alternative
])
def test_sys_time_value_and_literal(text, value, literal):
    [time] = find_times(text)
    assert (time.entity, time.value, text[time.start:time.end]) == ("sys-time", value, literal)


def test_sys_time_granularity_and_alternatives():
    assert find_times("at 17:00:00")[0].extra == {"granularity": "second"}
    assert find_times("14:30")[0].extra == {"granularity": "minute"}
    assert find_times("at 7pm")[0].extra == {"granularity": "hour"}
    assert find_times("The meeting is at 5")[0].extra["alternatives"] == [{"value": "17:00:00"}]


@pytest.mark.parametrize("text", ["I have 5 a week", "at 5 percent", "we have 3 stores at 2 locations",
                                  "version 2.14:30", "at 13pm", "rated 10 out of 10"])
def test_no_sys_time(text):
    assert find_times(text) == [], found(find_times(text), text)


# -- sys-currency and sys-percentage ------------------------------------------------------------

@pytest.mark.parametrize("text, value, unit, literal", [
    ("pay $20 now", 20, "USD", "$20"),
    ("pay $25.50", 25.5, "USD", "$25.50"),
    ("it costs $1,234.56", 1234.56, "USD", "$1,234.56"),
    ("twenty dollars please", 20, "USD", "twenty dollars"),
    ("Five dollars", 5, "USD", "Five dollars"),
    ("€5.50 for a coffee", 5.5, "EUR", "€5.50"),
    ("it was 20 euros", 20, "EUR", "20 euros"),
    ("£3 is fine", 3, "GBP", "£3"),
    ("20 cents", 0.2, "USD", "20 cents"),                  # base units, as Watson
    ("send USD 300", 300, "USD", "USD 300"),
    ("5 million dollars", 5_000_000, "USD", "5 million dollars"),
    ("one hundred and ten euros", 110, "EUR", "one hundred and ten euros"),
])
def test_sys_currency(text, value, unit, literal):
    [money] = find_currencies(text)
    assert (money.entity, money.value, money.extra, text[money.start:money.end]) == \
        ("sys-currency", value, {"numeric_value": value, "unit": unit}, literal)


@pytest.mark.parametrize("text", ["I have 3 apples", "often dollars are green", "the dollar fell"])
def test_no_sys_currency(text):
    assert find_currencies(text) == []


@pytest.mark.parametrize("text, values, literals", [
    ("a 15% tip", [15], ["15%"]),
    ("10 percent off", [10], ["10 percent"]),
    ("fifteen per cent", [15], ["fifteen per cent"]),
    ("1,234.56%", [1234.56], ["1,234.56%"]),
    ("1-2%", [1, 2], ["1", "2%"]),                        # Watson: "1-2%" gives 1% and 2%
])
def test_sys_percentage(text, values, literals):
    percentages = find_percentages(text)
    assert [p.value for p in percentages] == values
    assert [text[p.start:p.end] for p in percentages] == literals
    assert all(p.extra == {"numeric_value": p.value} for p in percentages)


def test_word_numbers():
    assert word_number("twenty-five") == 25
    assert word_number("a hundred") == 100
    assert word_number("two thousand and five") == 2005
    assert word_number("lots") is None


# -- Watson-style sys-date ----------------------------------------------------------------------

@pytest.mark.parametrize("text, value, literal", [
    ("can I meet at 3pm tomorrow", "2026-11-27", "tomorrow"),
    ("I plan to leave on Saturday", "2026-11-28", "on Saturday"),     # Watson's literal has the "on"
    ("this Thursday", "2026-12-03", "this Thursday"),                 # said on a Thursday: next week's
    ("last friday", "2026-11-20", "last friday"),
    ("May 8", "2027-05-08", "May 8"),                                 # no year: the coming one
    ("on May 13, 2020", "2020-05-13", "on May 13, 2020"),
    ("the 3rd of December", "2026-12-03", "the 3rd of December"),
    ("5/8/2024", "2024-05-08", "5/8/2024"),                           # US English: month first
    ("25/8/2024", "2024-08-25", "25/8/2024"),                         # ... unless it cannot be a month
    ("2024-05-08", "2024-05-08", "2024-05-08"),
    ("in 3 days", "2026-11-29", "in 3 days"),
    ("next week", "2026-11-30", "next week"),
    ("March 2023", "2023-03-01", "March 2023"),
])
def test_watson_sys_date_is_one_day(text, value, literal):
    [date] = find_days(text, TODAY)
    assert (date.entity, date.value, text[date.start:date.end]) == ("sys-date", value, literal)


def test_watson_sys_date_fields():
    [may] = find_days("May 8", TODAY)
    assert may.extra == {"granularity": "day", "from": "2027-05-08", "to": "2027-05-08",
                         "alternatives": [{"value": "2026-05-08"}]}
    [month] = find_days("anything in March 2023?", TODAY)
    assert (month.extra["granularity"], month.extra["from"], month.extra["to"]) == ("month", "2023-03-01", "2023-03-31")
    start, end = find_days("from March 15 to March 22", TODAY)
    assert (start.extra["role"], end.extra["role"]) == ({"type": "date_from"}, {"type": "date_to"})
    assert "role" not in find_days("posts from last year", TODAY)[0].extra


# -- together: which are on, and overlaps -------------------------------------------------------

def test_overlaps_follow_watsons_new_system_entities():
    text = "pay $25.50 at 7pm on 2024-05-08, a 15% tip, and 3 more"
    assert found(find_system_entities(text, TODAY, WATSON), text) == [
        ("sys-currency", 25.5, "$25.50"), ("sys-time", "19:00:00", "at 7pm"),
        ("sys-date", "2024-05-08", "on 2024-05-08"), ("sys-percentage", 15, "15%"), ("sys-number", 3, "3")]


def test_an_amount_is_not_a_date():
    assert found(find_system_entities("it cost $2020", TODAY, WATSON), "it cost $2020") == \
        [("sys-currency", 2020, "$2020")]


def test_default_finds_dates_and_numbers_as_before():
    text = "pay $20 at 7pm in 2021"
    assert found(find_system_entities(text, TODAY), text) == [
        ("sys-number", 20, "20"), ("sys-date", "2021-01-01/2021-12-31", "2021")]


def test_only_the_listed_system_entities():
    config = SystemEntityConfig(("sys-time", "sys-currency"), "day")
    text = "pay $20 at 7pm tomorrow, 3 times"
    assert found(find_system_entities(text, TODAY, config), text) == [
        ("sys-currency", 20, "$20"), ("sys-time", "19:00:00", "at 7pm")]


def write_entities(tmp_path, text: str):
    path = tmp_path / "entities.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_system_entities_in_entities_yml(tmp_path):
    path = write_entities(tmp_path, "system_entities: [sys-time, sys-currency]\nentities: {}\n")
    config = load_system_entities(path)
    assert config == SystemEntityConfig(("sys-time", "sys-currency"), "day")
    extractor = EntityExtractor(load_entity_definitions(path), system=config)
    assert extractor.names == ["sys-currency", "sys-time", "topic"]
    assert [e.entity for e in extractor.extract("pay $20 at 7pm in 2021", TODAY)] == ["sys-currency", "sys-time"]


def test_without_system_entities_the_default(tmp_path):
    path = write_entities(tmp_path, "entities: {}\n")
    assert load_system_entities(path) == SystemEntityConfig(("sys-date", "sys-number"), "period")
    path = write_entities(tmp_path, "system_entities: [sys-date]\nsys_date_values: period\n")
    assert load_system_entities(path) == SystemEntityConfig(("sys-date",), "period")
    path = write_entities(tmp_path, "system_entities: []\n")
    assert load_system_entities(path).enabled == ()


def test_the_blog_config_keeps_its_system_entities():
    assert load_system_entities() == SystemEntityConfig(("sys-date", "sys-number"), "period")


@pytest.mark.parametrize("text, message", [
    ("system_entities: [sys-location]\n", "unknown sys-location"),
    ("system_entities: sys-date\n", "must be a list"),
    ("sys_date_values: weekly\n", "sys_date_values must be one of"),
])
def test_system_entity_errors(tmp_path, text, message):
    with pytest.raises(SettingsError, match=message):
        load_system_entities(write_entities(tmp_path, text))
