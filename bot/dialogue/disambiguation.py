"""Disambiguation, Watson Assistant style: when the top intents are close, the reader is asked
"Did you mean…" with a button for each node they could mean."""

from __future__ import annotations

from bot.dialogue.config import DialogNode
from bot.nlu.parser import Parse
from knowledge.settings import NluSettings


def disambiguation_options(parse: Parse, nodes: list[DialogNode], nlu_settings: NluSettings) -> list[DialogNode]:
    """The nodes (with titles) of the intents within `nlu_settings.disambiguation_margin` of the top
    one, best first; none unless there are at least two."""
    if not parse.intent or len(parse.intent_ranking) < 2 or parse.confidence >= 0.999:
        return []
    top = parse.intent_ranking[0][1]
    close = [name for name, c in parse.intent_ranking
             if c >= top - nlu_settings.disambiguation_margin and c >= nlu_settings.intent_threshold / 2]
    if len(close) < 2:
        return []
    options = []
    for name in close[:nlu_settings.disambiguation_options]:
        node = next((n for n in nodes if n.title and name in n.intents()), None)
        if node and node not in options:
            options.append(node)
    return options if len(options) >= 2 else []
