"""One turn of a conversation as the dialog runtime and the node conditions see it."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from bot.dialogue.expressions import Mention, Scope
from bot.dialogue.messages import BotMessage
from bot.dialogue.tracker_store import Conversation
from bot.nlu.parser import Parse


@dataclass
class Turn:
    """What one turn knows: the conversation, the parse, the flags, and what it has said."""

    conversation: Conversation
    parse: Parse
    welcome: bool = False
    start: bool = False
    messages: list[BotMessage] = field(default_factory=list)
    node: str | None = None
    new_topic: str | None = None        # "what about X?": the topic the follow-up moves to
    cancel: threading.Event | None = None   # set when the reader has gone: stop the turn
    now: dt.datetime | None = None       # the clock conditions see (None: the real one)
    flags: dict = field(default_factory=dict)     # slot_in_focus, all_slots_filled, ... as the dialog sets them
    used_input: set = field(default_factory=set)  # frames that took their values from this input already

    def scope(self) -> Scope:
        """The turn as Watson's expressions see it: context, input, entities, intents and flags. The NLU
        has applied the intent threshold already: no intent above it means `irrelevant`."""
        parse = self.parse
        intents = [(parse.intent, parse.confidence)] + [(n, c) for n, c in parse.intent_ranking if n != parse.intent] \
            if parse.intent else []
        mentions = [Mention(e.entity, e.value, e.literal or parse.text[e.start:e.end], e.start, e.end, e.confidence,
                            list(e.groups)) for e in parse.entities]
        irrelevant = not self.welcome and bool(parse.text) and (parse.intent is None or parse.irrelevant)
        flags = {"anything_else": True, "welcome": self.welcome, "conversation_start": self.start,
                 "irrelevant": irrelevant, **self.flags}
        return Scope(self.conversation.context, parse.text, mentions, intents, self.now, flags, intent_threshold=0.0)
