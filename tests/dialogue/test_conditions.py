"""Dialog node conditions (Watson Assistant syntax): atoms, operators, precedence, comparisons, errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.dialogue.conditions import ConditionError, parse_condition
from bot.dialogue.expressions import Mention, Scope


@dataclass
class Facts:
    """A turn as conditions see it (the TurnFacts protocol): the input of the tests."""

    intent: str | None = None
    entities: dict[str, list] = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    flags: set[str] = field(default_factory=lambda: {"anything_else"})

    def scope(self) -> Scope:
        mentions = [Mention(name, value, str(value)) for name, values in self.entities.items() for value in values]
        return Scope(self.variables, "", mentions, [(self.intent, 0.9)] if self.intent else [],
                     flags={name: True for name in self.flags}, intent_threshold=0.0)


def holds(condition: str, facts: Facts) -> bool:
    return parse_condition(condition).evaluate(facts)


TURN = Facts(intent="find_posts",
             entities={"topic": ["kubernetes", "large language models"], "sys-number": [3]},
             variables={"count": 5, "text_count": "5", "name": "Alice", "user": {"name": "bob"}, "empty": "", "off": False})


@pytest.mark.parametrize("condition, expected", [
    ("#find_posts", True),
    ("#greeting", False),
    ("@topic", True),
    ("@sys-number", True),
    ("@sys-date", False),
    ("@topic:kubernetes", True),
    ("@topic:Kubernetes", True),
    ("@topic:helm", False),
    ("@topic:(large language models)", True),
    ("@topic:(small language models)", False),
    ("$name", True),
    ("$user.name", True),
    ("$missing", False),
    ("$empty", False),
    ("$off", False),
    ("true", True),
    ("false", False),
    ("null", False),
    ("'text'", True),
    ("''", False),
    ("1", True),
    ("0", False),
])
def test_atoms(condition, expected):
    assert holds(condition, TURN) is expected


@pytest.mark.parametrize("condition, expected", [
    ("#find_posts && @topic", True),
    ("#find_posts && @sys-date", False),
    ("#greeting || @topic:kubernetes", True),
    ("#greeting || #goodbye", False),
    ("!#greeting", True),
    ("!#find_posts", False),
    ("!!#find_posts", True),
    ("!@sys-date && #find_posts", True),
    ("!(#greeting || #find_posts)", False),
])
def test_logical_operators(condition, expected):
    assert holds(condition, TURN) is expected


@pytest.mark.parametrize("condition, expected", [
    # && binds tighter than ||: a || (b && c), and (c && b) || a
    ("#find_posts || #greeting && @sys-date", True),
    ("@sys-date && #greeting || #find_posts", True),
    # parentheses override it
    ("(#find_posts || #greeting) && @sys-date", False),
    ("@sys-date && (#greeting || #find_posts)", False),
    # ! applies to the atom right after it, not to the whole expression
    ("!#greeting && #find_posts", True),
    ("!#find_posts || #find_posts", True),
    ("!(#find_posts || #find_posts)", False),
])
def test_precedence_and_parentheses(condition, expected):
    assert holds(condition, TURN) is expected


@pytest.mark.parametrize("condition, expected", [
    ("$count > 3", True),
    ("$count > 5", False),
    ("$count >= 5", True),
    ("$count < 5", False),
    ("$count <= 5", True),
    ("$count == 5", True),
    ("$count != 5", False),
    ("$count == 5.0", True),
    ("$text_count == 5", True),          # numbers compare as numbers
    ("$count > -1", True),
    ("@sys-number >= 3", True),
    ("@sys-number < 2", False),
    ("$name == 'Alice'", True),          # text compares exactly, as in Watson
    ('$name == "ALICE"', False),
    ("$name != 'alice'", True),
    ("$name == 'bob'", False),
    ("@topic == 'kubernetes'", True),
    ("$missing == null", True),
    ("$missing != null", False),
    ("$name == null", False),
    ("$name != null", True),
    ("$name > 3", False),                # ordering needs numbers
    ("$off == false", True),
    ("!$count > 3", False),
])
def test_comparisons(condition, expected):
    assert holds(condition, TURN) is expected


@pytest.mark.parametrize("condition", ["anything_else", "conversation_start", "welcome"])
def test_flags(condition):
    assert holds(condition, Facts(flags={condition})) is True
    assert holds(condition, Facts(flags=set())) is False


def test_welcome_and_conversation_start_are_separate_flags():
    first_turn = Facts(intent="greeting", flags={"anything_else", "conversation_start"})
    assert holds("conversation_start && #greeting", first_turn)
    assert not holds("welcome", first_turn)
    assert holds("anything_else", first_turn)


@pytest.mark.parametrize("condition, names", [
    ("@quoted_title || @mention || @topic", ["quoted_title", "mention", "topic"]),
    ("@topic:(large language models) && !@sys-date", ["topic", "sys-date"]),
    ("#find_posts && $topic == 'x'", []),
])
def test_references_lists_tested_entities_in_order(condition, names):
    assert parse_condition(condition).references() == names


def test_condition_keeps_its_source():
    assert parse_condition("#a && @b").source == "#a && @b"


@pytest.mark.parametrize("condition", [
    "", "   ", "#a &&", "|| #a", "(#a", "#a)", "()", "#a ? #b", "#a #b", "$x ==", "#a == == #b",
    "hello", "#a & #b", "@topic:", "!",
])
def test_bad_syntax_raises(condition):
    with pytest.raises(ConditionError):
        parse_condition(condition)


def test_error_message_names_the_problem():
    with pytest.raises(ConditionError, match=r"\?"):
        parse_condition("#a ? #b")
    with pytest.raises(ConditionError, match="hello"):
        parse_condition("#a && hello")
