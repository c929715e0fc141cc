"""The rasa-sdk action protocol as the dialogue speaks it: the payload an action is called with (the
tracker: slots, latest message, events; the domain), and the messages and slots its result holds."""

from __future__ import annotations

from typing import Iterable

from bot.dialogue.messages import BotMessage, Button, Citation
from bot.dialogue.tracker_store import Conversation
from bot.nlu.parser import Parse

SDK_VERSION = "3.21.1"
# Slots of rasa-sdk's knowledge-base convention, and ours, declared in the domain sent to actions.
SLOTS = ["topic", "subject", "date", "date_text", "post", "post_entity", "query", "mention", "last_question", "last_answer",
         "knowledge_base_listed_objects", "knowledge_base_last_object", "knowledge_base_last_object_type"]


def action_call(name: str, conversation: Conversation, parse: Parse, domain: dict) -> dict:
    """The payload that runs action `name` on this conversation after this message."""
    slots = {k: v for k, v in conversation.context.items() if not k.startswith("_")}
    return {
        "next_action": name,
        "sender_id": conversation.sender_id,
        "version": SDK_VERSION,
        "tracker": {
            "sender_id": conversation.sender_id,
            "slots": slots,
            "latest_message": {"text": parse.text,
                               "intent": {"name": parse.intent, "confidence": parse.confidence},
                               "intent_ranking": [{"name": n, "confidence": c} for n, c in parse.intent_ranking[:5]],
                               "entities": [e.as_json() for e in parse.entities]},
            "events": conversation.events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": domain,
    }


def domain(intents: Iterable[str], entities: list[str], slots: list[str], actions: list[str],
           session_minutes: float) -> dict:
    """rasa's domain for the actions: the intents, entities, slots (every one `any`) and actions."""
    return {
        "version": "3.1",
        "intents": sorted(intents),
        "entities": entities,
        "slots": {name: {"type": "any", "influence_conversation": False, "mappings": []}
                  for name in dict.fromkeys([*SLOTS, *slots])},
        "responses": {},
        "actions": sorted(set(actions)),
        "forms": {},
        "session_config": {"session_expiration_time": session_minutes, "carry_over_slots_to_new_session": False},
    }


def slot_events(result: dict) -> list[tuple[str, object]]:
    """(name, value) of each slot an action's result sets, in order."""
    return [(event["name"], event.get("value")) for event in result.get("events") or []
            if event.get("event") == "slot" and event.get("name")]


def messages(result: dict) -> list[BotMessage]:
    """The messages of an action's result that say something (streamed drafts left out)."""
    found = []
    for response in result.get("responses") or []:
        if response.get("draft"):
            continue            # a streamed piece replayed by a unary transport
        custom = response.get("custom") or {}
        message = BotMessage(
            text=response.get("text") or "",
            citations=[Citation(c.get("title", ""), c.get("url", ""), c.get("permalink", ""), c.get("number"))
                       for c in custom.get("citations") or []],
            buttons=[Button(b.get("title", ""), b.get("payload", "")) for b in response.get("buttons") or []],
            abstained=custom.get("abstained"))
        if message.text or message.buttons:
            found.append(message)
    return found
