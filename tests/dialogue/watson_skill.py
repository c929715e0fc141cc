"""A small Watson Assistant dialog skill, written in Watson's documented export format (v1 workspace
JSON), for the tests of `blogbot import-watson` and the dialog runtime. Each node exercises one piece
of Watson's semantics; the comments say which."""

from __future__ import annotations

import copy


def intent(name: str, *examples: str) -> dict:
    return {"intent": name, "examples": [{"text": e} for e in examples]}


def node(node_id: str, conditions: str | None = None, parent: str | None = None, previous: str | None = None,
         text: str | list[str] | None = None, **extra) -> dict:
    out = {"dialog_node": node_id, "type": extra.pop("type", "standard"), "parent": parent,
           "previous_sibling": previous}
    if conditions is not None:
        out["conditions"] = conditions
    if text is not None:
        out["output"] = {"text": {"values": [text] if isinstance(text, str) else text,
                                  "selection_policy": extra.pop("policy", "sequential")}}
    out.update(extra)
    return out


INTENTS = [
    intent("greeting", "hi", "hello", "hey there", "good morning", "hello again", "hi bot"),
    intent("hours", "when are you open", "what are your opening hours", "business hours please",
           "what time do you open", "are you open on sunday", "opening times"),
    intent("order", "I want a drink", "can I order a drink", "get me something to drink", "order a beverage",
           "I'd like to order", "something to drink please"),
    intent("book", "book a table", "I want to make a reservation", "reserve a table for tonight",
           "can I book a table", "make a booking", "table reservation"),
    intent("cancel", "cancel", "never mind", "stop that", "forget it", "cancel the booking", "abort"),
    intent("weather", "what's the weather", "is it raining", "weather forecast", "will it be sunny",
           "how is the weather today", "is it cold outside"),
    intent("help", "help", "what can you do", "I need help", "how does this work", "help me please", "options"),
    intent("rate", "rate the service", "I want to give feedback", "leave a review", "how do I rate you",
           "give stars", "rate my visit"),
    intent("track", "where is my order", "track my order", "order status", "has my order shipped",
           "status of order", "track order"),
]

ENTITIES = [
    {"entity": "drink", "fuzzy_match": True, "values": [
        {"type": "synonyms", "value": "coffee", "synonyms": ["espresso", "latte", "cappuccino"]},
        {"type": "synonyms", "value": "tea", "synonyms": ["green tea", "earl grey"]}]},
    {"entity": "order_id", "values": [{"type": "patterns", "value": "id", "patterns": ["ORD-(\\d+)"]}]},
    {"entity": "sys-number", "values": []}, {"entity": "sys-date", "values": []}, {"entity": "sys-time", "values": []},
]

