"""A Watson Assistant dialog skill, imported and run: node types, order, conditions, response conditions,
next steps, frames with slots and handlers, digressions, expressions, outputs (tests/dialogue/watson_skill.py
writes the skill in Watson's export format; the real NLU and engine run it)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import yaml

from bot.assistant import build
from bot.watson.importer import import_skill
from knowledge.settings import load_settings
from watson_skill import skill

TODAY = dt.date(2026, 12, 7)      # a Monday
_senders = itertools.count()


@pytest.fixture(scope="module")
def cafe_config(tmp_path_factory):
    """The cafe skill imported into a config folder; (folder, report)."""
    folder = tmp_path_factory.mktemp("watson")
    (folder / "cafe.json").write_text(json.dumps(skill()), encoding="utf-8")
    report = import_skill(folder / "cafe.json", folder / "config")
    return folder / "config", report


@pytest.fixture(scope="module")
def cafe(cafe_config, demo_index):
    """The cafe skill's dialog engine (the demo blog's index underneath, unused by the skill)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BLOGBOT_CONFIG_DIR", str(cafe_config[0]))
        return build(demo_index, load_settings(), tracker_store="memory", today=TODAY).engine


def talk(engine, *inputs: str | None) -> list[list[str]]:
    """What the assistant says at each input of one new conversation (None: the opening)."""
    sender = f"cafe-{next(_senders)}"
    return [[m.text for m in engine.respond(sender, text).messages] for text in inputs]


def test_import_keeps_names_and_reports_counts(cafe_config):
    folder, report = cafe_config
    dialog = yaml.safe_load((folder / "dialog.yml").read_text())
    assert [n["id"] for n in dialog["nodes"]][:3] == ["start", "folder", "book"]
    assert report.counts["intents"] == 9 and report.counts["frame nodes"] == 1 and report.counts["slot nodes"] == 3
    entities = yaml.safe_load((folder / "entities.yml").read_text())
    assert entities["system_entities"] == ["sys-number", "sys-date", "sys-time"]
    assert entities["entities"]["order_id"]["patterns"] == [{"value": "id", "pattern": "ORD-(\\d+)"}]
    assert yaml.safe_load((folder / "intents.yml").read_text())["counterexamples"] == ["tell me a joke"]
    assert report.notes == []


def test_opening_runs_the_welcome_node_with_its_options(cafe):
    sender = "cafe-opening"
    result = cafe.respond(sender, None)
    assert [m.text for m in result.messages] == ["Welcome to the cafe!\nTry:"]
    assert [b.title for b in result.messages[0].buttons] == ["Opening hours", "Book"]
    assert result.messages[0].buttons[0].payload == "when are you open"
    assert result.context["visits"] == 0
    after = cafe.respond(sender, "when are you open")
    assert not {"query", "topic", "mention", "last_answer", "last_intent"} & set(after.context)   # the skill's own only
    assert not {"author", "blog_title", "post_count", "example_topic"} & set(after.context)      # nor the blog's facts


def test_folder_is_transparent_and_response_conditions_pick_the_first_that_holds(cafe):
    sender = f"cafe-{next(_senders)}"
    assert [m.text for m in cafe.respond(sender, "what are your opening hours").messages] == ["We are open from 9 to 5."]
    cafe.set_context(sender, {"vip": True})
    assert [m.text for m in cafe.respond(sender, "when are you open").messages] == \
        ["For you we are open around the clock."]


def test_children_take_the_next_input_and_anything_else_child_jumps_back(cafe):
    assert talk(cafe, "I want a drink", "a latte please") == [["Coffee or tea?"], ["One coffee (coffee), coming up."]]
    said = talk(cafe, "can I order a drink", "some juice", "green tea")
    assert said == [["Coffee or tea?"], ["We only have coffee and tea.", "Coffee or tea?"], ["Tea it is."]]


