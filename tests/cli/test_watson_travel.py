"""A larger written Watson Assistant dialog skill (tests/dialogue/watson_travel_skill.py: 34 intents,
nested folders, a frame with three required slots filled from dates, times and numbers (and an optional one), a jump_to chain, an
anything_else counter in a context variable) imported with `blogbot import-watson` and run end to end
under `blogbot test`. The expected texts are what Watson's documented semantics say the skill does.

`blogbot test` has no way to fix today, so the dates said are explicit (years in the past or far in
the future) and the texts expected of them do not depend on the day the tests run."""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml

from helpers import REPO, run_blogbot

sys.path.insert(0, str(REPO / "tests" / "dialogue"))
from watson_travel_skill import skill  # noqa: E402

pytestmark = pytest.mark.slow

WELCOME = "Welcome to Wanderlust Travel!"
DATE_PROMPT = "When would you like to travel?"
TIME_PROMPT = "What time should the trip start?"
PEOPLE_PROMPT = "How many people are travelling?"


def _then(*texts: str) -> str:
    """A regex: these texts in this order, each in its own message or line (nothing else between)."""
    return "/" + r"\s+".join(re.escape(t) for t in texts) + "/"


def _opening() -> dict:
    return {"bot": {"text": WELCOME, "buttons": ["Book a trip", "Opening hours"], "context": {"extras_open": True}}}


