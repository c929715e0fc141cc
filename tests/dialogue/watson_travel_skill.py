"""A larger Watson Assistant dialog skill, a travel agency's, written in Watson's documented export format
(v1 workspace JSON) for `tests/cli/test_watson_travel.py`: dozens of intents, entities with synonyms, a
pattern entity with a capture group, the system entities, nested folders (the inner one gated by a
context variable the welcome node sets), a frame with three slots filled from dates, times and numbers
(prompts, found handlers that reprompt, a not-found handler, a frame handler, digressions out of its
slots that return), a jump_to chain of four nodes, digressions, disambiguation settings and an
anything_else node that counts misses in a context variable and offers an agent at the third.

Disambiguation is on (Watson's system_settings): only the nodes with a `title` or `user_label` can be
offered, and their intents are kept far apart, so the conversations stay deterministic."""

from __future__ import annotations

import copy

from watson_skill import intent, node

INTENTS = [
    intent("greeting", "hi", "hello", "hey there", "good morning", "good afternoon", "hi, anyone there?",
           "hello travel agent", "greetings", "hello, am I talking to Wanderlust Travel?"),
    intent("goodbye", "bye", "goodbye", "see you later", "that's all, bye", "talk to you soon", "bye for now",
           "I'm leaving now, goodbye", "farewell"),
    intent("thanks", "thank you", "thanks a lot", "many thanks for your help", "cheers, that helped",
           "thanks so much", "I appreciate it", "great, thank you", "thx"),
    intent("book_trip", "I want to book a trip", "book a holiday for me", "I'd like to plan a vacation",
           "can you book me a trip to Rome", "arrange a journey to Berlin for my family",
           "I want to travel to Lisbon next spring", "I would like to fly to Madrid for a week", "help me plan a getaway",
           "I need to book travel", "organise a holiday in Sydney for us"),
    intent("flight_status", "is my flight on time", "flight status please", "has flight AZ123 been delayed",
           "when does my plane land", "is the flight to London delayed", "what time does my flight depart",
           "check the status of my flight", "has my flight been cancelled by the airline"),
    intent("baggage", "what is the baggage allowance", "how much luggage can I bring",
           "how heavy can my suitcase be", "is a carry-on bag included", "how many suitcases am I allowed",
           "what are the hand luggage size limits", "can I take two bags", "luggage weight limit"),
    intent("cancel_booking", "cancel my booking", "I want to cancel my reservation", "please cancel the trip I booked",
           "cancel booking TR-12345", "I need to call off my holiday", "how do I cancel my vacation package",
           "delete my reservation"),
    intent("change_booking", "change my booking", "I want to modify my reservation", "move my trip to another date",
           "can I change the dates of my holiday", "switch my flight to a later one", "amend my booking",
           "reschedule my trip"),
    intent("refund", "I want my money back", "how do I get a refund", "when will I be refunded",
           "refund for my cancelled trip", "can I get reimbursed", "request a refund", "where is my refund"),
    intent("visa", "do I need a visa", "visa requirements for Japan", "what entry documents does the US require",
           "how do I apply for a visa", "is a tourist visa needed for Brazil", "what about the visa rules",
           "do Europeans need a visa for the UK"),
    intent("payment", "which payment methods do you accept", "can I pay with a credit card", "do you take PayPal",
           "can I pay in installments", "is bank transfer possible", "how can I pay for my trip",
           "do you accept Apple Pay"),
    intent("loyalty", "how many loyalty points do I have", "check my reward points", "how do I earn miles",
           "join the frequent flyer program", "redeem my points", "what is my membership tier",
           "loyalty program benefits"),
    intent("seat", "can I choose my seat", "I want to select a seat", "seat selection", "reserve a window seat",
           "can I sit next to my partner", "change my seat on the plane", "pick a seat for me"),
    intent("meals", "is food served on the flight", "can I order a vegetarian meal", "what meals are on board",
           "do you have gluten free food", "is there a special meal option", "will I get dinner on the plane",
           "kosher meal request"),
    intent("pets", "can I bring my dog", "traveling with a cat", "are pets allowed on the plane",
           "pet policy", "can my puppy fly in the cabin", "bring an animal on board", "service dog on the flight"),
    intent("insurance", "do I need travel insurance", "what does the travel insurance cover",
           "buy insurance for my trip", "is cancellation insurance included", "travel insurance price",
           "am I covered if I get sick abroad"),
    intent("hotel", "book a hotel room", "I need accommodation", "find me a hotel near the beach",
           "can you reserve a room for three nights", "hotel recommendations", "is breakfast included at the hotel",
           "I need a place to stay"),
    intent("car_rental", "rent a car", "I need a rental car", "car hire at the airport", "how much is a hire car",
           "can I pick up a car at my destination", "book a vehicle for my trip", "rental car with GPS"),
    intent("weather", "what's the weather like there", "will it rain at my destination", "weather forecast",
           "how hot is it in summer", "is it cold in December", "should I pack an umbrella",
           "what's the temperature at my destination"),
    intent("check_in", "how do I check in online", "when does online check-in open", "check in for my flight",
           "where do I get my boarding pass", "can I check in at the airport", "web check-in",
           "how early should I check in"),
    intent("lost_luggage", "my luggage is lost", "the airline lost my suitcase", "my bag did not arrive",
           "report missing baggage", "my suitcase never showed up on the belt", "where is my lost bag",
           "my luggage was damaged"),
    intent("agent", "I want to talk to a human agent", "connect me to a person", "can I speak to someone",
           "call me back please", "real person please", "transfer me to customer service", "talk to a human"),
    intent("opening_hours", "what are your opening hours", "when is your office open", "are you open on Sunday",
           "what time does the travel agency close", "office hours", "is the shop open on public holidays"),
    intent("health_rules", "covid rules", "do I need a vaccination", "are masks required on the plane",
           "covid test before travel", "health requirements for entry", "quarantine rules abroad",
           "which vaccines do I need for Thailand"),
    intent("kids", "travelling with children", "do kids fly free", "is there a discount for children",
           "can my teenager travel alone", "baby on board", "do you provide a cot for my infant",
           "family travel tips with toddlers"),
    intent("currency", "where can I exchange money", "currency exchange", "what currency do they use in Japan",
           "should I bring cash or card", "exchange rate for euros", "can I buy foreign currency from you"),
    intent("transfer", "airport transfer", "how do I get from the airport to the hotel", "book a shuttle bus",
           "is there a taxi from the airport", "pick me up at the airport", "private transfer to my hotel"),
    intent("upgrade", "upgrade my ticket", "can I upgrade to business class", "how much is an upgrade",
           "move me to first class", "I want a better cabin", "upgrade with miles", "premium economy upgrade"),
    intent("special_assistance", "I need a wheelchair", "assistance for a disabled passenger",
           "help at the airport for elderly travellers", "reduced mobility support", "I am visually impaired",
           "special assistance request", "can someone help my grandmother through the airport"),
    intent("complaint", "I want to make a complaint", "your service was terrible", "I'm very unhappy",
           "file a complaint", "this is unacceptable", "I am disappointed with my trip", "I want to complain"),
    intent("booking_status", "what is the status of my booking", "is my reservation confirmed",
           "look up booking TR-55555", "check my booking reference", "did my booking go through",
           "find my reservation", "where is my booking confirmation"),
    intent("deals", "do you have any special offers", "last minute deals", "cheap holidays",
           "any discounts this month", "show me promotions", "what are the best bargains", "budget trips"),
    intent("wifi", "is there wifi on the plane", "can I use internet on board", "in-flight wifi price",
           "can I stream movies during the flight", "is there a power socket at my seat", "onboard entertainment"),
    intent("abort", "never mind", "forget it", "stop", "let's drop this", "I changed my mind", "abort", "start over"),
]

