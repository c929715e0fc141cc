"""entities.yml and intents.yml as a Watson dialog skill fills them: pattern values with literal and
groups, fuzzy matching per entity, values that keep their case, Watson's names, counterexamples.
The NLU here runs on a small bag-of-words encoder: these tests are about the config, not the model."""

from __future__ import annotations

import hashlib
import re
import textwrap

import numpy as np
import pytest

from bot.nlu.entities import EntityExtractor, load_entity_definitions, load_system_entities
from bot.nlu.evaluation import NO_INTENT, cross_validate
from bot.nlu.intents import COUNTEREXAMPLES, load_counterexamples, load_intents
from bot.nlu.parser import Nlu, Parse
from helpers import TODAY
from knowledge.settings import SettingsError


def bag_of_words(texts: list[str]) -> np.ndarray:
    """Unit vectors of hashed words: texts sharing words are close."""
    vectors = np.zeros((len(texts), 256))
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9']+", text.lower()):
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def write(path, text: str):
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def extractor_for(tmp_path, entities_yml: str) -> EntityExtractor:
    path = write(tmp_path / "entities.yml", entities_yml)
    return EntityExtractor(load_entity_definitions(path), system=load_system_entities(path))


def mentions(extractor: EntityExtractor, text: str, name: str) -> list:
    return [e for e in extractor.extract(text, TODAY) if e.entity == name]


# -- pattern values ------------------------------------------------------------------------------

ENTITIES = r"""
system_entities: [sys-number]
entities:
  Address:
    patterns:
      - {value: zip, pattern: '(\b|\s)\d{5}(\b|\s)'}
  ContactInfo:
    patterns:
      - {value: fullUSphone, pattern: '\b((958)|(555))-(\d{3})-(\d{4})\b'}
      - {value: email, pattern: '\b[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b'}
  SPR:
    patterns:
      - {value: spr, pattern: 'SPR[#: ]*?([A-Z]{4}[A-Z0-9]{6})'}
  ticket:
    patterns:
      - 'ticket (?P<value>\d+)'
  Valid_States:
    fuzzy: true
    values:
      TX: [Texas, Tex]
      NY: [New York, newyork]
  colour:
    fuzzy: false
    values:
      turquoise: [aquamarine]
  General_Things-v2.x:
    values:
      thing: [gadget]
"""


@pytest.fixture
def extractor(tmp_path):
    return extractor_for(tmp_path, ENTITIES)


def test_pattern_value_has_value_literal_and_groups(extractor):
    text = "my zip is 10001"
    [address] = mentions(extractor, text, "Address")
    assert address.value == "zip"
    assert "10001" in address.literal and address.literal == text[address.start:address.end]
    assert address.groups[0] == address.literal and len(address.groups) == 3
    data = address.as_json()
    assert (data["value"], data["literal"], data["groups"]) == ("zip", address.literal, address.groups)


def test_groups_as_watson_documents_them(extractor):
    # IBM's example: groups[0] is the whole match; a group that matched nothing is null.
    [phone] = mentions(extractor, "call 958-234-3456 today", "ContactInfo")
    assert (phone.value, phone.literal) == ("fullUSphone", "958-234-3456")
    assert phone.groups == ["958-234-3456", "958", "958", None, "234", "3456"]
    second = mentions(extractor, "from 958-234-3456 to 555-456-5678", "ContactInfo")[1]
    assert second.groups[1] == "555"


def test_two_pattern_values_of_one_entity(extractor):
    text = "mail me at jo.doe@example.com or call 555-123-4567"
    assert [(m.value, m.literal) for m in mentions(extractor, text, "ContactInfo")] == [
        ("email", "jo.doe@example.com"), ("fullUSphone", "555-123-4567")]


def test_pattern_values_are_case_sensitive_plain_patterns_are_not(extractor):
    [spr] = mentions(extractor, "about SPR# AAML68KURS please", "SPR")
    assert (spr.value, spr.literal, spr.groups) == ("spr", "SPR# AAML68KURS", ["SPR# AAML68KURS", "AAML68KURS"])
    assert mentions(extractor, "about spr# aaml68kurs please", "SPR") == []
    assert [(m.value, m.literal, m.groups) for m in mentions(extractor, "TICKET 42 is open", "ticket")] == \
        [("42", "42", [])]


def test_other_mentions_keep_their_json_and_have_a_literal(extractor):
    [state] = mentions(extractor, "I moved to texas", "Valid_States")
    assert (state.value, state.literal) == ("TX", "texas")       # the value keeps its case, as in Watson
    assert state.as_json() == {"entity": "Valid_States", "value": "TX", "start": 11, "end": 16}
    [number] = mentions(extractor, "my zip is 10001", "sys-number")
    assert (number.value, number.literal) == (10001, "10001")


def test_fuzzy_per_entity(extractor):
    assert mentions(extractor, "shipping to Texs", "Valid_States") == []     # too short for a fuzzy match
    [fuzzy] = mentions(extractor, "I moved to newyorkk", "Valid_States")
    assert (fuzzy.value, fuzzy.literal, fuzzy.extra) == ("NY", "newyorkk", {"fuzzy": True})
    assert 0.3 < fuzzy.confidence < 1 and fuzzy.as_json()["confidence"] == round(fuzzy.confidence, 4)
    assert mentions(extractor, "paint it turqoise", "colour") == []       # fuzzy: false
    assert [m.value for m in mentions(extractor, "paint it turquoise", "colour")] == ["turquoise"]


