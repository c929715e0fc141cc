"""Watson's expression language: shorthand, full forms, operators, methods, dates, render, context updates, errors."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path

import pytest

from bot.dialogue.expressions import (ExpressionError, Mention, Scope, parse_expression, problems, render,
                                      resolve_context_value)

BANK = Path("/work/shared/watson/bank_simple_workspace.json")
NOW = datetime.datetime(2026, 12, 6, 9, 5, 7)


def make_scope(**changes) -> Scope:
    """A turn: a few context variables, entities, intents and a fixed clock."""
    context = {"name": "Sam", "count": 2, "price": "4.5", "empty": "", "zero": 0, "flag": True,
               "user": {"first": "Jane", "tags": ["a", "b"]}, "toppings": ["onion", "olives"],
               "card_type": "MASTER CARD", "cities": [{"name": "Tokyo", "pop": 9}, {"name": "Rome", "pop": 2}],
               "due": "2027-03-07 10:00:00", "day": "2026-12-10", "at": "15:30:00", "json": '{"a": [1, 2]}'}
    entities = [Mention("city", "Boston", "boston", 10, 16), Mention("city", "New York", "NYC", 20, 23, 0.7),
                Mention("sys-number", 3, "three", 30, 35), Mention("sys-date", "2026-12-07", "Monday", 40, 46),
                Mention("sys-date", "2026-12-25", "Christmas"), Mention("sys-time", "18:45:00", "6:45pm"),
                Mention("us_phone", "617-555-1234", "617-555-1234", groups=["617-555-1234", "617", "555"]),
                Mention("my.thing", "dotted", "dot")]
    values = dict(context=context, input_text="Hello 123 this is 456", entities=entities,
                  intents=[("help", 0.9), ("bye", 0.3)], now=NOW, flags={"conversation_start": True})
    values.update(changes)
    return Scope(**values)


def ev(text: str, scope: Scope | None = None) -> object:
    """The value of an expression in the standard scope (or the one given)."""
    return parse_expression(text).evaluate(scope or make_scope())


@pytest.mark.parametrize("text, expected", [
    ("$name", "Sam"), ("$user.first", "Jane"), ("$user.tags[1]", "b"), ("$toppings[0]", "onion"),
    ("$nothing", None), ("$nothing.x", None), ("$(card_type)", "MASTER CARD"), ("$card_type:(MASTER CARD)", True),
    ("$name:Sam", True), ("$name:sam", False), ("$flag:true", True), ("$count:2", True), ("$nothing:x", False),
    ("@sys-number", 3), ("@sys-number < 1", False), ("@sys-number == 3", True), ("@city", "Boston"),
    ("@city.value", "Boston"), ("@city.literal", "boston"), ("@city.location", [10, 16]),
    ("@city.confidence", 1.0), ("@city.values", ["Boston", "New York"]), ("@us_phone.groups[1]", "617"),
    ("@sys-date.reformatDateTime('MM-dd')", "12-07"), ("@city.literal.length()", 6), ("@city.toLowerCase()", "boston"),
    ("@city.contains('Bos')", True), ("@city:Boston", True), ("@city:boston", True), ("@city:(New York)", True),
    ("@city:(new york)", True), ("@city:Paris", False), ("@missing", None), ("@missing.literal", None),
    ("@missing.values", []), ("@missing:x", False), ("@my.thing", "dotted"), ("@my.thing.literal", "dot"),
    ("@sys-number.numeric_value", 3), ("#help", True), ("#bye", False), ("! #help", False), ("NOT #help", False),
    ("#help || #bye", True), ("#nothing", False), ("@sys-time:18:45:00", True), ("@sys-date:2026-12-25", True),
])
def test_shorthand(text, expected):
    assert ev(text) == expected


def test_entity_truthiness_and_intent_threshold():
    zero = make_scope(entities=[Mention("sys-number", 0, "0")])
    assert (ev("@sys-number", zero), parse_expression("@sys-number").holds(zero)) == (0, False)
    assert parse_expression("@sys-number || @sys-number:0").holds(zero) is True
    assert ev("@sys-number < 1", zero) is True
    assert ev("#help", make_scope(intents=[("help", 0.2)])) is True
    assert ev("#help", make_scope(intents=[("help", 0.19)])) is False
    assert ev("#help", make_scope(intents=[("help", 0.5)], intent_threshold=0.6)) is False
    assert ev("#Account_Access-Open.Account", make_scope(intents=[("Account_Access-Open.Account", 1)])) is True
    assert ev("#help", make_scope(intents=[])) is False


@pytest.mark.parametrize("text, expected", [
    ("context['name']", "Sam"), ("context.name", "Sam"), ("context['user']['first']", "Jane"),
    ("input.text", "Hello 123 this is 456"), ("intents[0].confidence", 0.9), ("intents[1].intent", "bye"),
    ("intents[0] == 'help'", True), ("intent == 'help'", True), ("intents.size()", 2), ("intents[5]", None),
    ("intents.indexOf('bye')", 1), ("intents.containsIntent('bye', 0.2, 2)", True),
    ("intents.containsIntent('bye', 0.5)", False), ("entities.size()", 8), ("entities['city'].size()", 2),
    ("entities['city'][1].value", "New York"), ("entities.city[1].literal", "NYC"),
    ("entities['city']?.value", "Boston"), ("entities['city'].contains('New York')", True),
    ("entities['nothing']?.value", None), ("entities[0].entity", "city"), ("entities['city'][1].confidence", 0.7),
    ("entities['city'].![literal]", ["boston", "NYC"]), ("now()", "2026-12-06 09:05:07"), ("today()", "2026-12-06"),
    ("conversation_start", True), ("anything_else", False), ("welcome", False), ("irrelevant", False),
    ("true", True), ("false", False), ("null", None), ("TRUE", True),
])
def test_full_forms_and_words(text, expected):
    assert ev(text) == expected


def test_entities_full_form_is_false_without_mentions():
    assert parse_expression("entities['sys-number']").holds(make_scope(entities=[])) is False
    assert parse_expression("entities['city']").holds(make_scope()) is True


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("10 / 4", 2.5), ("10 / 5", 2), ("7 % 3", 1), ("-7 % 3", -1),
    ("-$count", -2), ("2 - -1", 3), ("1.5 * 2", 3.0), ("5000000000L + 1", 5000000001), ("$price * 2", 9.0),
    ("'a' + 1", "a1"), ("$name + ' ' + $count", "Sam 2"), ("'n: ' + $nothing", "n: "), ("$nothing + 1", 1),
    ("'5' + 1", "51"), ("'5' - 1", 4), ("$count == '2'", True), ("$price > 4", True), ("'10' > '9'", True),
    ("'abc' < 'abd'", True), ("'Sam' == 'sam'", False), ("'2' == '2.0'", False), ("$nothing == null", True),
    ("$empty == null", False), ("$nothing < 5", False), ("1 != 2", True), ("3 >= 3 && 2 <= 1", False),
    ("true and not false", True), ("false or 0 OR ''", False), ("!$nothing", True), ("$count > 1 ? 'many' : 'one'", "many"),
    ("$zero ? 'yes' : 'no'", "no"), ("$nothing ?: 'default'", "default"), ("$name ?: 'default'", "Sam"),
    ("$nothing?.length()", None), ("'it''s'", "it's"), ('"say \\"hi\\""', 'say "hi"'), ("'a\\'b'", "a'b"),
    ("'tab\\there'", "tab\there"), ("'\\d+'", "\\d+"), ("{1, 2}", [1, 2]), ("[1, 'two']", [1, "two"]),
    ("{}", []), ("{'a': 1, b: 2}", {"a": 1, "b": 2}), ("{1, 2}[1]", 2), ("$user['first']", "Jane"),
    ("'abc'[1]", "b"), ("$toppings[9]", None), ("$count = 2", True), ("2 eq 2 and 3 gt 1", True),
    ("'123' matches '\\d+'", True), ("T(Math).max(3, 7)", 7), ("T(String).format('%d items, %.2f', 3, 4.5)", "3 items, 4.50"),
    ("T(String).join(', ', $toppings)", "onion, olives"), ("new JsonArray().append('x')", ["x"]),
    ("$cities.filter('c', 'c.pop > 5').![name]", ["Tokyo"]), ("$cities.?[pop < 5].![name]", ["Rome"]),
])
def test_operators_and_literals(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize("text, holds", [
    ("null", False), ("false", False), ("''", False), ("0", False), ("0.0", False), ("{}", False), ("$user.nothing", False),
    ("'x'", True), ("1", True), ("-1", True), ("{0}", True), ("$user", True), ("'false'", True), ("$empty", False),
])
def test_truthiness(text, holds):
    assert parse_expression(text).holds(make_scope()) is holds


@pytest.mark.parametrize("text, expected", [
    ("'ab'.append('cd')", "abcd"), ("$name.contains('am')", True), ("$name.endsWith('m')", True),
    ("$name.startsWith('S')", True), ("$name.equals('Sam')", True), ("$name.equals('sam')", False),
    ("$name.equalsIgnoreCase('SAM')", True), ("input.text.extract('([\\d]+)(\\b [A-Za-z]+)', 0)", "123 this"),
    ("input.text.extract('([\\d]+)(\\b [A-Za-z]+)', 2)", " this"), ("input.text.extract('x(\\d)', 1)", ""),
    ("input.text.find('\\d{3}')", True), ("input.text.find('^\\d')", False), ("input.text.matches('Hello.*')", True),
    ("input.text.matches('Hello')", False), ("input.text.getMatch('\\d+', 1)", "456"), ("$name.indexOf('m')", 2),
    ("$name.indexOf('z')", -1), ("'a-b-a'.lastIndexOf('a')", 4), ("$empty.isEmpty()", True), ("$name.isEmpty()", False),
    ("$name.length()", 3), ("'a.b.c'.replace('.', '-')", "a-b-c"), ("'a1b22'.replaceAll('\\d+', '#')", "a#b#"),
    ("'John Smith'.replaceAll('(\\w+) (\\w+)', '$2, $1')", "Smith, John"), ("'a;b;;'.split(';')", ["a", "b"]),
    ("'a, b'.split(',\\s*')", ["a", "b"]), ("'This is a text.'.substring(5)", "is a text."),
    ("'This is a text.'.substring(5, 7)", "is"), ("'MiXed'.toLowerCase()", "mixed"), ("'MiXed'.toUpperCase()", "MIXED"),
    ("'  x y  '.trim()", "x y"), ("$json.toJson()", {"a": [1, 2]}), ("$json.toJson().a[1]", 2), ("'42'.toInt()", 42),
    ("'4.5'.toDouble()", 4.5), ("'x'.toInt()", None), ("$name.toString()", "Sam"), ("$toppings.toJson()", ["onion", "olives"]),
    ("$toppings.append('ham', 'egg')", ["onion", "olives", "ham", "egg"]), ("$nothing.append('x')", ["x"]),
    ("$toppings.size()", 2), ("$toppings.contains('onion')", True), ("$toppings.contains('ham')", False),
    ("$toppings.containsIgnoreCase('ONION')", True), ("$toppings.get(1)", "olives"), ("$toppings.indexOf('olives')", 1),
    ("$toppings.indexOf('x')", -1), ("$toppings.join(' and ')", "onion and olives"), ("$toppings.remove(0)", ["olives"]),
    ("$toppings.removeValue('onion')", ["olives"]), ("$toppings.set(1, 'ham')", ["onion", "ham"]), ("$toppings.clear()", []),
    ("$toppings.isEmpty()", False), ("{}.isEmpty()", True), ("$toppings.addAll({'x'})", ["onion", "olives", "x"]),
    ("$cities.filter('city', 'city.pop > 5')", [{"name": "Tokyo", "pop": 9}]), ("$cities.![name]", ["Tokyo", "Rome"]),
    ("$cities.joinToArray('%e.name% (%e.pop%)')", ["Tokyo (9)", "Rome (2)"]), ("$user.has('first')", True),
    ("$user.has('last')", False), ("$user.remove('first')", {"first": "Jane"}), ("$user.size()", 2),
    ("$count.toDouble()", 2.0), ("$price.toInt()", 4), ("4.7.toInt()", 4), ("2.toDouble()", 2.0), ("$count.toString()", "2"),
    ("$count.toString().length()", 1), ("$nothing.size()", None),
])
def test_methods(text, expected):
    assert ev(text) == expected


def test_methods_never_mutate_the_context():
    scope = make_scope()
    for text in ("$toppings.append('x')", "$toppings.remove(0)", "$toppings.clear()", "$user.remove('first')",
                 "$toppings.set(0, 'y')", "$user.clear()"):
        ev(text, scope)
    assert scope.context["toppings"] == ["onion", "olives"] and scope.context["user"]["first"] == "Jane"
    result = ev("$toppings", scope)
    result.append("z")
    assert scope.context["toppings"] == ["onion", "olives"]


@pytest.mark.parametrize("pattern, expected", [
    ("yyyy-MM-dd HH:mm:ss", "2027-03-07 14:05:09"), ("yy/M/d", "27/3/7"), ("MMM MMMM", "Mar March"),
    ("E EEE EEEE", "Sun Sun Sunday"), ("h:mm a", "2:05 PM"), ("hh 'o''clock'", "02 o'clock"), ("H:m:s", "14:5:9"),
    ("S SSS", "0 000"), ("'at' HH''mm", "at 14'05"), ("u D", "7 66"), ("k K", "14 2"),
])
def test_reformat_date_time_patterns(pattern, expected):
    scope = make_scope(context={"t": "2027-03-07 14:05:09"})
    assert ev(f"$t.reformatDateTime(\"{pattern}\")", scope) == expected


@pytest.mark.parametrize("text, expected", [
    ("$day.reformatDateTime('EEE, MMM d, yyyy')", "Thu, Dec 10, 2026"), ("$at.reformatDateTime('h:mm a')", "3:30 PM"),
    ("'00:10:00'.reformatDateTime('h:mm a yyyy')", "12:10 AM 1970"), ("$day.before('2026-12-11')", True),
    ("$day.after('2026-12-11')", False), ("$day.sameMoment('2026-12-10')", True), ("$day.sameOrAfter('2026-12-10')", True),
    ("$day.sameOrBefore('2026-12-09')", False), ("$at.before('16:00:00')", True), ("$at.after('15:30')", False),
    ("$due.after('09:59:59')", True), ("$day.before($due)", True), ("$day.sameMoment('2026-12-10 18:00:00')", True),
    ("$day.before('12:00:00')", False), ("$at.after('2026-12-10')", False), ("@sys-date.before($day)", True),
    ("$day.plusDays(30)", "2027-01-09"), ("$day.minusDays(10)", "2026-11-30"), ("'2027-01-31'.plusMonths(1)", "2027-02-28"),
    ("'2024-02-29'.plusYears(1)", "2025-02-28"), ("$day.minusMonths(12)", "2025-12-10"), ("$at.plusHours(9)", "00:30:00"),
    ("$at.minusMinutes(45)", "14:45:00"), ("$at.plusSeconds(61)", "15:31:01"), ("$due.plusHours(14)", "2027-03-08 00:00:00"),
    ("now().minusHours(10).reformatDateTime('yyyy-MM-dd h a')", "2026-12-05 11 PM"), ("today().plusDays(1)", "2026-12-07"),
    ("now().plusMonths(3)", "2027-03-06 09:05:07"), ("now().reformatDateTime('h:mm a')", "9:05 AM"),
    ("@sys-date.after(today())", True), ("$nothing.before('2026-01-01')", None),
])
def test_dates_and_times(text, expected):
    assert ev(text) == expected


def test_now_uses_the_context_timezone_for_an_aware_clock():
    aware = datetime.datetime(2026, 12, 6, 23, 30, tzinfo=datetime.timezone.utc)
    scope = make_scope(now=aware, context={"timezone": "Europe/Berlin"})
    assert (ev("now()", scope), ev("today()", scope)) == ("2026-12-07 00:30:00", "2026-12-07")
    assert ev("now('America/New_York')", scope) == "2026-12-06 18:30:00"


@pytest.mark.parametrize("text", [
    "'2026-13-01'.plusDays(1)", "'soon'.before('2026-01-01')", "$name.reformatDateTime('h')",
    "$day.reformatDateTime('yyyy-MM-dd q')", "$day.reformatDateTime(\"'open\")", "$name.noSuchMethod()",
    "$toppings.trim()", "'a' < 1", "$toppings > 1", "1 / 0", "nosuchname", "nosuchfunction()", "$name.substring(9)",
    "'x'.matches('(')", "T(Math).nope(1)", "new Thing()", "-'abc'", "$user.first.nope", "$toppings.set(5, 1)",
])
def test_runtime_errors_raise_expression_error(text):
    with pytest.raises(ExpressionError):
        ev(text)


@pytest.mark.parametrize("text, position", [
    ("#a ||", 6), ("(1 + 2", 7), ("1 +* 2", 4), ("'open", 1), ("$x ==", 6), ("a b", 3), ("1 ? 2", 6), ("$x.", 4),
    ("f(1,", 5), ("", 1), ("{1, 2", 6), ("1 ^ 2", 3),
])
def test_syntax_errors_say_where(text, position):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.position == position - 1 and f"at character {position}" in str(caught.value)


def test_names_used_by_an_expression():
    expression = parse_expression("@b || #x && @a:v || entities['c'] || @b.literal || #y || #x || entities.d")
    assert expression.entity_names() == ["b", "a", "c", "d"] and expression.intent_names() == ["x", "y"]
    assert parse_expression("<? @sys-date ?>").entity_names() == ["sys-date"]


def test_render(caplog):
    scope = make_scope(context={"n": 15.0, "f": 2.5, "b": True, "list": ["a", 1], "obj": {"k": None}, "name": "Ann",
                                "amount": 50, "user": {"first": "Jo"}})
    assert render("<? $n ?>|<? $f ?>|<? $b ?>|<? $nothing ?>|<? $list ?>|<? $obj ?>|<? 1 + 1 ?>", scope) == \
        '15|2.5|true||["a",1]|{"k":null}|2'
    assert render("Hi $name, $$amount due. Mail ann@example.com or @city.", scope) == \
        "Hi Ann, $50 due. Mail ann@example.com or Boston."
    assert render("$150 and $ 0.00, \\$name \\@city \\#1, $user.first $user.last.", scope) == \
        "$150 and $ 0.00, $name @city #1, Jo {\"first\":\"Jo\"}.last."
    assert render("@sys-number.literal @sys-date.values @missing. @city.literal", scope) == \
        'three ["2026-12-07","2026-12-25"] . boston'
    assert render("Total: $amount.", scope) == "Total: 50."
    assert render("<? 'a?>b' ?> <? $name.toUpperCase() ?>", scope) == "a?>b ANN"
    with caplog.at_level(logging.WARNING, logger="bot.dialogue.expressions"):
        assert render("x<? $name.nope() ?>y<? 1 + ?>z", scope) == "xyz"
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]
    assert "$name.nope()" in caplog.records[0].getMessage()
    assert render("broken <? 1 +", scope) == "broken <? 1 +"


def test_resolve_context_value():
    scope = make_scope()
    update = {"d": "@sys-date", "lit": "@city.literal", "v": "@city.values", "len": "<? @city.literal.length() ?>",
              "sum": "<? $count + 1 ?>", "list": "<?$toppings.append('ham')?>", "var": "$user", "field": "$user.first",
              "text": "Hi $name", "n": 5, "b": False, "none": None, "nested": {"a": ["$count", "<? $count * 2 ?>"]},
              "bad": "<? $name.nope() ?>", "missing": "@missing", "money": "$$150 off"}
    assert resolve_context_value(update, scope) == {
        "d": "2026-12-07", "lit": "boston", "v": ["Boston", "New York"], "len": 6, "sum": 3,
        "list": ["onion", "olives", "ham"], "var": {"first": "Jane", "tags": ["a", "b"]}, "field": "Jane",
        "text": "Hi Sam", "n": 5, "b": False, "none": None, "nested": {"a": [2, 4]}, "bad": None, "missing": None,
        "money": "$$150 off"}
    resolve_context_value({"var": "$user"}, scope)["var"]["first"] = "changed"
    assert scope.context["user"]["first"] == "Jane"


def test_problems():
    assert problems("#a || @b:(x y) && $c > 1") == [] and problems("") == []
    assert problems("#a ||") == ["condition: expected a value but found the end at character 6 in '#a ||'"]
    found = problems({"context": {"x": "<? $a. ?>", "y": ["fine $a", "ok <? 1 +"]}, "text": "#not a condition"})
    assert len(found) == 2 and "'<? 1 +'" not in found[0] and "$a." in found[0] and "ok <? 1 +" in found[1]
    assert problems("Hello $name", condition=False) == [] and problems({"c": "#a ||"}, condition=True) != []


# ---- IBM's Banking sample -------------------------------------------------------------------------------

BANK_EXPRESSIONS = {
    "$acc_paydue.reformatDateTime('EEE, MMM d, yyyy')": "Sun, Mar 7, 2027",
    "$acc_paydue.reformatDateTime('MMM d, yyyy')": "Mar 7, 2027",
    "$app_date.reformatDateTime('EEE, MMM d')": "Fri, Dec 25", "$app_date.reformatDateTime('EEEE')": "Friday",
    "$app_time.reformatDateTime('h:mm a')": "3:30 PM",
    "$card_type_selected.append('<br><br><b>The Balanced Rewards Card</b><br>Just the right amount of all rewards')":
        ["<br><br><b>The Balanced Rewards Card</b><br>Just the right amount of all rewards"],
    "$card_type_selected.append('<br><br><b>The Ultimate Cash Back Card</b><br>Get the most cash back for your purchases')":
        ["<br><br><b>The Ultimate Cash Back Card</b><br>Get the most cash back for your purchases"],
    "$card_type_selected.append('<br><br><b>Travel Rewards</b><br>$150 online cash rewards bonus offer')":
        ["<br><br><b>Travel Rewards</b><br>$150 online cash rewards bonus offer"],
    "$cc_paydate.reformatDateTime('EEE, MMM d, yyyy')": "Thu, Dec 10, 2026",
    "$ccpsp_criteria.append('Cash Rewards')": ["Credit Level", "Cash Rewards"],
    "$ccpsp_criteria.append('Credit Level')": ["Credit Level", "Credit Level"],
    "$ccpsp_criteria.append('General Rewards')": ["Credit Level", "General Rewards"],
    "$ccpsp_criteria.append('Saving')": ["Credit Level", "Saving"],
    "$ccpsp_criteria.append('Travel Rewards')": ["Credit Level", "Travel Rewards"],
    "@Address.literal.length()": 5, "@sys-date.reformatDateTime('EEE, MMM d, yyyy')": "Mon, Dec 7, 2026",
    "@sys-date.reformatDateTime('MM-dd')": "12-07", "@sys-date.values": ["2026-12-07", "2026-12-25"],
    "@sys-date.values.size()": 2, "@sys-number.value": 3, "@sys-time.reformatDateTime('h:mm a')": "6:45 PM",
    "context['acc_currbal'] - context['cc_payamt']": 380, "context['cc_futurepaydate_error'] + 1": 2,
    "context['cc_pastpaydate_error'] + 1": 1, "context['off_topic_counter'] + 1": 3,
    "input.text": "Book Dec 7 at 6:45pm, zip 90210", "now().plusMonths(3)": "2027-03-06 09:05:07",
    "now().reformatDateTime('h:mm a')": "9:05 AM", "now().reformatDateTime('yyyy-MM-dd')": "2026-12-06",
}


def bank_scope(**context) -> Scope:
    """A Banking-sample turn: a date, a time, a number and a zip code in the input."""
    base = {"acc_paydue": "2027-03-07 10:00:00", "app_date": "2026-12-25", "app_time": "15:30:00",
            "card_type_selected": [], "cc_paydate": "2026-12-10", "ccpsp_criteria": ["Credit Level"], "acc_currbal": 430,
            "cc_payamt": 50, "acc_minamt": 25, "cc_futurepaydate_error": 1, "cc_pastpaydate_error": 0,
            "off_topic_counter": 2, "current_date": "2026-12-07", "ccpsp_credlvl": 650}
    base.update(context)
    entities = [Mention("sys-date", "2026-12-07", "Dec 7", 5, 10), Mention("sys-time", "18:45:00", "6:45pm", 14, 20),
                Mention("sys-number", 3, "3"), Mention("Address", "zip", "90210", 26, 31), Mention("sys-date", "2026-12-25")]
    return Scope(context=base, input_text="Book Dec 7 at 6:45pm, zip 90210", entities=entities,
                 intents=[("Billing-Balance_Enquiry", 0.8)], now=NOW, flags={"anything_else": True})


@pytest.mark.parametrize("text", sorted(BANK_EXPRESSIONS))
def test_bank_sample_expressions(text):
    assert parse_expression(text).evaluate(bank_scope()) == BANK_EXPRESSIONS[text]


@pytest.mark.parametrize("condition, context, holds", [
    ("@sys-number < 1 || @sys-number > 5 || @zero_match", {}, False),
    ("@sys-time.before('07:00:00') || @sys-time.after('19:00:00')", {}, False), ("@sys-time.before('19:00:00')", {}, True),
    ("$cc_paydate.after($acc_paydue)", {}, False), ("$cc_paydate.before($current_date)", {}, False),
    ("@sys-date == $current_date", {}, True), ("@sys-date.before($current_date)", {}, False),
    ("$app_purpose == \"\" || $app_purpose == null", {}, True), ("$cc_payamt > $acc_minamt || $cc_payamt == $acc_minamt", {}, True),
    ("@CC_CreditLevel:Average || ($ccpsp_credlvl < 701 && $ccpsp_credlvl > 580)", {}, True),
    ("$cc_chosen && $acc_currbal", {"cc_chosen": "5624"}, True), ("$cc_chosen && $acc_currbal", {}, False),
    ("input.text.find('5624') || input.text.find('5893') ||  input.text.find('9225')", {}, False),
    ("entities['sys-number']", {}, True), ("#Billing-Balance_Enquiry", {}, True),
    ("#Billing-Address_Enquiry && #Customer_Profile-Account_Shipping_Address", {}, False),
    ("$app_holidays == \"12-25\" || $app_holidays == \"01-01\"", {"app_holidays": "12-25"}, True),
    ("anything_else", {}, True), ("conversation_start", {}, False), ("@Address.literal", {}, True),
])
def test_bank_sample_conditions(condition, context, holds):
    assert parse_expression(condition).holds(bank_scope(**context)) is holds


def test_bank_sample_text_and_context_updates():
    scope = bank_scope()
    assert render("Recent payments: $$cc_payamt<br>Payment to be made on <? $cc_paydate.reformatDateTime('EEE, MMM d, yyyy') ?>",
                  scope) == "Recent payments: $50<br>Payment to be made on Thu, Dec 10, 2026"
    assert render("Okay, location @sys-number on the list. Card # 5624", scope) == "Okay, location 3 on the list. Card # 5624"
    update = {"cc_paydate": "@sys-date", "app_zip": "@Address.literal", "appzip_len": "<? @Address.literal.length() ?>",
              "paydate_items": "<? @sys-date.values ?>", "cc_payamt": "$acc_minamt", "number_identified": "<? @sys-number.value ?>"}
    assert resolve_context_value(update, scope) == {"cc_paydate": "2026-12-07", "app_zip": "90210", "appzip_len": 5,
                                                    "paydate_items": ["2026-12-07", "2026-12-25"], "cc_payamt": 25,
                                                    "number_identified": 3}


def test_bank_sample_workspace_parses():
    if not BANK.exists():
        pytest.skip(f"{BANK} is absent: IBM's Banking sample is read from ../shared, never copied into the repo")
    nodes = json.loads(BANK.read_text())["dialog_nodes"]
    conditions = {n["conditions"] for n in nodes if n.get("conditions")}
    assert len(conditions) > 200
    assert [p for c in sorted(conditions) for p in problems(c)] == []
    assert [p for n in nodes for p in problems({k: v for k, v in n.items() if k != "conditions"})] == []
    found = set()
    for node in nodes:
        for value in json.dumps({k: v for k, v in node.items() if k != "conditions"}).split("<?")[1:]:
            found.add(json.loads('"' + value.split("?>")[0] + '"').strip())
    assert found == set(BANK_EXPRESSIONS)
    for condition in conditions:
        parse_expression(condition).evaluate(bank_scope())  # every condition runs without error
