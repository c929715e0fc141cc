"""The dialog runtime: one turn of a conversation, Watson Assistant style.

NLU (or a follow-up rule, or a pressed button) gives the turn's intent and entities; a slot being
filled or an open "Did you mean…" is settled first; otherwise the nodes of `config/dialog.yml`
are tried top to bottom. A node sets context, answers with a response and/or runs an action over
the rasa-sdk protocol, whose `SlotSet` events update the context.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

from bot.dialogue.action_client import ActionCancelled, ActionError, ActionSlow
from bot.dialogue.config import DialogConfig, DialogNode, Slot
from bot.dialogue.followups import FollowupRule, match_followup, rewrite_question
from bot.dialogue.messages import BotMessage, Button, Citation, Notice, Token, TurnResult
from bot.nlu.parser import Nlu, Parse
from bot.nlu.system_entities import Entity
from bot.dialogue.tracker_store import Conversation
from knowledge.markup import escape_markdown, valid_unicode
from knowledge.settings import Settings

log = logging.getLogger(__name__)

_PAYLOAD = re.compile(r"^/(?P<intent>[\w-]+)(?P<entities>\{.*\})?\s*$", re.S)
_VARIABLE = re.compile(r"\$([A-Za-z_]\w*)")
NONE_OF_THE_ABOVE = "anything_else"
_MAX_JUMPS = 10
_MAX_SLOT_TRIES = 3
# Slots of rasa-sdk's knowledge-base convention, and ours, declared in the domain sent to actions.
_SLOTS = ["topic", "subject", "date", "date_text", "post", "post_entity", "query", "mention", "last_question", "last_answer",
          "knowledge_base_listed_objects", "knowledge_base_last_object", "knowledge_base_last_object_type"]


@dataclass
class _Turn:
    """What one turn knows: the conversation, the parse, the flags, and what it has said."""

    conversation: Conversation
    parse: Parse
    welcome: bool = False
    start: bool = False
    messages: list[BotMessage] = field(default_factory=list)
    node: str | None = None
    new_topic: str | None = None        # "what about X?": the topic the follow-up moves to
    cancel: threading.Event | None = None   # set when the reader has gone: stop the turn

    # -- TurnFacts for conditions ------------------------------------------------------------
    def intent_is(self, name: str) -> bool:
        return self.parse.intent == name

    def entity_value(self, name: str):
        entity = self.parse.entity(name)
        return entity.value if entity else None

    def entity_has(self, name: str, value: str) -> bool:
        return any(e.entity == name and str(e.value).lower() == value.lower() for e in self.parse.entities)

    def variable(self, name: str):
        return self.conversation.context.get(name)

    def flag(self, name: str) -> bool:
        return {"anything_else": True, "welcome": self.welcome, "conversation_start": self.start}.get(name, False)


def _fill(text: str, context: dict, escape=str) -> str:
    """`text` with each $variable the context holds replaced by its value (passed through `escape`)."""
    return _VARIABLE.sub(lambda m: escape(str(context[m.group(1)])) if context.get(m.group(1)) is not None
                         else m.group(0), text)


class DialogEngine:
    """Runs turns. `actions` is an action client (in-process or HTTP); `store` a tracker store."""

    def __init__(self, config: DialogConfig, nlu: Nlu, actions, store, settings: Settings,
                 followups: list[FollowupRule] = (), clock=time.time, today=None):
        self.config = config
        self.nlu = nlu
        self.actions = actions
        self.store = store
        self.settings = settings
        self.followups = list(followups)
        self.clock = clock
        self.today = today
        # Turns of one sender run one at a time; a fixed set of locks (by hash) keeps memory flat.
        self._lock_stripes = [threading.Lock() for _ in range(64)]
        self._pruned_at = clock()
        known = {n.action for n in config.nodes if n.action}
        names = getattr(actions, "action_names", None)
        if names:
            missing = known - set(names())
            if missing:
                raise ValueError(f"dialog.yml names actions that do not exist: {', '.join(sorted(missing))}")

    # -- conversations ---------------------------------------------------------------------------

    def _lock_for(self, sender_id: str) -> threading.Lock:
        return self._lock_stripes[hash(sender_id) % len(self._lock_stripes)]

    def _conversation(self, sender_id: str) -> tuple[Conversation, bool]:
        conversation = self.store.load(sender_id)
        timeout = self.settings.dialog.session_timeout_minutes * 60
        now = self.clock()
        if conversation is None or now - conversation.updated_at > timeout:
            fresh = Conversation(sender_id, started_at=now, updated_at=now, context=dict(self.config.context))
            return fresh, True
        return conversation, False

    def reset(self, sender_id: str) -> None:
        self.store.delete(sender_id)

    def has_conversation(self, sender_id: str) -> bool:
        """Whether a conversation with this sender is on record (and not timed out)."""
        conversation = self.store.load(sender_id)
        return conversation is not None and \
            self.clock() - conversation.updated_at <= self.settings.dialog.session_timeout_minutes * 60

    def message_of(self, sender_id: str, message_id: str) -> dict | None:
        """The bot event of a message the assistant sent in this conversation (recent ones)."""
        conversation = self.store.load(sender_id)
        for event in reversed(conversation.events if conversation else []):
            if event.get("event") == "bot" and (event.get("data") or {}).get("message_id") == message_id:
                return event
        return None

    def set_context(self, sender_id: str, values: dict) -> None:
        """Set context variables of a conversation (starting it if needed) before its next turn."""
        with self._lock_for(sender_id):
            conversation, _ = self._conversation(sender_id)
            conversation.context.update(values)
            conversation.updated_at = self.clock()
            self.store.save(conversation)

    def welcome(self, sender_id: str, cancel: threading.Event | None = None) -> Iterator:
        """Open a conversation: run the node whose condition is `welcome`, if any."""
        return self._run(sender_id, None, welcome=True, cancel=cancel)

    def handle(self, sender_id: str, text: str, cancel: threading.Event | None = None) -> Iterator:
        """One turn: yields Token events while an answer is written, a Notice when it takes longer than
        usual, each BotMessage, then a TurnResult. `text` is what the reader typed, or the payload of a
        button they were offered. Setting `cancel` (the reader left) stops the turn and its action."""
        return self._run(sender_id, text, welcome=False, cancel=cancel)

    def respond(self, sender_id: str, text: str | None, cancel: threading.Event | None = None) -> TurnResult:
        """A whole turn at once (no tokens)."""
        events = self.welcome(sender_id, cancel) if text is None else self.handle(sender_id, text, cancel)
        return [e for e in events if isinstance(e, TurnResult)][-1]

    def _prune_now_and_then(self) -> None:
        """Forget conversations past their timeout (with a day's grace), at most once per timeout."""
        timeout = self.settings.dialog.session_timeout_minutes * 60
        now = self.clock()
        if now - self._pruned_at >= timeout:
            self._pruned_at = now
            self.store.prune(now - timeout - 86400)

    def _run(self, sender_id: str, text: str | None, welcome: bool, cancel: threading.Event | None) -> Iterator:
        self._prune_now_and_then()
        text = valid_unicode(text) if text is not None else None    # channels refuse it; never a crash here
        with self._lock_for(sender_id):
            conversation, new_session = self._conversation(sender_id)
            turn = _Turn(conversation, Parse("", None, 0.0, []), welcome=welcome,
                         start=conversation.turns == 0, cancel=cancel)
            try:
                if welcome:
                    node = next((n for n in self.config.nodes if n.condition.evaluate(turn)), None)
                    if node is not None and "welcome" in node.condition.source:
                        yield from self._run_node(node, turn)
                        yield from turn.messages
                else:
                    yield from self._turn(turn, text or "")
                    conversation.turns += 1
            finally:
                conversation.updated_at = self.clock()
                keep = self.settings.dialog.history_events
                conversation.events = conversation.events[-keep:]
                self.store.save(conversation)
            parse = turn.parse
            yield TurnResult(sender_id, parse.text, parse.intent, parse.confidence,
                             [e.as_json() for e in parse.entities], turn.messages,
                             {k: v for k, v in conversation.context.items()}, turn.node, new_session)

    # -- one turn --------------------------------------------------------------------------------

    def _turn(self, turn: _Turn, text: str) -> Iterator:
        conversation = turn.conversation
        pending = conversation.pending or {}
        turn.parse = self._understand(text, conversation, pending, turn)
        conversation.events.append({"event": "user", "text": text, "timestamp": self.clock(),
                                    "parse_data": {"intent": {"name": turn.parse.intent,
                                                              "confidence": turn.parse.confidence},
                                                   "entities": [e.as_json() for e in turn.parse.entities]}})
        self._note_entities(turn)
        if pending.get("kind") == "slot":
            yield from self._continue_slot(turn, pending)
        else:
            conversation.pending = None
            options = self._disambiguation_options(turn.parse) if not turn.parse.text.startswith("/") else []
            if options:
                self._ask_which(turn, options)
            else:
                node = self._select(turn)
                if node is not None:
                    yield from self._run_node(node, turn)
        if turn.parse.intent not in ("feedback_positive", "feedback_negative") and turn.messages:
            last = turn.messages[-1]
            conversation.context["last_answer"] = {"id": last.id, "question": text, "text": last.text}
        if turn.parse.intent and turn.parse.intent != NONE_OF_THE_ABOVE and turn.node != "disambiguation":
            conversation.context["last_intent"] = turn.parse.intent     # a guess offered in "Did you mean" is not
        for message in turn.messages:
            yield message

    def _understand(self, text: str, conversation: Conversation, pending: dict, turn: _Turn) -> Parse:
        """The parse of a message: a button payload it was offered, a follow-up rule, or the NLU."""
        payload = _PAYLOAD.match(text.strip()) if _offered(conversation, text.strip()) else None
        if payload:
            entities = []
            try:
                given = json.loads(payload.group("entities") or "{}")
                entities = [Entity(str(k), v, 0, 0) for k, v in given.items()] if isinstance(given, dict) else []
            except ValueError:
                pass
            intent = payload.group("intent")
            if pending.get("kind") == "disambiguation":       # an option of "Did you mean…"
                original = self.nlu.parse(pending["text"], self.today)
                intent = None if intent == NONE_OF_THE_ABOVE else intent
                return Parse(original.text, intent, 1.0, [(intent, 1.0)] if intent else [], original.entities + entities)
            return Parse(text.strip(), None if intent == NONE_OF_THE_ABOVE else intent, 1.0, [(intent, 1.0)], entities)
        if pending.get("kind") != "slot":
            followup = match_followup(self.followups, text, conversation.context, conversation.context.get("last_intent"))
            if followup:
                parse = self.nlu.parse(text, self.today)
                turn.new_topic = next((str(e.value) for e in followup.entities if e.entity == "topic"), None)
                entities = [e for e in parse.entities if e.entity not in {f.entity for f in followup.entities}]
                return Parse(parse.text, followup.intent, 1.0, [(followup.intent, 1.0)] + parse.intent_ranking,
                             followup.entities + entities)
        return self.nlu.parse(text, self.today)

    def _note_entities(self, turn: _Turn) -> None:
        """Context every turn keeps: the mention (rasa-sdk convention), the current topic, the query."""
        context = turn.conversation.context
        parse = turn.parse
        mention = parse.entity("mention")
        context["mention"] = str(mention.value) if mention else None
        topic = parse.entity("topic")
        previous_topic = context.get("topic_text") or context.get("topic")
        if parse.intent in ("ask_question", None):
            context["query"] = rewrite_question(parse.text, context.get("last_question"), previous_topic,
                                                turn.new_topic)
        if topic:
            context["topic"] = str(topic.value)
            context["topic_text"] = parse.text[topic.start:topic.end] if topic.end > topic.start else str(topic.value)

    # -- node selection -------------------------------------------------------------------------

    def _select(self, turn: _Turn, skip: DialogNode | None = None) -> DialogNode | None:
        for node in self.config.nodes:
            if node is skip or "welcome" == node.condition.source.strip():
                continue
            if node.condition.evaluate(turn):
                return node
        return None

    def _disambiguation_options(self, parse: Parse) -> list[DialogNode]:
        cfg = self.settings.nlu
        if not parse.intent or len(parse.intent_ranking) < 2 or parse.confidence >= 0.999:
            return []
        top = parse.intent_ranking[0][1]
        close = [name for name, c in parse.intent_ranking
                 if c >= top - cfg.disambiguation_margin and c >= cfg.intent_threshold / 2]
        if len(close) < 2:
            return []
        options = []
        for name in close[:cfg.disambiguation_options]:
            node = next((n for n in self.config.nodes if n.title and name in n.intents()), None)
            if node and node not in options:
                options.append(node)
        return options if len(options) >= 2 else []

    def _ask_which(self, turn: _Turn, options: list[DialogNode]) -> None:
        buttons = [Button(n.title, f"/{n.intents()[0]}") for n in options]
        buttons.append(Button(self.config.messages["none_of_the_above"], f"/{NONE_OF_THE_ABOVE}"))
        turn.conversation.pending = {"kind": "disambiguation", "text": turn.parse.text}
        turn.node = "disambiguation"
        self._say(turn, BotMessage(self.config.messages["disambiguation"], buttons=buttons))

    # -- running nodes --------------------------------------------------------------------------

    def _run_node(self, node: DialogNode, turn: _Turn, depth: int = 0) -> Iterator:
        turn.node = node.id
        context = turn.conversation.context
        if node.slots:
            for slot in node.slots:
                context.pop(slot.variable, None)
            if not self._fill_slots(node, turn):
                return
        yield from self._perform(node, turn, depth)

    def _perform(self, node: DialogNode, turn: _Turn, depth: int = 0) -> Iterator:
        """A node's context, response, action and jump (its slots are filled)."""
        turn.node = node.id
        context = turn.conversation.context
        for name, value in node.context.items():
            context[name] = value
        if node.response and (node.response.texts or node.response.buttons):
            # A button's label and value are text, shown and sent as they are: $variables are not escaped.
            buttons = [Button(_fill(label, context), _fill(value, context)) for label, value in node.response.buttons]
            # A button naming a variable the context does not hold ($example_question of an empty blog) is not offered.
            buttons = [button for button in buttons if not _VARIABLE.search(button.title + button.payload)]
            self._say(turn, BotMessage(self._response_text(node, turn) if node.response.texts else "", buttons=buttons))
        if node.action:
            yield from self._call_action(node.action, turn)
            if turn.cancel is not None and turn.cancel.is_set():
                return
        if node.jump_to:
            if depth >= _MAX_JUMPS:
                log.error("dialog: jump_to loop at node %s, stopped", node.id)
                return
            yield from self._run_node(self.config.node(node.jump_to), turn, depth + 1)

    def _response_text(self, node: DialogNode, turn: _Turn) -> str:
        response = node.response
        texts = response.texts
        if response.selection == "multiline":
            text = "\n".join(texts)
        elif response.selection == "random":
            text = random.choice(texts)
        else:
            counters = turn.conversation.context.setdefault("_responses", {})
            index = counters.get(node.id, 0)
            text = texts[min(index, len(texts) - 1)]
            counters[node.id] = index + 1
        # Context values may hold a reader's words: they are text, never markup.
        return _fill(text, turn.conversation.context, escape_markdown)

    # -- slots ----------------------------------------------------------------------------------

    def _slot_value(self, slot: Slot, turn: _Turn) -> tuple[str, Entity] | None:
        if not slot.check_for.evaluate(turn):
            return None
        for name in slot.check_for.references():
            entity = turn.parse.entity(name)
            if entity is not None:
                return name, entity
        return None

    def _fill_slots(self, node: DialogNode, turn: _Turn, accept_text_for: Slot | None = None) -> bool:
        """Fill what this turn can; ask for the first missing slot. True when all are filled."""
        context = turn.conversation.context
        for slot in node.slots:
            if context.get(slot.variable) is not None:
                continue
            found = self._slot_value(slot, turn)
            if found:
                name, entity = found
                context[slot.variable] = entity.value
                context[f"{slot.variable}_entity"] = name
                context[f"{slot.variable}_text"] = (turn.parse.text[entity.start:entity.end]
                                                   if entity.end > entity.start else str(entity.value))
                continue
            if slot is accept_text_for and turn.parse.text.strip():
                context[slot.variable] = turn.parse.text.strip()
                context[f"{slot.variable}_entity"] = "text"
                context[f"{slot.variable}_text"] = turn.parse.text.strip()
                continue
            turn.conversation.pending = {"kind": "slot", "node": node.id, "slot": slot.variable, "tries": 0}
            self._say(turn, BotMessage(slot.prompt))
            return False
        turn.conversation.pending = None
        return True

    def _continue_slot(self, turn: _Turn, pending: dict) -> Iterator:
        conversation = turn.conversation
        node = self.config.node(pending["node"])
        slot = next(s for s in node.slots if s.variable == pending["slot"])
        turn.node = node.id
        if self._slot_value(slot, turn):
            if self._fill_slots(node, turn):
                yield from self._perform(node, turn)
            return
        digression = self._select(turn) if turn.parse.intent else None
        if digression is not None and digression is not node and digression.digressions \
                and digression.condition.source != "anything_else":
            conversation.pending = None
            yield from self._run_node(digression, turn)
            if conversation.pending is None:       # the digression is done: back to the slot
                conversation.pending = pending
                self._say(turn, BotMessage(slot.prompt))
            return
        if slot.accept_text:
            if self._fill_slots(node, turn, accept_text_for=slot):
                yield from self._perform(node, turn)
            return
        tries = pending.get("tries", 0) + 1
        if tries >= _MAX_SLOT_TRIES:
            conversation.pending = None
            self._say(turn, BotMessage(self.config.messages["slot_given_up"]))
            return
        conversation.pending = {**pending, "tries": tries}
        self._say(turn, BotMessage(f"{self.config.messages['slot_retry']} {slot.prompt}".strip()))

    # -- actions --------------------------------------------------------------------------------

    def _say(self, turn: _Turn, message: BotMessage) -> None:
        turn.messages.append(message)
        turn.conversation.events.append({"event": "bot", "text": message.text, "timestamp": self.clock(),
                                         "data": {"buttons": [b.__dict__ for b in message.buttons],
                                                  "message_id": message.id}})

    def _call_action(self, name: str, turn: _Turn) -> Iterator:
        payload = self._action_payload(name, turn)
        result = None
        try:
            for item in self.actions.run(payload, cancel=turn.cancel):
                if item.get("event") == "stream_chunk" and item.get("text"):
                    yield Token(item["text"])
                elif item.get("event") == ActionSlow.EVENT:
                    yield Notice(self.config.messages["action_slow"])
                elif item.get("event") == "stream_done":
                    result = item.get("result") or {}
        except ActionCancelled:
            log.info("dialog: %s stopped, the reader left", name)
            return
        except ActionError as exc:
            log.error("dialog: %s", exc)
            self._say(turn, BotMessage(self.config.messages["action_failed"]))
            return
        context = turn.conversation.context
        for event in result.get("events") or []:
            if event.get("event") == "slot" and event.get("name"):
                context[event["name"]] = event.get("value")
                turn.conversation.events.append({"event": "slot", "name": event["name"], "value": event.get("value")})
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
                self._say(turn, message)

    def _action_payload(self, name: str, turn: _Turn) -> dict:
        parse = turn.parse
        conversation = turn.conversation
        slots = {k: v for k, v in conversation.context.items() if not k.startswith("_")}
        return {
            "next_action": name,
            "sender_id": conversation.sender_id,
            "version": "3.21.1",
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
            "domain": self._domain(),
        }

    def _domain(self) -> dict:
        if not hasattr(self, "_domain_cache"):
            slots = dict.fromkeys([*_SLOTS, *self.config.context,
                                   *(s.variable for n in self.config.nodes for s in n.slots)])
            self._domain_cache = {
                "version": "3.1",
                "intents": sorted(self.nlu.intents),
                "entities": self.nlu.extractor.names,
                "slots": {name: {"type": "any", "influence_conversation": False, "mappings": []} for name in slots},
                "responses": {},
                "actions": sorted({n.action for n in self.config.nodes if n.action}),
                "forms": {},
                "session_config": {"session_expiration_time": self.settings.dialog.session_timeout_minutes,
                                   "carry_over_slots_to_new_session": False},
            }
        return self._domain_cache


def _offered(conversation: Conversation, payload: str) -> bool:
    """Whether the assistant offered a button with this payload in the conversation (its recent
    events): a reader may press buttons, not type payloads that name intents and entities."""
    return any(button.get("payload", "").strip() == payload
               for event in conversation.events if event.get("event") == "bot"
               for button in (event.get("data") or {}).get("buttons") or [])
