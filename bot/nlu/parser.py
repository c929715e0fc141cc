"""NLU: the intent ranking and the entities of one message (`blogbot parse`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.nlu.entities import EntityExtractor, load_entity_definitions
from knowledge.search.catalog import blog_topics
from knowledge.markup import valid_unicode
from bot.nlu.intents import IntentClassifier, load_intents
from bot.nlu.system_entities import Entity
from knowledge.settings import Settings

MAX_TEXT_CHARS = 2048


@dataclass
class Parse:
    text: str
    intent: str | None                 # None: no intent reached the threshold
    confidence: float
    intent_ranking: list[tuple[str, float]]
    entities: list[Entity] = field(default_factory=list)

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.entity == name), None)

    def as_json(self, ranking: int = 10) -> dict:
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 4),
                "intent_ranking": [{"name": n, "confidence": round(c, 4)} for n, c in self.intent_ranking[:ranking]],
                "entities": [e.as_json() for e in self.entities]}


class Nlu:
    """Intent classifier + entity extractor. `posts` gives the blog's posts (for the topic values):
    a collection, or a function returning the current ones, so a re-ingest updates the topics."""

    def __init__(self, settings: Settings, encode, posts=(), cache_dir: Path | None = None, model_name: str = ""):
        self.settings = settings.nlu
        self.intents = load_intents()
        self.classifier = IntentClassifier(self.intents, encode, cache_dir, model_name, self.settings.regularization)
        self.definitions = load_entity_definitions()
        self._posts_source = posts if callable(posts) else (lambda: posts)
        self._posts_seen = None
        self.extractor = self._current_extractor()

    def _current_extractor(self) -> EntityExtractor:
        posts = self._posts_source()
        if posts is not self._posts_seen:
            self._posts_seen = posts
            values = posts.values() if isinstance(posts, dict) else posts
            self.extractor = EntityExtractor(self.definitions, blog_topics(values), self.settings.fuzzy_score)
        return self.extractor

    def parse(self, text: str, today: dt.date | None = None) -> Parse:
        text = valid_unicode(text.strip()[:MAX_TEXT_CHARS])   # a lone surrogate would make the tokenizer raise
        if not text:
            return Parse(text, None, 0.0, [], [])
        ranking = self.classifier.rank(text)
        top, confidence = ranking[0]
        intent = top if confidence >= self.settings.intent_threshold else None
        return Parse(text, intent, confidence, ranking, self._current_extractor().extract(text, today))


def load_nlu(data_dir: Path, settings: Settings, posts=()) -> Nlu:
    """The NLU with the configured embedder, caching example embeddings under the data dir."""
    from knowledge.corpus.embedder import get_embedder

    embedder = get_embedder(settings.embedder)
    name = f"{embedder.name}|{settings.embedder.dtype}"
    return Nlu(settings, embedder.encode, posts, Path(data_dir) / "nlu", name)