CONVERSATIONS = [
    {"name": "the opening offers buttons that send their value", "steps": [
        _opening(),
        {"click": "Opening hours", "bot": {"intent": "opening_hours", "text": "Monday to Saturday, 9 am to 6 pm"}},
    ]},
    {"name": "a trip booked across turns: a found handler reprompts, a nomatch handler answers", "steps": [
        _opening(),
        {"click": "Book a trip", "bot": {"intent": "book_trip", "text": DATE_PROMPT, "buttons": []}},
        # A date in the past: the filled handler clears the slot and the prompt is said again.
        {"user": "March 3 2020", "bot": {"text": _then("That date has already passed.", DATE_PROMPT),
                                         "context": {"date": None}}},
        # One input fills two slots (date and time): the third is asked for.
        {"user": "March 3 2031 at 10:30 am", "bot": {"text": PEOPLE_PROMPT, "not_text": TIME_PROMPT,
                                                     "context": {"date": "2031-03-03", "time": "10:30:00"}}},
        # No number: the slot's not-found response, and the bot waits (no prompt again).
        {"user": "a handful of people", "bot": {
            "text": "/^Please tell me the number of travellers as a number, for example 2\\.$/",
            "context": {"travellers": None}}},
        {"user": "12", "bot": {"text": _then("Online we can book at most 9 travellers.", PEOPLE_PROMPT),
                               "context": {"travellers": None}}},
        {"user": "2 of us", "bot": {"text": _then(
            "Booked: 2 traveller(s) to a destination of your choice on Monday, March 3, 2031 at 10:30 AM.",
            "Is there anything else I can help you with?"),
            "context": {"date": None, "time": None, "travellers": None, "destination": None}}},
    ]},
    {"name": "questions in the middle of the frame return to the slot prompt", "steps": [
        _opening(),
        {"user": "I would like to book a holiday to Tokyo", "bot": {"intent": "book_trip", "text": DATE_PROMPT,
                                                                 "context": {"destination": "Tokyo"}}},
        # Nodes whose digress_in is `returns`: they answer, then the slot's prompt comes again.
        {"user": "what's the weather going to be like", "bot": {
            "intent": "weather", "text": _then("The forecast at your destination is sunny and mild.", DATE_PROMPT)}},
        {"user": "how many kilos of luggage are allowed", "bot": {
            "intent": "baggage", "text": _then("Economy fares include one 23 kg suitcase and one 8 kg cabin bag.",
                                               DATE_PROMPT)}},
        # The frame only lets its slots be left for nodes that return; the opening hours' folder does not.
        {"user": "when are you open", "bot": {"intent": "opening_hours", "text": f"/^{re.escape(DATE_PROMPT)}$/"}},
        {"user": "April 14 2031", "bot": {"text": TIME_PROMPT}},
        {"user": "9pm", "bot": {"text": PEOPLE_PROMPT}},
        {"user": "3", "bot": {"text": "Booked: 3 traveller(s) to Tokyo on Monday, April 14, 2031 at 9:00 PM."}},
    ]},
    {"name": "a whole trip in one sentence, then one given up with the frame handler", "steps": [
        _opening(),
        {"user": "book me a vacation to Rome for 2 people on June 5 2031 at 8am", "bot": {
            "intent": "book_trip", "text": "Booked: 2 traveller(s) to Rome on Thursday, June 5, 2031 at 8:00 AM."}},
        {"user": "please arrange a trip for us", "bot": {"intent": "book_trip", "text": DATE_PROMPT}},
        {"user": "June 6 2031", "bot": {"text": TIME_PROMPT, "context": {"date": "2031-06-06"}}},
        {"user": "forget about it", "bot": {
            "text": _then("OK, nothing was booked.", "Is there anything else I can help you with?"),
            "not_text": "Booked:", "context": {"date": None, "trip_cancelled": None}}},
    ]},
    {"name": "nodes in nested folders, the inner one gated by a context variable", "steps": [
        _opening(),
        {"user": "do you accept debit cards", "bot": {"intent": "payment", "text": "credit cards, PayPal"}},
        {"user": "is my dog allowed on the plane", "bot": {"intent": "pets", "text": "Small pets up to 8 kg"}},
        {"user": "I'd like to pick my seat", "bot": {"intent": "seat", "text": "window, aisle or middle seat?"}},
        {"user": "I prefer the corridor", "bot": {"text": "Aisle seat noted"}},
        {"user": "can I reserve a seat", "bot": {"intent": "seat", "text": "window, aisle or middle seat?"}},
        # The anything_else child jumps back to its parent's body.
        {"user": "a sofa please", "bot": {"text": _then("We only have window, aisle and middle seats.",
                                                        "Would you like a window, aisle or middle seat?")}},
        {"user": "by the window", "bot": {"text": "A window seat it is"}},
        {"user": "how much does a business class upgrade cost", "bot": {
            "intent": "upgrade", "text": "An upgrade to business class costs from 300 euros."}},
        {"user": "can I upgrade to first class", "bot": {"text": "first class costs from 900 euros"}},
        # The inner folder closed: its nodes are not reached, anything_else answers.
        {"user": "can my cat come along on the flight", "context": {"extras_open": False}, "bot": {
            "intent": "pets", "text": "Sorry, I did not understand that (miss 1).", "not_text": "Small pets"}},
        {"user": "should I get travel insurance", "bot": {"intent": "insurance", "text": "covers cancellation"}},
    ]},
    {"name": "a jump_to chain: body, condition that falls through to a sibling, body", "steps": [
        _opening(),
        {"user": "I'm not happy with your service", "bot": {"intent": "complaint", "text": _then(
            "I'm sorry to hear that.", "I have logged your complaint (number 1).",
            "Customer care answers complaints within 48 hours.",
            "You can reach an agent at +1 555 0100, Monday to Saturday."), "context": {"complaints": 1}}},
        {"user": "I want to make a complaint", "context": {"tier": "gold"}, "bot": {
            "text": _then("I'm sorry to hear that.", "I have logged your complaint (number 2).",
                          "As a gold member you will hear from your personal advisor today."),
            "not_text": "/Customer care|reach an agent/"}},
    ]},
    {"name": "a booking reference's capture group in the response", "steps": [
        _opening(),
        {"user": "can you check my reservation TR-48213", "bot": {
            "intent": "booking_status", "text": "/^Booking number 48213 is confirmed\\.$/"}},
        {"user": "is my booking confirmed", "bot": {"text": "What is your booking reference? It looks like TR-12345."}},
        {"user": "it's TR-20417", "bot": {"text": "Booking number 20417 is confirmed."}},
        {"user": "please cancel booking TR-55123", "bot": {
            "intent": "cancel_booking", "text": "I have asked to cancel booking TR-55123 (number 55123)."}},
        {"user": "I need to cancel my holiday booking", "bot": {"text": "Please give me your booking reference"}},
    ]},
    {"name": "anything_else counts misses and offers an agent at the third", "steps": [
        _opening(),
        {"user": "how do volcanoes form", "bot": {"intent": "anything_else",
                                                  "text": "Sorry, I did not understand that (miss 1).",
                                                  "buttons": [], "context": {"misses": 1}}},
        {"user": "who painted the Mona Lisa", "bot": {"intent": "anything_else",
                                                      "text": "Sorry, I did not understand that (miss 2)."}},
        {"user": "thank you very much", "bot": {"intent": "thanks", "text": "You're welcome!", "context": {"misses": 2}}},
        {"user": "what is the capital of Mongolia", "bot": {
            "intent": "anything_else", "text": "I still did not get that (miss 3). Shall I connect you with one of "
                                               "our travel agents?", "buttons": ["Talk to an agent"],
            "context": {"misses": 3}}},
        {"click": "Talk to an agent", "bot": {"intent": "agent", "text": "You can reach an agent at +1 555 0100"}},
        {"user": "what is photosynthesis", "bot": {"text": "I still did not get that (miss 4)."}},
    ]},
    {"name": "the rest of the intents, each said in its own words", "steps": [
        _opening(),
        *({"user": said, "bot": {"intent": name, "text": text}} for said, name, text in [
            ("hey, good evening", "greeting", "Where would you like to go?"),
            ("is the flight from Rome delayed?", "flight_status", "Flights are on time today"),
            ("I'd like to change the date of my trip", "change_booking", "changed for free up to 14 days"),
            ("how long does a refund take", "refund", "within 10 working days"),
            ("do I need a visa to visit Canada", "visa", "Visa rules depend on your passport"),
            ("how do I collect loyalty points", "loyalty", "one Wanderlust point"),
            ("do you serve vegan meals on board", "meals", "gluten-free and kosher"),
            ("can you find accommodation for us", "hotel", "add a hotel to any trip"),
            ("can I hire a car at the airport", "car_rental", "Rental cars can be picked up"),
            ("when can I check in for my flight", "check_in", "check-in opens 24 hours"),
            ("my suitcase is missing", "lost_luggage", "report lost luggage"),
            ("I'd like to talk to a real person", "agent", "You can reach an agent"),
            ("are there any covid restrictions", "health_rules", "Entry health rules change often"),
            ("travelling with a baby", "kids", "Children under 2 fly free"),
            ("where can I change euros into dollars", "currency", "order foreign currency"),
            ("how do I get to my hotel from the airport", "transfer", "Airport transfers can be added"),
            ("my father needs a wheelchair at the airport", "special_assistance", "free assistance at the airport"),
            ("any special offers at the moment", "deals", "20% off city trips"),
            ("can I use wifi during the flight", "wifi", "Wifi on board costs 8 euros"),
            ("is it going to be sunny in Barcelona", "weather", "In Barcelona it is sunny and mild this week."),
            ("let's stop here", "abort", "let's start over"),
            ("that was helpful, thanks", "thanks", "You're welcome!"),
            ("ok bye then", "goodbye", "Goodbye and have a great trip!"),
        ]),
    ]},
]