NODES = [
    # conversation_start: context set before the response reads it; a generic response with options.
    node("start", "welcome", context={"visits": 0, "vip": False},
         output={"generic": [{"response_type": "text", "values": [{"text": "Welcome to the cafe!"}]},
                             {"response_type": "option", "title": "Try:", "options": [
                                 {"label": "Opening hours", "value": {"input": {"text": "when are you open"}}},
                                 {"label": "Book", "value": {"input": {"text": "book a table"}}}]}]}),
    # A folder without a condition is transparent; its digress_in is inherited by its nodes.
    node("folder", None, previous="start", type="folder", digress_in="returns"),
    # Response conditions: the first that holds answers; the parent's own output is empty.
    node("hours", "#hours", parent="folder", output={}),
    node("hours_vip", "$vip", parent="hours", type="response_condition", text="For you we are open around the clock."),
    node("hours_all", "true", parent="hours", previous="hours_vip", type="response_condition",
         text="We are open from 9 to 5."),
    # Waiting for input at a node with children; anything_else among the children; jump_to body.
    node("order", "#order", parent="folder", previous="hours", text="Coffee or tea?"),
    node("coffee", "@drink:coffee", parent="order", text="One coffee (@drink), coming up."),
    node("tea", "@drink:tea", parent="order", previous="coffee", text="Tea it is."),
    node("other", "anything_else", parent="order", previous="tea", text="We only have coffee and tea.",
         next_step={"behavior": "jump_to", "selector": "body", "dialog_node": "order"}),
    # A frame with three slots filled from dates, times and numbers; found handlers with reprompt;
    # a frame handler (generic) that skips to the response; Watson's expression language in the output.
    node("book", "#book", previous="folder", type="frame", digress_out_slots="allow_returning", output={},
         next_step={"behavior": "skip_user_input"}),
    node("book_said", "!$cancelled", parent="book", type="response_condition",
         text="Booked for $guests on <? $date.reformatDateTime('EEEE, MMM d') ?> at "
              "<? $time.reformatDateTime('h:mm a') ?>."),
    node("slot_date", None, parent="book", previous="book_said", type="slot", variable="$date"),
    node("date_input", "@sys-date", parent="slot_date", type="event_handler", event_name="input",
         context={"date": "@sys-date"}),
    node("date_focus", None, parent="slot_date", previous="date_input", type="event_handler", event_name="focus",
         output={"text": "Which day?"}),
    node("date_past", "$date.before(today())", parent="slot_date", previous="date_focus", type="event_handler",
         event_name="filled", text="That day is gone. Another day?", next_step={"behavior": "reprompt"}),
    node("slot_time", None, parent="book", previous="slot_date", type="slot", variable="$time"),
    node("time_input", "@sys-time", parent="slot_time", type="event_handler", event_name="input",
         context={"time": "@sys-time"}),
    node("time_focus", None, parent="slot_time", previous="time_input", type="event_handler", event_name="focus",
         output={"text": "At what time?"}),
    node("slot_guests", None, parent="book", previous="slot_time", type="slot", variable="$guests"),
    node("guests_input", "@sys-number", parent="slot_guests", type="event_handler", event_name="input",
         context={"guests": "@sys-number"}),
    node("guests_focus", None, parent="slot_guests", previous="guests_input", type="event_handler",
         event_name="focus", output={"text": "For how many people?"}),
    node("guests_many", "$guests > 8", parent="slot_guests", previous="guests_focus", type="event_handler",
         event_name="filled", text="We seat at most 8. How many people?", next_step={"behavior": "reprompt"}),
    node("guests_nomatch", "true", parent="slot_guests", previous="guests_many", type="event_handler",
         event_name="nomatch", text="Please give a number of people."),
    node("book_cancel", "#cancel", parent="book", previous="slot_guests", type="event_handler",
         event_name="generic", text="Booking cancelled.", context={"cancelled": True},
         next_step={"behavior": "skip_all_slots"}),
    node("book_done", "$cancelled", parent="book", previous="book_cancel", text="Nothing booked then.",
         context={"date": None, "time": None, "guests": None, "cancelled": None}),
    node("book_ok", "true", parent="book", previous="book_done", text="See you then!",
         context={"date": None, "time": None, "guests": None}),
    # A root node that returns after a digression.
    node("weather", "#weather", previous="book", text="Sunny all day.", digress_in="returns"),
    # jump_to with selector condition: the target's condition is false, its next sibling's holds.
    node("help", "#help", previous="weather", text="Let me see.",
         next_step={"behavior": "jump_to", "selector": "condition", "dialog_node": "help_vip"}),
    node("help_vip", "$vip", previous="help", text="VIP help line: 555."),
    node("help_all", "#help", previous="help_vip", text="Ask me about hours, drinks or bookings."),
    # A pattern entity with a capture group; skip_user_input to the children.
    node("track", "#track", previous="help_all", text="Looking it up.", next_step={"behavior": "skip_user_input"}),
    node("track_id", "@order_id", parent="track", text="Order <? @order_id.groups[1] ?> has shipped."),
    node("track_ask", "true", parent="track", previous="track_id", text="Which order number?",
         next_step={"behavior": "jump_to", "selector": "user_input", "dialog_node": "track_id"}),
    # Digressions away from a node waiting for its children: to a node that returns (weather), to one
    # that does not (hello), never to one that is not available (nothing_to_cancel).
    node("rate", "#rate", previous="track", text="How many stars?", digress_out="allow_all"),
    node("rate_n", "@sys-number", parent="rate", text="Thanks for @sys-number stars."),
    node("hello", "#greeting", previous="rate", digress_in="does_not_return",
         text="Hello<? $nobody.noSuchMethod() ?>!"),       # an expression that fails says nothing
    node("nothing_to_cancel", "#cancel", previous="hello", digress_in="not_available", text="Nothing to cancel."),
    # anything_else with a counter in a context variable.
    node("fallback", "anything_else", previous="nothing_to_cancel", context={"misses": "<? ($misses ?: 0) + 1 ?>"},
         text="Sorry, I did not get that (miss $misses)."),
]


def skill() -> dict:
    """The skill as `Download skill` would give it."""
    return copy.deepcopy({"name": "Cafe", "language": "en", "description": "a test skill",
                          "metadata": {"api_version": {"major_version": "v1", "minor_version": "2018-09-20"},
                                       "digressions": True},
                          "intents": INTENTS, "entities": ENTITIES, "counterexamples": [{"text": "tell me a joke"}],
                          "dialog_nodes": NODES})