ENTITIES = [
    {"entity": "destination", "fuzzy_match": True, "values": [
        {"type": "synonyms", "value": "Paris", "synonyms": ["city of light", "paree"]},
        {"type": "synonyms", "value": "Rome", "synonyms": ["roma", "eternal city"]},
        {"type": "synonyms", "value": "Tokyo", "synonyms": ["tokio"]},
        {"type": "synonyms", "value": "New York", "synonyms": ["nyc", "big apple", "new york city"]},
        {"type": "synonyms", "value": "Barcelona", "synonyms": ["barca"]}]},
    {"entity": "seat", "fuzzy_match": True, "values": [
        {"type": "synonyms", "value": "window", "synonyms": ["window seat", "by the window"]},
        {"type": "synonyms", "value": "aisle", "synonyms": ["aisle seat", "corridor"]},
        {"type": "synonyms", "value": "middle", "synonyms": ["middle seat", "centre seat"]}]},
    {"entity": "travel_class", "values": [
        {"type": "synonyms", "value": "economy", "synonyms": ["coach", "economy class"]},
        {"type": "synonyms", "value": "business", "synonyms": ["business class"]},
        {"type": "synonyms", "value": "first", "synonyms": ["first class"]}]},
    {"entity": "booking_ref", "values": [{"type": "patterns", "value": "reference", "patterns": ["TR-(\\d{5})"]}]},
    {"entity": "sys-date", "values": []}, {"entity": "sys-time", "values": []}, {"entity": "sys-number", "values": []},
]

