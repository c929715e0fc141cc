"""One turn of a conversation as the dialog runtime and the node conditions see it."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from bot.dialogue.messages import BotMessage
from bot.dialogue.tracker_store import Conversation
from bot.nlu.parser import Parse

_VARIABLE = re.compile(r"\$([A-Za-z_]\w*)")


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


def fill_variables(text: str, context: dict, escape=str) -> str:
    """`text` with each $variable the context holds replaced by its value (passed through `escape`)."""
    return _VARIABLE.sub(lambda m: escape(str(context[m.group(1)])) if context.get(m.group(1)) is not None
                         else m.group(0), text)


def has_variable(text: str) -> bool:
    """Whether `text` still names a $variable (one the context did not hold)."""
    return bool(_VARIABLE.search(text))
