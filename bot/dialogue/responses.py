"""A node's response as messages: the variant each text part's selection picks (sequential, random,
multiline), `$var`, `@entity` and `<? ?>` filled in, option buttons, images as links, a pause
starting a new message, a hand-off to a person."""

from __future__ import annotations

import random
import re

from bot.dialogue.config import Part, Response
from bot.dialogue.expressions import Scope, render
from bot.dialogue.messages import BotMessage, Button
from knowledge.markup import escape_markdown

_VARIABLE = re.compile(r"(?<![\\\w$])\$([A-Za-z_][\w-]*)")


def response_messages(response: Response, scope: Scope, key: str, handoff_text: str) -> list[BotMessage]:
    """The messages a response says now. `key` names it for its sequential counters (kept in the
    context under `_responses`); `handoff_text` is said for a hand-off part that names no message
    (the message is marked `handoff`)."""
    messages: list[BotMessage] = []
    texts: list[str] = []
    buttons: list[Button] = []
    handoff = [False]       # the message being gathered passes the reader to a person

    def flush() -> None:
        if texts or buttons:
            messages.append(BotMessage("\n".join(texts), buttons=list(buttons), handoff=handoff[0]))
        texts.clear()
        buttons.clear()
        handoff[0] = False

    for index, part in enumerate(response.parts):
        if part.pause_ms:       # a pause starts a new message (channels do not wait)
            flush()
        text = _variant(part, scope, f"{key}:{index}") if part.texts else ""
        if text:
            texts.append(render(text, scope, escape_markdown))
        if part.image:
            texts.append(f"[{render(part.title, scope, escape_markdown) or 'Image'}]({part.image})")
        elif part.title:
            texts.append(render(part.title, scope, escape_markdown))
        if part.agent is not None:
            texts.append(render(part.agent, scope, escape_markdown) or handoff_text)
            handoff[0] = True
        # A button's label and value are text, shown and sent as they are (not escaped); one naming a
        # variable the context does not hold ($example_question of an empty blog) is not offered.
        buttons += [Button(render(label, scope), render(value, scope)) for label, value in part.buttons
                    if not _missing_variable(label + value, scope.context)]
    flush()
    return [m for m in messages if m.text.strip() or m.buttons]


def _variant(part: Part, scope: Scope, key: str) -> str:
    """The text variant to say: all of them (multiline), one at random, or the next in order
    (sequential: the last one repeats once all were said)."""
    if part.selection == "multiline":
        return "\n".join(part.texts)
    if part.selection == "random":
        return random.choice(part.texts)
    counters = scope.context.setdefault("_responses", {})
    index = counters.get(key, 0)
    counters[key] = index + 1
    return part.texts[min(index, len(part.texts) - 1)]


def _missing_variable(text: str, context: dict) -> bool:
    return any(context.get(name) is None for name in _VARIABLE.findall(text))