def test_frame_fills_slots_from_one_input_and_asks_for_the_rest(cafe):
    said = talk(cafe, "book a table for 4 people on Friday", "7pm")
    assert said[0] == ["At what time?"]
    assert said[1] == ["Booked for 4 on Friday, Dec 11 at 7:00 PM.", "See you then!"]


def test_found_handler_reprompts_and_nomatch_handler_answers(cafe):
    said = talk(cafe, "I want to make a reservation", "yesterday", "tomorrow", "at 8pm", "lots", "12", "6")
    assert said[0] == ["Which day?"]
    assert said[1] == ["That day is gone. Another day?", "Which day?"]
    assert said[2] == ["At what time?"]
    assert said[3] == ["For how many people?"]
    assert said[4] == ["Please give a number of people."]
    assert said[5] == ["We seat at most 8. How many people?", "For how many people?"]
    assert said[6] == ["Booked for 6 on Tuesday, Dec 8 at 8:00 PM.", "See you then!"]


def test_frame_handler_skips_to_the_response(cafe):
    said = talk(cafe, "book a table", "cancel the booking")
    assert said == [["Which day?"], ["Booking cancelled.", "Nothing booked then."]]


def test_digression_from_a_slot_returns_to_its_prompt(cafe):
    said = talk(cafe, "book a table", "is it raining", "tomorrow")
    assert said[1] == ["Sunny all day.", "Which day?"]
    assert said[2] == ["At what time?"]


def test_jump_to_condition_falls_through_to_the_next_sibling(cafe):
    assert talk(cafe, "what can you do") == [["Let me see.", "Ask me about hours, drinks or bookings."]]


def test_skip_user_input_pattern_groups_and_jump_to_user_input(cafe):
    assert talk(cafe, "track my order ORD-1234") == [["Looking it up.", "Order 1234 has shipped."]]
    said = talk(cafe, "where is my order", "it is ORD-77")
    assert said == [["Looking it up.", "Which order number?"], ["Order 77 has shipped."]]


def test_anything_else_counts_misses_in_a_context_variable(cafe):
    said = talk(cafe, "purple elephants dance", "purple elephants dance")
    assert said == [["Sorry, I did not get that (miss 1)."], ["Sorry, I did not get that (miss 2)."]]


def test_questions_about_something_else_reach_anything_else_on_a_small_skill(cafe):
    """Nine intents: without scaling by closeness to the examples, softmax over few intents gives such
    questions 0.2-0.5 for some intent; none of them is like any example."""
    for text in ("how do I fine-tune an LLM on a small GPU?", "what is the capital of Mongolia",
                 "which Kubernetes version removed dockershim?"):
        result = cafe.respond(f"cafe-{next(_senders)}", text)
        assert (result.intent, result.node) == (None, "fallback"), text
    assert cafe.respond(f"cafe-{next(_senders)}", "could I reserve a table for two").intent == "book"


def test_counterexample_is_irrelevant(cafe):
    result = cafe.respond(f"cafe-{next(_senders)}", "tell me a joke")
    assert result.intent is None and result.node == "fallback"


def test_digressions_from_a_waiting_node_return_only_into_nodes_that_return(cafe):
    said = talk(cafe, "rate the service", "is it raining", "4 please")
    assert said == [["How many stars?"], ["Sunny all day.", "How many stars?"], ["Thanks for 4 stars."]]
    said = talk(cafe, "rate the service", "hello", "4")
    assert said[1] == ["Hello!"]                     # does_not_return; its failing expression said nothing
    assert said[2] == ["Sorry, I did not get that (miss 1)."]
    said = talk(cafe, "rate the service", "never mind")
    assert said[1] == ["Sorry, I did not get that (miss 1)."]   # not_available: anything_else, which does not return
    assert talk(cafe, "cancel") == [["Nothing to cancel."]]      # from the root it runs


def test_a_waiting_node_with_an_anything_else_child_keeps_the_input(cafe):
    said = talk(cafe, "can I order a drink", "is it raining")
    assert said[1] == ["We only have coffee and tea.", "Coffee or tea?"]
