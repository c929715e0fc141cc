"""NLU: the intent ranking and the entities of one message (`blogbot parse`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from bot.nlu.entities import EntityExtractor, load_entity_definitions, load_system_entities
from knowledge.search.catalog import blog_topics
from knowledge.markup import valid_unicode
from bot.nlu.intents import IntentClassifier, load_counterexamples, load_intents
from bot.nlu.system_entities import Entity
from knowledge.settings import Settings

if TYPE_CHECKING:
    import numpy as np

    from knowledge.corpus.index import PostRecord

MAX_TEXT_CHARS = 2048


@dataclass
class Parse:
    """What the NLU makes of a message: the intent (above the threshold), the ranking, the entities.
    `irrelevant`: a message that no intent reached the threshold for, or that the counterexamples won."""

    text: str
    intent: str | None                 # None: no intent reached the threshold, or a counterexample won
    confidence: float
    intent_ranking: list[tuple[str, float]]
    entities: list[Entity] = field(default_factory=list)
    irrelevant: bool = False
    in_domain: float = 1.0             # the factor the confidences were scaled by (bot/nlu/intents.py)

    def entity(self, name: str) -> Entity | None:
        """The first entity named `name`, or None."""
        return next((e for e in self.entities if e.entity == name), None)

    def as_json(self, ranking: int = 10) -> dict:
        """The parse as a JSON-ready dict, with the `ranking` best intents."""
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 4),
                "intent_ranking": [{"name": n, "confidence": round(c, 4)} for n, c in self.intent_ranking[:ranking]],
                "entities": [e.as_json() for e in self.entities]}


class Nlu:
    """Intent classifier + entity extractor. `posts` gives the blog's posts (for the topic values):
    a collection, or a function returning the current ones, so a re-ingest updates the topics."""

    def __init__(self, settings: Settings, encode: Callable[[list[str]], np.ndarray],
                 posts: Iterable[PostRecord] | Callable[[], dict[int, PostRecord]] = (), cache_dir: Path | None = None,
                 model_name: str = ""):
        self.settings = settings.nlu
        self.intents = load_intents()
        self.counterexamples = load_counterexamples()
        self.classifier = IntentClassifier(self.intents, encode, cache_dir, model_name, self.settings.regularization,
                                           self.counterexamples, self.settings.out_of_domain_share)
        self.definitions = load_entity_definitions()
        self.system_entities = load_system_entities()
        self._posts_source = posts if callable(posts) else (lambda: posts)
        self._posts_seen = None
        self.extractor = self._current_extractor()

    def _current_extractor(self) -> EntityExtractor:
        posts = self._posts_source()
        if posts is not self._posts_seen:
            self._posts_seen = posts
            values = posts.values() if isinstance(posts, dict) else posts
            self.extractor = EntityExtractor(self.definitions, blog_topics(values), self.settings.fuzzy_score,
                                             self.system_entities)
        return self.extractor

    def parse(self, text: str, today: dt.date | None = None) -> Parse:
        """The intents and entities of `text` (its first MAX_TEXT_CHARS); `today` anchors relative dates.
        An empty text has no intent and is not irrelevant (there is nothing to judge)."""
        text = valid_unicode(text.strip()[:MAX_TEXT_CHARS])   # a lone surrogate would make the tokenizer raise
        if not text:
            return Parse(text, None, 0.0, [], [])
        ranking, counterexample, in_domain = self.classifier.classify(text)
        top, confidence = ranking[0]
        intent = top if confidence >= self.settings.intent_threshold and not counterexample else None
        return Parse(text, intent, confidence, ranking, self._current_extractor().extract(text, today),
                     irrelevant=intent is None, in_domain=in_domain)


def load_nlu(data_dir: Path, settings: Settings,
             posts: Iterable[PostRecord] | Callable[[], dict[int, PostRecord]] = ()) -> Nlu:
    """The NLU with the configured embedder, caching example embeddings under the data dir."""
    from knowledge.corpus.embedder import get_embedder

    embedder = get_embedder(settings.embedder)
    name = f"{embedder.name}|{settings.embedder.dtype}"
    return Nlu(settings, embedder.encode, posts, Path(data_dir) / "nlu", name)