def test_fuzzy_absent_is_on_as_before(tmp_path):
    extractor = extractor_for(tmp_path, "entities:\n  colour:\n    values:\n      turquoise: []\n")
    assert [m.value for m in mentions(extractor, "paint it turqoise", "colour")] == ["turquoise"]


def test_watson_entity_names(extractor):
    assert "General_Things-v2.x" in extractor.names and "Valid_States" in extractor.names
    assert [m.value for m in mentions(extractor, "a new gadget", "General_Things-v2.x")] == ["thing"]


@pytest.mark.parametrize("entities_yml, message", [
    ("entities:\n  zip:\n    patterns: [{value: zip}]\n", "a pattern mapping has exactly value and pattern"),
    ("entities:\n  zip:\n    patterns: [{value: zip, pattern: '(\\d'}]\n", "entity zip: bad pattern"),
    ("entities:\n  colour:\n    fuzzy: maybe\n    values: {red: []}\n", "entity colour: fuzzy must be true or false"),
    ("entities:\n  sys-colour:\n    values: {red: []}\n", "sys- names are the system entities'"),
    ("entities:\n  colour:\n    values: [red, blue]\n", "values must be a mapping"),
])
def test_entity_errors(tmp_path, entities_yml, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_entity_definitions(write(tmp_path / "entities.yml", entities_yml))


# -- intents with Watson's names, counterexamples ----------------------------------------------

INTENTS = """
intents:
  Business_Information-Business_Hours:
    examples: [what are your opening hours, when are you open, what time do you close, hours of business]
  General_Conversation-Control_Go_Back:
    examples: [go back, take me back, previous step please, back to the last question]
  Payment.Make-Payment_v2:
    examples: [I want to pay my bill, make a payment, pay my balance, send a payment]
counterexamples:
  - tell me a joke about cats
  - what is the weather on mars
  - tell me a joke about dogs
"""


@pytest.fixture
def watson_config(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.mkdir()
    write(config / "intents.yml", INTENTS)
    write(config / "entities.yml", "system_entities: [sys-date, sys-time, sys-currency]\nentities: {}\n")
    monkeypatch.setenv("BLOGBOT_CONFIG_DIR", str(config))
    return config


@pytest.fixture
def nlu(settings, watson_config, tmp_path):      # the settings first: from the repo's config
    settings.nlu.intent_threshold = 0.2
    return Nlu(settings, bag_of_words, (), tmp_path / "cache", "bag-of-words")


def test_watson_intent_names_load_and_classify(nlu):
    assert list(nlu.intents) == ["Business_Information-Business_Hours", "General_Conversation-Control_Go_Back",
                                 "Payment.Make-Payment_v2"]
    parse = nlu.parse("when do you open", TODAY)
    assert parse.intent == "Business_Information-Business_Hours" and parse.irrelevant is False
    assert nlu.parse("please go back", TODAY).intent == "General_Conversation-Control_Go_Back"
    parse = nlu.parse("I want to pay $25.50 at 3pm tomorrow", TODAY)
    assert parse.intent == "Payment.Make-Payment_v2"
    assert [(e.entity, e.value) for e in parse.entities] == [
        ("sys-currency", 25.5), ("sys-time", "15:00:00"), ("sys-date", "2026-11-27")]


def test_a_counterexample_makes_the_input_irrelevant(nlu):
    parse = nlu.parse("tell me a joke about horses", TODAY)
    assert parse.intent is None and parse.irrelevant is True
    assert COUNTEREXAMPLES not in [name for name, _ in parse.intent_ranking]
    assert set(name for name, _ in parse.intent_ranking) == set(nlu.intents)
    assert parse.confidence == parse.intent_ranking[0][1]
    assert "irrelevant" not in parse.as_json()          # the parse's JSON is as before


def test_counterexamples_are_loaded_in_order(watson_config):
    assert load_counterexamples() == ["tell me a joke about cats", "what is the weather on mars",
                                      "tell me a joke about dogs"]


def test_below_the_threshold_is_irrelevant_too(nlu):
    nlu.settings.intent_threshold = 0.99
    parse = nlu.parse("when do you open", TODAY)
    assert parse.intent is None and parse.irrelevant is True


def test_parse_defaults_keep_old_constructors():
    assert Parse("hi", "greeting", 0.9, [("greeting", 0.9)]).irrelevant is False


def test_cross_validation_with_counterexamples(nlu):
    results = nlu.classifier.cross_validate(folds=2)
    assert len(results) == sum(len(i.examples) for i in nlu.intents.values())
    assert all(gold in nlu.intents for _, gold, _, _ in results)
    scored = cross_validate(nlu, folds=2)
    assert COUNTEREXAMPLES not in scored["per_intent"] and NO_INTENT not in scored["per_intent"]


@pytest.mark.parametrize("intents_yml, message", [
    (INTENTS.replace("counterexamples:", "counterexamples: {a: b}\nignored:"), "counterexamples must be a list"),
    ('intents:\n  "(counterexamples)":\n    examples: [a, b, c]\n', "reserved for the counterexamples"),
])
def test_intent_errors(tmp_path, intents_yml, message):
    path = write(tmp_path / "intents.yml", intents_yml)
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_intents(path)
        load_counterexamples(path)


def test_the_blog_config_has_no_counterexamples():
    assert load_counterexamples() == []
