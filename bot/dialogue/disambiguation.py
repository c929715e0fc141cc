"""Disambiguation, Watson Assistant style: when the top intents are close, the reader is asked
"Did you mean…" with a button for each node they could mean.

A node can be offered when its condition names one of the close intents, it has a name for readers
(`user_label`, else `title`) and it does not opt out (`disambiguation_opt_out`). Only the nodes a
new topic can reach are offered: root nodes, and the nodes of root folders whose condition holds.
"""

from __future__ import annotations

from typing import Iterable

from bot.dialogue.config import DialogNode
from bot.nlu.parser import Parse
from knowledge.settings import NluSettings


def disambiguation_options(parse: Parse, nodes: Iterable[DialogNode],
                           nlu_settings: NluSettings) -> list[tuple[DialogNode, str]]:
    """(node, intent) for the intents within `nlu_settings.disambiguation_margin` of the top one, best
    first, at most `disambiguation_options`; none unless there are at least two. `nodes`: the
    nodes a new topic can reach, in order. The margin applies to the classifier's own confidences,
    before their scaling by closeness to the examples (which shrinks every gap alike)."""
    if not parse.intent or len(parse.intent_ranking) < 2 or parse.confidence >= 0.999:
        return []
    top = parse.intent_ranking[0][1]
    margin = nlu_settings.disambiguation_margin * parse.in_domain
    close = [name for name, c in parse.intent_ranking
             if c >= top - margin and c >= nlu_settings.intent_threshold / 2]
    if len(close) < 2:
        return []
    eligible = [n for n in nodes if n.label() and not n.disambiguation_opt_out]
    options: list[tuple[DialogNode, str]] = []
    for name in close:
        node = next((n for n in eligible if name in n.intents() and n not in [o for o, _ in options]), None)
        if node is not None:
            options.append((node, name))
        if len(options) == nlu_settings.disambiguation_options:
            break
    return options if len(options) >= 2 else []
