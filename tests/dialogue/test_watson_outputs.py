"""More of Watson's dialog, imported and run: response shapes (random, multiline, the generic array,
the older text forms), conditions on input.text, system entities in expressions, skip_slot, a slot's
own handler, digress_out_slots allow_returning, digress_out allow_all_never_return, fuzzy matching
switched off."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from bot.assistant import build
from bot.watson.importer import import_skill
from knowledge.settings import load_settings
from watson_skill import intent, node

_senders = itertools.count()

INTENTS = [
    intent("greeting", "hi", "hello", "hey there", "good morning", "hello again", "hi shop"),
    intent("options", "what are my options", "list the options", "which choices do I have", "show options",
           "what can I choose", "options please"),
    intent("agent", "talk to a person", "I want a human", "connect me to an agent", "real person please",
           "speak to someone", "human agent"),
    intent("legacy", "old format", "legacy reply", "the old way", "show the legacy text", "classic format",
           "old style please"),
    intent("order", "I want to order a shirt", "buy a shirt", "order a t-shirt", "I'd like a shirt",
           "purchase a shirt", "get me a shirt"),
    intent("quiz", "start the quiz", "quiz me", "let's play a quiz", "ask me a question", "play the game",
           "quiz time"),
    intent("weather", "what's the weather", "is it raining", "weather forecast", "will it be sunny",
           "how is the weather today", "is it cold outside"),
]
ENTITIES = [
    {"entity": "color", "fuzzy_match": False, "values": [
        {"type": "synonyms", "value": "red", "synonyms": ["crimson"]},
        {"type": "synonyms", "value": "blue", "synonyms": ["navy"]}]},
    {"entity": "sys-number", "values": []}, {"entity": "sys-currency", "values": []},
    {"entity": "sys-percentage", "values": []},
]
NODES = [
    node("lucky", "input.text.contains('lucky')", text="Feeling lucky!"),
    node("budget", "@sys-currency", previous="lucky", text="Budget: <? @sys-currency ?>, after 10% off "
         "<? @sys-currency * 0.9 ?>."),
    node("discount", "@sys-percentage", previous="budget", text="A discount of <? @sys-percentage ?> percent."),
    node("greet", "#greeting", previous="discount", text=["Hello!", "Hi!"], policy="random"),
    node("options", "#options", previous="greet", text=["Shirts", "Mugs"], policy="multiline"),
    node("agent", "#agent", previous="options", output={"generic": [
        {"response_type": "text", "values": [{"text": "Let me get someone."}]},
        {"response_type": "pause", "time": 1000, "typing": True},
        {"response_type": "image", "source": "https://example.com/map.png", "title": "Our shop"},
        {"response_type": "connect_to_agent", "message_to_human_agent": "wants a person",
         "agent_available": {"message": "Connecting you now."}}]}),
    node("legacy", "#legacy", previous="agent", output={"text": ["From a <b>list</b>.<br/>See <a href='https://example.com/'>"
                                                                 "the help</a>."]}),
    node("order", "#order", previous="legacy", type="frame", digress_out_slots="allow_returning",
         output={"text": "Order: a $color shirt<? $size ? ', size ' + $size : '' ?>."}),
    node("slot_color", None, parent="order", type="slot", variable="$color"),
    node("color_input", "@color", parent="slot_color", type="event_handler", event_name="input",
         context={"color": "@color"}),
    node("color_focus", None, parent="slot_color", previous="color_input", type="event_handler", event_name="focus",
         output={"text": "Which color?"}),
    node("slot_size", None, parent="order", previous="slot_color", type="slot", variable="$size"),
    node("size_input", "@sys-number", parent="slot_size", type="event_handler", event_name="input",
         context={"size": "@sys-number"}),
    node("size_focus", None, parent="slot_size", previous="size_input", type="event_handler", event_name="focus",
         output={"text": "What size?"}),
    node("size_skip", "input.text == 'any'", parent="slot_size", previous="size_focus", type="event_handler",
         event_name="generic", text="Any size then.", next_step={"behavior": "skip_slot"}),
    node("quiz", "#quiz", previous="order", text="Pick a number.", digress_out="allow_all_never_return"),
    node("quiz_answer", "@sys-number", parent="quiz", text="You picked @sys-number."),
    node("weather", "#weather", previous="quiz", text="Sunny.", digress_in="returns"),
    node("fallback", "anything_else", previous="weather", text="Pardon?"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory, demo_index):
    folder = tmp_path_factory.mktemp("shop")
    skill = {"name": "Shop", "intents": INTENTS, "entities": ENTITIES, "dialog_nodes": NODES,
             "metadata": {"api_version": {"major_version": "v1", "minor_version": "2018-09-20"}}}
    (folder / "shop.json").write_text(json.dumps(skill), encoding="utf-8")
    report = import_skill(folder / "shop.json", folder / "config")
    assert report.notes == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BLOGBOT_CONFIG_DIR", str(folder / "config"))
        return build(demo_index, load_settings(), tracker_store="memory", today=dt.date(2026, 12, 7)).engine


def talk(engine, *inputs: str) -> list[list[str]]:
    sender = f"shop-{next(_senders)}"
    return [[m.text for m in engine.respond(sender, text).messages] for text in inputs]


def test_random_picks_one_variant_and_multiline_says_them_all(shop):
    said = {talk(shop, "hello")[0][0] for _ in range(12)}
    assert said <= {"Hello!", "Hi!"} and len(said) == 2
    assert talk(shop, "what are my options") == [["Shirts\nMugs"]]


def test_generic_array_pause_image_and_hand_off(shop):
    assert talk(shop, "talk to a person") == [["Let me get someone.",
                                               "[Our shop](https://example.com/map.png)\nConnecting you now."]]


def test_older_text_list_form_with_the_html_watsons_web_chat_renders_as_markdown(shop):
    assert talk(shop, "show the legacy text") == [["From a **list**.\nSee [the help](https://example.com/)."]]


def test_conditions_on_input_text_and_system_entities_in_expressions(shop):
    assert talk(shop, "I feel lucky today") == [["Feeling lucky!"]]
    assert talk(shop, "my budget is $40") == [["Budget: 40, after 10% off 36."]]
    assert talk(shop, "is there 15% off?") == [["A discount of 15 percent."]]


def test_slot_handler_skips_its_slot_and_fuzzy_matching_can_be_off(shop):
    said = talk(shop, "I want to order a shirt", "redd", "crimson", "any")
    assert said[0] == ["Which color?"]
    assert said[1] == ["Which color?"]     # fuzzy_match false: "redd" is no color; anything_else does not return
    assert said[2] == ["What size?"]
    assert said[3] == ["Any size then.", "Order: a red shirt."]
    assert talk(shop, "buy a shirt", "navy", "42") == [["Which color?"], ["What size?"], ["Order: a blue shirt, size 42."]]


def test_slots_digress_only_to_nodes_that_return_and_come_back_to_the_prompt(shop):
    said = talk(shop, "buy a shirt", "is it raining", "red", "40")
    assert said[1] == ["Sunny.", "Which color?"]
    assert said[3] == ["Order: a red shirt, size 40."]


def test_allow_all_never_return_does_not_come_back(shop):
    said = talk(shop, "start the quiz", "is it raining", "7")
    assert said[0] == ["Pick a number."]
    assert said[1] == ["Sunny."]
    assert said[2] != ["You picked 7."]          # the quiz no longer waits for its answer
    assert talk(shop, "quiz me", "7") == [["Pick a number."], ["You picked 7."]]


def disambiguating_shop(tmp_path, demo_index, max_suggestions: int):
    """A skill whose named nodes tell which are offered in "Did you mean…", with every intent above
    half the threshold close enough to be offered."""
    nodes = [node("greet", "#greeting", title="greeting node", user_label="Say hello", text="Hello!"),
             node("weather", "#weather", previous="greet", title="Weather", text="Sunny."),
             node("quiz", "#quiz", previous="weather", title="Quiz", disambiguation_opt_out=True, text="Pick one."),
             node("options", "#options", previous="quiz", text="Shirts."),
             node("closed", "false", previous="options", type="folder"),
             node("agent", "#agent", parent="closed", title="Agent", text="Hold on."),
             node("legacy", "#legacy", previous="closed", title="Legacy", text="Old style. Anything else?"),
             node("legacy_more", "#order", parent="legacy", title="Order in the old style", text="Old order."),
             node("fallback", "anything_else", previous="legacy", text="Pardon?")]
    skill = {"name": "Shop", "intents": INTENTS, "entities": ENTITIES, "dialog_nodes": nodes,
             "system_settings": {"disambiguation": {"enabled": True, "prompt": "Which one?",
                                                    "none_of_the_above_prompt": "Neither",
                                                    "max_suggestions": max_suggestions}}}
    (tmp_path / "shop.json").write_text(json.dumps(skill), encoding="utf-8")
    assert import_skill(tmp_path / "shop.json", tmp_path / "config").notes == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BLOGBOT_CONFIG_DIR", str(tmp_path / "config"))
        settings = load_settings()
        settings.nlu.disambiguation_margin = 1.0
        settings.nlu.intent_threshold = 0.0
        return build(demo_index, settings, tracker_store="memory", today=dt.date(2026, 12, 7)).engine


EVERYTHING = "hello, is it going to rain? quiz me, what are my options, I want a human, buy a shirt, old format"


def test_disambiguation_offers_named_reachable_nodes_with_the_skills_texts(tmp_path, demo_index):
    """The skill's prompt and "none of the above" text; a node's user_label before its title; never a node
    that opts out, has no name, sits in a folder whose condition is false, or is a child."""
    engine = disambiguating_shop(tmp_path, demo_index, max_suggestions=9)
    asked = engine.respond("shop-which", EVERYTHING)
    assert asked.node == "disambiguation"
    message = asked.messages[0]
    assert message.text == "Which one?"
    assert sorted(b.title for b in message.buttons) == ["Legacy", "Neither", "Say hello", "Weather"]
    chosen = next(b for b in message.buttons if b.title == "Weather")
    assert [m.text for m in engine.respond("shop-which", chosen.payload).messages] == ["Sunny."]


def test_disambiguation_offers_at_most_max_suggestions(tmp_path, demo_index):
    asked = disambiguating_shop(tmp_path, demo_index, max_suggestions=2).respond("shop-two", EVERYTHING)
    assert len(asked.messages[0].buttons) == 3          # two nodes and "Neither"


def test_no_disambiguation_while_a_node_waits_for_its_children(tmp_path, demo_index):
    engine = disambiguating_shop(tmp_path, demo_index, max_suggestions=9)
    legacy = next(b for b in engine.respond("shop-waits", EVERYTHING).messages[0].buttons if b.title == "Legacy")
    assert [m.text for m in engine.respond("shop-waits", legacy.payload).messages] == ["Old style. Anything else?"]
    answered = engine.respond("shop-waits", "buy a shirt, or quiz me")     # the waiting node's child takes it
    assert answered.node == "legacy_more" and [m.text for m in answered.messages] == ["Old order."]