@pytest.fixture(scope="module")
def travel(tmp_path_factory):
    """The travel skill imported by `blogbot import-watson --json`: (config folder, report)."""
    folder = tmp_path_factory.mktemp("travel")
    (folder / "travel.json").write_text(json.dumps(skill(), indent=1), encoding="utf-8")
    result = run_blogbot("import-watson", str(folder / "travel.json"), "--out", str(folder / "config"), "--json")
    assert result.returncode == 0, result.stderr
    return folder / "config", json.loads(result.stdout)


def test_the_travel_skill_imports_with_no_notes(travel):
    config, report = travel
    counts = report["counts"]
    assert counts["intents"] >= 30 and counts["examples"] >= 6 * counts["intents"], counts
    assert counts["frame nodes"] == 1 and counts["slot nodes"] == 4 and counts["folder nodes"] == 2, counts
    assert counts["response_condition nodes"] >= 8 and counts["event_handler nodes"] >= 8, counts
    assert report["notes"] == []
    dialog = yaml.safe_load((config / "dialog.yml").read_text(encoding="utf-8"))
    info = next(n for n in dialog["nodes"] if n["id"] == "info")
    extras = next(n for n in info["children"] if n["id"] == "extras")
    assert info["type"] == extras["type"] == "folder" and extras["condition"] == "$extras_open"
    assert "seat" in [n["id"] for n in extras["children"]]
    frame = next(n for n in dialog["nodes"] if n["id"] == "book_trip")
    assert [s["variable"] for s in frame["slots"]] == ["date", "time", "travellers", "destination"]
    assert frame["digress_out_slots"] == "allow_returning"
    settings = yaml.safe_load((config / "settings.yml").read_text(encoding="utf-8"))
    assert settings["nlu"]["disambiguation_enabled"] is True and settings["nlu"]["disambiguation_options"] == 3


def test_the_travel_skill_runs_end_to_end_under_blogbot_test(travel, tmp_path, demo_index):
    config, _ = travel
    script = tmp_path / "travel.yml"
    script.write_text(yaml.safe_dump(CONVERSATIONS, sort_keys=False, allow_unicode=True), encoding="utf-8")
    ran = run_blogbot("test", str(script), "--data-dir", str(demo_index), config_dir=config)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for conversation in CONVERSATIONS:
        assert f"PASS  {conversation['name']}  (" in ran.stdout, ran.stdout
    assert f"{len(CONVERSATIONS)} passed, 0 failed" in ran.stdout


def test_a_wrong_expectation_fails_blogbot_test(travel, tmp_path, demo_index):
    config, _ = travel
    script = tmp_path / "wrong.yml"
    script.write_text(yaml.safe_dump({"name": "a wrong date format expected", "steps": [
        _opening(),
        {"user": "book me a vacation to Rome for 2 people on June 5 2031 at 8am",
         "bot": {"text": "Booked: 2 traveller(s) to Rome on 2031-06-05 at 08:00."}},
    ]}, sort_keys=False), encoding="utf-8")
    ran = run_blogbot("test", str(script), "--data-dir", str(demo_index), config_dir=config)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "FAIL  a wrong date format expected" in ran.stdout and "0 passed, 1 failed" in ran.stdout
    assert "Thursday, June 5, 2031 at 8:00 AM" in ran.stdout      # the transcript shows what came
