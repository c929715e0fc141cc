"""The dialog runtime: one turn of a conversation, Watson Assistant style.

NLU (or a follow-up rule, or a pressed button) gives the turn's intent and entities; a slot being
filled or an open "Did you mean…" is settled first; otherwise the nodes of `config/dialog.yml`
are tried top to bottom. A node sets context, answers with a response and/or runs an action over
the rasa-sdk protocol, whose `SlotSet` events update the context.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import threading
import time
from typing import Callable, Iterator

from bot.dialogue import rasa_payload
from bot.dialogue.action_client import (ActionCancelled, ActionError, ActionSlow, HttpActionClient,
                                        InProcessActionClient)
from bot.dialogue.config import DialogConfig, DialogNode
from bot.dialogue.disambiguation import disambiguation_options
from bot.dialogue.flow import DialogFlow
from bot.dialogue.followups import FollowupRule, match_followup, rewrite_question
from bot.dialogue.messages import BotMessage, Button, Notice, Token, TurnResult
from bot.dialogue.sessions import Sessions
from bot.dialogue.turn import Turn
from bot.nlu.parser import Nlu, Parse
from bot.nlu.system_entities import Entity
from bot.dialogue.tracker_store import Conversation, StoreUnavailable, TrackerStore
from knowledge.markup import valid_unicode
from knowledge.settings import Settings

log = logging.getLogger(__name__)

_PAYLOAD = re.compile(r"^/(?P<intent>[\w-]+)(?P<entities>\{.*\})?\s*$", re.S)
NONE_OF_THE_ABOVE = "anything_else"


class DialogEngine:
    """Runs turns. `actions` is an action client (in-process or HTTP); `store` a tracker store."""

    def __init__(self, config: DialogConfig, nlu: Nlu, actions: InProcessActionClient | HttpActionClient,
                 store: TrackerStore, settings: Settings,
                 followups: list[FollowupRule] = (), clock: Callable[[], float] = time.time,
                 today: dt.date | None = None):
        self.config = config
        self.nlu = nlu
        self.actions = actions
        self.store = store
        self.settings = settings
        self.followups = list(followups)
        self.clock = clock
        self.today = today
        self.sessions = Sessions(store, settings.dialog.session_timeout_minutes, config.context, clock)
        self._domain: dict | None = None        # rasa's domain for the actions, made on the first call
        self.flow = DialogFlow(config, self._say, self._call_action, settings.dialog.skill_fallback)
        # What the blog's actions and follow-ups read (query, topic, mention, last_answer, last_intent) is
        # kept only when something reads it: a dialog without actions (an imported skill) has a clean context.
        self.keeps_blog_context = config.uses_blog(settings.dialog.skill_fallback)
        known = {n.action for n in config.walk() if n.action}
        names = getattr(actions, "action_names", None)
        if names:
            missing = known - set(names())
            if missing:
                raise ValueError(f"dialog.yml names actions that do not exist: {', '.join(sorted(missing))}")

    # -- conversations ---------------------------------------------------------------------------

    def reset(self, sender_id: str) -> None:
        """Forget the sender's conversation: the next message starts a new one."""
        self.store.delete(sender_id)

    def has_conversation(self, sender_id: str) -> bool:
        """Whether a conversation with this sender is on record (and not timed out)."""
        return self.sessions.is_open(sender_id)

    def message_of(self, sender_id: str, message_id: str) -> dict | None:
        """The bot event of a message the assistant sent in this conversation (recent ones)."""
        return self.sessions.message_of(sender_id, message_id)

    def question_before(self, sender_id: str, message_id: str) -> str | None:
        """What the reader asked just before the assistant's message `message_id`."""
        return self.sessions.question_before(sender_id, message_id)

    def set_context(self, sender_id: str, values: dict) -> None:
        """Set context variables of a conversation (starting it if needed) before its next turn."""
        with self.sessions.lock_for(sender_id):
            conversation, _ = self.sessions.open(sender_id)
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

    def _run(self, sender_id: str, text: str | None, welcome: bool, cancel: threading.Event | None) -> Iterator:
        text = valid_unicode(text) if text is not None else None    # channels refuse it; never a crash here
        try:
            yield from self._run_held(sender_id, text, welcome, cancel)
        except StoreUnavailable as exc:
            log.error("conversation store: %s", exc)
            sorry = BotMessage(self.config.messages["store_unavailable"])
            yield sorry
            yield TurnResult(sender_id, text or "", None, 0.0, [], [sorry], {}, "store_unavailable", False)

    def _run_held(self, sender_id: str, text: str | None, welcome: bool, cancel: threading.Event | None) -> Iterator:
        self.sessions.prune_now_and_then()
        with self.sessions.lock_for(sender_id):
            conversation, new_session = self.sessions.open(sender_id)
            now = dt.datetime.combine(self.today, dt.datetime.now().time()) if self.today else None
            turn = Turn(conversation, Parse("", None, 0.0, []), welcome=welcome,
                        start=conversation.turns == 0, cancel=cancel, now=now)
            try:
                if welcome:
                    yield from self.flow.welcome(turn)
                    yield from turn.messages
                    conversation.turns += 1     # the opening is the conversation's first turn, as in Watson
                else:
                    yield from self._turn(turn, text or "")
                    conversation.turns += 1
            finally:
                closing = isinstance(sys.exc_info()[1], GeneratorExit)     # the reader left mid-turn
                conversation.updated_at = self.clock()
                keep = self.settings.dialog.history_events
                conversation.events = conversation.events[-keep:]
                try:
                    self.store.save(conversation)
                except StoreUnavailable as exc:
                    if not closing:
                        raise
                    log.error("conversation store: a turn the reader left was not saved: %s", exc)
            parse = turn.parse
            yield TurnResult(sender_id, parse.text, parse.intent, parse.confidence,
                             [e.as_json() for e in parse.entities], turn.messages,
                             {k: v for k, v in conversation.context.items()}, turn.node, new_session)

    # -- one turn --------------------------------------------------------------------------------

    def _turn(self, turn: Turn, text: str) -> Iterator:
        conversation = turn.conversation
        pending = conversation.pending or {}
        turn.parse = self._understand(text, conversation, pending, turn)
        conversation.events.append({"event": "user", "text": text, "timestamp": self.clock(),
                                    "parse_data": {"intent": {"name": turn.parse.intent,
                                                              "confidence": turn.parse.confidence},
                                                   "entities": [e.as_json() for e in turn.parse.entities]}})
        if self.keeps_blog_context:
            self._note_entities(turn)
        options = []
        if not pending and self.settings.nlu.disambiguation_enabled and not turn.parse.text.startswith("/"):
            # Only where a new topic starts: input to a waiting node or slot is theirs to take.
            reachable = (node for node, _ in self.flow.candidates(self.config.nodes, turn))
            options = disambiguation_options(turn.parse, reachable, self.settings.nlu)
        if options:
            conversation.pending = None
            self._ask_which(turn, options)
        else:
            yield from self.flow.respond(turn, pending if pending.get("kind") != "disambiguation" else None)
        if self.keeps_blog_context:
            self._remember_answer(turn, text)
        for message in turn.messages:
            yield message

    def _remember_answer(self, turn: Turn, text: str) -> None:
        """What follow-ups and feedback read next turn: the last answer and the last intent."""
        context = turn.conversation.context
        if turn.parse.intent not in ("feedback_positive", "feedback_negative") and turn.messages:
            last = turn.messages[-1]
            context["last_answer"] = {"id": last.id, "question": text, "text": last.text}
        if turn.parse.intent and turn.parse.intent != NONE_OF_THE_ABOVE and turn.node != "disambiguation":
            context["last_intent"] = turn.parse.intent     # a guess offered in "Did you mean" is not

    def _understand(self, text: str, conversation: Conversation, pending: dict, turn: Turn) -> Parse:
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

    def _note_entities(self, turn: Turn) -> None:
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

    # -- "Did you mean…" --------------------------------------------------------------------------

    def _ask_which(self, turn: Turn, options: list[tuple[DialogNode, str]]) -> None:
        buttons = [Button(node.label(), f"/{intent}") for node, intent in options]
        if self.config.messages["none_of_the_above"]:       # empty: no such option (Watson's default)
            buttons.append(Button(self.config.messages["none_of_the_above"], f"/{NONE_OF_THE_ABOVE}"))
        turn.conversation.pending = {"kind": "disambiguation", "text": turn.parse.text}
        turn.node = "disambiguation"
        self._say(turn, BotMessage(self.config.messages["disambiguation"], buttons=buttons))

    # -- actions --------------------------------------------------------------------------------

    def _say(self, turn: Turn, message: BotMessage) -> None:
        turn.messages.append(message)
        turn.conversation.events.append({"event": "bot", "text": message.text, "timestamp": self.clock(),
                                         "data": {"buttons": [b.__dict__ for b in message.buttons],
                                                  "message_id": message.id}})

    def _call_action(self, name: str, turn: Turn) -> Iterator:
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
        for name, value in rasa_payload.slot_events(result or {}):
            turn.conversation.context[name] = value
            turn.conversation.events.append({"event": "slot", "name": name, "value": value})
        for message in rasa_payload.messages(result or {}):
            self._say(turn, message)

    def _action_payload(self, name: str, turn: Turn) -> dict:
        if self._domain is None:
            self._domain = rasa_payload.domain(
                self.nlu.intents, self.nlu.extractor.names,
                [*self.config.context, *(s.variable for n in self.config.walk() for s in n.slots)],
                [n.action for n in self.config.walk() if n.action], self.settings.dialog.session_timeout_minutes)
        return rasa_payload.action_call(name, turn.conversation, turn.parse, self._domain)

def _offered(conversation: Conversation, payload: str) -> bool:
    """Whether the assistant offered a button with this payload in the conversation (its recent
    events): a reader may press buttons, not type payloads that name intents and entities."""
    return any(button.get("payload", "").strip() == payload
               for event in conversation.events if event.get("event") == "bot"
               for button in (event.get("data") or {}).get("buttons") or [])