COUNTEREXAMPLES = ["tell me a joke", "who won the football match", "what is the meaning of life",
                   "write me a poem", "solve this math problem"]

_RESET_TRIP = {"date": None, "time": None, "travellers": None, "destination": None, "trip_cancelled": None}

NODES = [
    # The opening: context the inner folder's condition reads, and options that send their value.
    node("welcome", "welcome", title="Welcome", context={"extras_open": True},
         output={"generic": [
             {"response_type": "text", "values": [{"text": "Welcome to Wanderlust Travel! I can book trips and "
                                                           "answer your travel questions."}]},
             {"response_type": "option", "title": "Popular:", "options": [
                 {"label": "Book a trip", "value": {"input": {"text": "I want to book a trip"}}},
                 {"label": "Opening hours", "value": {"input": {"text": "what are your opening hours"}}}]}]}),
    node("hello", "#greeting", previous="welcome", text="Hello! Where would you like to go?"),

    # A frame: date, time and number of travellers required, the destination optional (no prompt).
    node("book_trip", "#book_trip", previous="hello", type="frame", title="Book a trip", user_label="Book a trip",
         digress_out_slots="allow_returning", output={}, next_step={"behavior": "skip_user_input"}),
    node("book_cancelled", "$trip_cancelled", parent="book_trip", type="response_condition",
         text="OK, nothing was booked."),
    node("book_summary", "true", parent="book_trip", previous="book_cancelled", type="response_condition",
         text="Booked: $travellers traveller(s) to <? $destination ?: 'a destination of your choice' ?> on "
              "<? $date.reformatDateTime('EEEE, MMMM d, yyyy') ?> at <? $time.reformatDateTime('h:mm a') ?>."),
    node("slot_date", None, parent="book_trip", previous="book_summary", type="slot", variable="$date"),
    node("date_input", "@sys-date", parent="slot_date", type="event_handler", event_name="input",
         context={"date": "@sys-date"}),
    node("date_focus", None, parent="slot_date", previous="date_input", type="event_handler", event_name="focus",
         output={"text": {"values": ["When would you like to travel?"], "selection_policy": "sequential"}}),
    node("date_past", "$date.before(today())", parent="slot_date", previous="date_focus", type="event_handler",
         event_name="filled", text="That date has already passed.", next_step={"behavior": "reprompt"}),
    node("slot_time", None, parent="book_trip", previous="slot_date", type="slot", variable="$time"),
    node("time_input", "@sys-time", parent="slot_time", type="event_handler", event_name="input",
         context={"time": "@sys-time"}),
    node("time_focus", None, parent="slot_time", previous="time_input", type="event_handler", event_name="focus",
         output={"text": "What time should the trip start?"}),
    node("slot_travellers", None, parent="book_trip", previous="slot_time", type="slot", variable="$travellers"),
    node("travellers_input", "@sys-number", parent="slot_travellers", type="event_handler", event_name="input",
         context={"travellers": "@sys-number"}),
    node("travellers_focus", None, parent="slot_travellers", previous="travellers_input", type="event_handler",
         event_name="focus", output={"text": "How many people are travelling?"}),
    node("travellers_many", "$travellers > 9", parent="slot_travellers", previous="travellers_focus",
         type="event_handler", event_name="filled", text="Online we can book at most 9 travellers.",
         next_step={"behavior": "reprompt"}),
    node("travellers_nomatch", "true", parent="slot_travellers", previous="travellers_many", type="event_handler",
         event_name="nomatch", text="Please tell me the number of travellers as a number, for example 2."),
    node("slot_destination", None, parent="book_trip", previous="slot_travellers", type="slot",
         variable="$destination"),
    node("destination_input", "@destination", parent="slot_destination", type="event_handler", event_name="input",
         context={"destination": "@destination"}),
    node("book_abort", "#abort", parent="book_trip", previous="slot_destination", type="event_handler",
         event_name="generic", context={"trip_cancelled": True}, next_step={"behavior": "skip_all_slots"}),
    node("book_reset", "true", parent="book_trip", previous="book_abort", context=_RESET_TRIP,
         text="Is there anything else I can help you with?"),

    # Root nodes a question in the middle of the frame digresses to, and returns from.
    node("weather", "#weather", previous="book_trip", title="Weather", digress_in="returns", output={}),
    node("weather_dest", "@destination", parent="weather", type="response_condition",
         text="In @destination it is sunny and mild this week."),
    node("weather_any", "true", parent="weather", previous="weather_dest", type="response_condition",
         text="The forecast at your destination is sunny and mild."),
    node("baggage", "#baggage", previous="weather", digress_in="returns",
         text="Economy fares include one 23 kg suitcase and one 8 kg cabin bag."),

    # Nested folders: the outer one always open, the inner one only while $extras_open holds.
    node("info", "true", previous="baggage", type="folder", title="Travel information"),
    node("visa", "#visa", parent="info", text="Visa rules depend on your passport; check the embassy of your destination."),
    node("payment", "#payment", parent="info", previous="visa",
         text="We accept credit cards, PayPal and bank transfer."),
    node("hours", "#opening_hours", parent="info", previous="payment",
         text="Our office is open Monday to Saturday, 9 am to 6 pm."),
    node("health", "#health_rules", parent="info", previous="hours",
         text="Entry health rules change often; we send the current ones with your documents."),
    node("currency", "#currency", parent="info", previous="health",
         text="You can order foreign currency with us and collect it at the office."),
    node("insurance", "#insurance", parent="info", previous="currency",
         text="Our travel insurance covers cancellation, medical costs and lost luggage."),
    node("loyalty", "#loyalty", parent="info", previous="insurance",
         text="Every euro you spend earns one Wanderlust point."),
    node("deals", "#deals", parent="info", previous="loyalty", text="This week: 20% off city trips to Barcelona."),
    node("extras", "$extras_open", parent="info", previous="deals", type="folder"),
    node("seat", "#seat", parent="extras", text="Would you like a window, aisle or middle seat?"),
    node("seat_window", "@seat:window", parent="seat", text="A window seat it is: enjoy the view."),
    node("seat_aisle", "@seat:aisle", parent="seat", previous="seat_window",
         text="Aisle seat noted: easy to stretch your legs."),
    node("seat_middle", "@seat:middle", parent="seat", previous="seat_aisle", text="A middle seat, noted."),
    node("seat_other", "anything_else", parent="seat", previous="seat_middle",
         text="We only have window, aisle and middle seats.",
         next_step={"behavior": "jump_to", "selector": "body", "dialog_node": "seat"}),
    node("meals", "#meals", parent="extras", previous="seat",
         text="Vegetarian, vegan, gluten-free and kosher meals can be ordered up to 48 hours before departure."),
    node("pets", "#pets", parent="extras", previous="meals",
         text="Small pets up to 8 kg may travel in the cabin in a soft carrier."),
    node("wifi", "#wifi", parent="extras", previous="pets", text="Wifi on board costs 8 euros per flight."),
    node("kids", "#kids", parent="extras", previous="wifi", text="Children under 2 fly free on a parent's lap."),
    node("assistance", "#special_assistance", parent="extras", previous="kids",
         text="We arrange free assistance at the airport; tell us at least 48 hours ahead."),
    node("upgrade", "#upgrade", parent="extras", previous="assistance", output={}),
    node("upgrade_business", "@travel_class:business", parent="upgrade", type="response_condition",
         text="An upgrade to business class costs from 300 euros."),
    node("upgrade_first", "@travel_class:first", parent="upgrade", previous="upgrade_business",
         type="response_condition", text="An upgrade to first class costs from 900 euros."),
    node("upgrade_any", "true", parent="upgrade", previous="upgrade_first", type="response_condition",
         text="Upgrades to business or first class can be bought at check-in."),

    # A pattern entity's capture group in a response; skip_user_input; jump_to with selector user_input.
    node("booking_status", "#booking_status", previous="info", title="Booking status",
         next_step={"behavior": "skip_user_input"}),
    node("booking_known", "@booking_ref", parent="booking_status",
         text="Booking number <? @booking_ref.groups[1] ?> is confirmed."),
    node("booking_ask", "true", parent="booking_status", previous="booking_known",
         text="What is your booking reference? It looks like TR-12345.",
         next_step={"behavior": "jump_to", "selector": "user_input", "dialog_node": "booking_known"}),
    node("cancel_booking", "#cancel_booking", previous="booking_status", output={}),
    node("cancel_ref", "@booking_ref", parent="cancel_booking", type="response_condition",
         text="I have asked to cancel booking <? @booking_ref.literal ?> (number <? @booking_ref.groups[1] ?>)."),
    node("cancel_any", "true", parent="cancel_booking", previous="cancel_ref", type="response_condition",
         text="Please give me your booking reference to cancel."),

    # A jump_to chain: complaint -(body)-> complaint_log -(condition)-> complaint_gold, false, so the next
    # sibling complaint_standard -(body)-> agent.
    node("complaint", "#complaint", previous="cancel_booking", text="I'm sorry to hear that.",
         next_step={"behavior": "jump_to", "selector": "body", "dialog_node": "complaint_log"}),
    node("complaint_log", "false", parent="complaint", context={"complaints": "<? ($complaints ?: 0) + 1 ?>"},
         text="I have logged your complaint (number $complaints).",
         next_step={"behavior": "jump_to", "selector": "condition", "dialog_node": "complaint_gold"}),
    node("complaint_gold", "$tier == 'gold'", parent="complaint", previous="complaint_log",
         text="As a gold member you will hear from your personal advisor today."),
    node("complaint_standard", "true", parent="complaint", previous="complaint_gold",
         text="Customer care answers complaints within 48 hours.",
         next_step={"behavior": "jump_to", "selector": "body", "dialog_node": "agent"}),
    node("agent", "#agent", previous="complaint", title="Talk to an agent",
         text="You can reach an agent at +1 555 0100, Monday to Saturday."),

    node("flight_status", "#flight_status", previous="agent",
         text="Flights are on time today; you will get a text if yours changes."),
    node("change_booking", "#change_booking", previous="flight_status",
         text="Bookings can be changed for free up to 14 days before departure."),
    node("refund", "#refund", previous="change_booking", text="Refunds reach your account within 10 working days."),
    node("hotel", "#hotel", previous="refund", text="We can add a hotel to any trip; which city?"),
    node("car_rental", "#car_rental", previous="hotel", text="Rental cars can be picked up at every airport we fly to."),
    node("check_in", "#check_in", previous="car_rental", text="Online check-in opens 24 hours before departure."),
    node("lost_luggage", "#lost_luggage", previous="check_in",
         text="Please report lost luggage at the airline's baggage desk and keep the receipt."),
    node("transfer", "#transfer", previous="lost_luggage", text="Airport transfers can be added for 25 euros per person."),
    node("thanks", "#thanks", previous="transfer", text="You're welcome!"),
    node("bye", "#goodbye", previous="thanks", text="Goodbye and have a great trip!"),
    node("abort", "#abort", previous="bye", text="OK, let's start over. What can I do for you?"),

    # anything_else: counts misses in a context variable; at the third an agent is offered.
    node("fallback", "anything_else", previous="abort", context={"misses": "<? ($misses ?: 0) + 1 ?>"}, output={}),
    node("fallback_agent", "$misses >= 3", parent="fallback", type="response_condition", output={"generic": [
        {"response_type": "text", "values": [{"text": "I still did not get that (miss $misses). "
                                                      "Shall I connect you with one of our travel agents?"}]},
        {"response_type": "option", "title": "", "options": [
            {"label": "Talk to an agent", "value": {"input": {"text": "I want to talk to a human agent"}}}]}]}),
    node("fallback_again", "true", parent="fallback", previous="fallback_agent", type="response_condition",
         text="Sorry, I did not understand that (miss $misses)."),
]


def skill() -> dict:
    """The skill as `Download skill` would give it."""
    return copy.deepcopy({
        "name": "Wanderlust Travel", "language": "en", "description": "a travel agency's dialog skill",
        "metadata": {"api_version": {"major_version": "v1", "minor_version": "2018-09-20"}},
        "system_settings": {"disambiguation": {"enabled": True, "prompt": "Did you mean:",
                                               "none_of_the_above_prompt": "None of the above",
                                               "max_suggestions": 3}},
        "intents": INTENTS, "entities": ENTITIES, "counterexamples": [{"text": t} for t in COUNTEREXAMPLES],
        "dialog_nodes": NODES})
