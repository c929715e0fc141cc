"""Entity extraction: synonym lists and patterns from `config/entities.yml`, fuzzy matching for
typos, the system entities, and the `topic` entity whose values come from the blog's posts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.nlu.system_entities import Entity, find_dates, find_numbers
from knowledge.search.catalog import GENERIC_WORDS
from knowledge.settings import SettingsError, config_dir, read_config_file

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#]*(?:[.-][A-Za-z0-9+#]+)*")


@dataclass
class EntityDefinition:
    name: str
    values: dict[str, list[str]] = field(default_factory=dict)
    patterns: list[re.Pattern] = field(default_factory=list)
    normalize: dict[str, str] = field(default_factory=dict)


def load_entity_definitions(path: Path | None = None) -> dict[str, EntityDefinition]:
    """Read entities.yml; a malformed entry is a SettingsError naming it."""
    path = path or config_dir() / "entities.yml"
    raw = read_config_file(path)
    definitions = {}
    for name, spec in (raw.get("entities") or {}).items():
        spec = spec or {}
        unknown = set(spec) - {"values", "patterns", "normalize"}
        if unknown:
            raise SettingsError(f"{path}: entity {name}: unknown key(s) {', '.join(sorted(unknown))}")
        try:
            patterns = [re.compile(p, re.I) for p in spec.get("patterns") or []]
        except re.error as exc:
            raise SettingsError(f"{path}: entity {name}: bad pattern: {exc}") from None
        values = {str(v).lower(): [str(s).lower() for s in (syns or [])] for v, syns in (spec.get("values") or {}).items()}
        normalize = {str(k).lower(): str(v) for k, v in (spec.get("normalize") or {}).items()}
        definitions[name] = EntityDefinition(name, values, patterns, normalize)
    return definitions


class EntityExtractor:
    """Finds entities in a text. `topics` are the blog's own topic values (see `blog_topics`)."""

    def __init__(self, definitions: dict[str, EntityDefinition], topics: dict[str, list[str]] | None = None,
                 fuzzy_score: int = 88):
        self.definitions = dict(definitions)
        topic = self.definitions.setdefault("topic", EntityDefinition("topic"))
        # The configured synonyms come first, so "llm" maps to their value, not the blog's word.
        merged = {value: list(syns) for value, syns in topic.values.items()}
        for value, syns in (topics or {}).items():
            merged.setdefault(value, []).extend(syns)
        topic.values = merged
        self.fuzzy_score = fuzzy_score
        self._surface: dict[str, dict[str, str]] = {}
        self._regex: dict[str, re.Pattern] = {}
        self._fuzzy_words: dict[str, list[str]] = {}
        for name, definition in self.definitions.items():
            surface = {}
            for value, syns in definition.values.items():
                for form in [value, *syns]:
                    surface.setdefault(form, value)
            if not surface:
                continue
            self._surface[name] = surface
            alternatives = "|".join(re.escape(s) for s in sorted(surface, key=len, reverse=True))
            self._regex[name] = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I)
            self._fuzzy_words[name] = [s for s in surface if len(s) >= 5 and " " not in s]

    @property
    def names(self) -> list[str]:
        return sorted({*self.definitions, "sys-date", "sys-number"})

    def extract(self, text: str, today: dt.date | None = None) -> list[Entity]:
        """All entities of a text, ordered by position."""
        dates = find_dates(text, today)
        found: list[Entity] = [*dates, *find_numbers(text, dates)]
        for name, definition in self.definitions.items():
            for pattern in definition.patterns:
                for m in pattern.finditer(text):
                    raw = m.group("value") if "value" in pattern.groupindex else m.group(0)
                    start, end = (m.start("value"), m.end("value")) if "value" in pattern.groupindex else m.span()
                    value = definition.normalize.get(raw.lower(), raw)
                    if not any(e.entity == name and e.start <= start < e.end for e in found):
                        found.append(Entity(name, value, start, end))
        for name in self.definitions:
            found.extend(self._values(name, text, found))
        return sorted(found, key=lambda e: (e.start, -e.end))

    def _values(self, name: str, text: str, found: list[Entity]) -> list[Entity]:
        regex = self._regex.get(name)
        if regex is None:
            return []
        surface = self._surface[name]
        taken = [(e.start, e.end) for e in found if e.entity in ("sys-date", "quoted_title")]
        matches = []
        for m in regex.finditer(text):
            if not any(s <= m.start() < e for s, e in taken):
                matches.append(Entity(name, surface[m.group(0).lower()], m.start(), m.end()))
                taken.append(m.span())
        for m in _WORD.finditer(text):
            word = m.group(0).lower()
            if len(word) < 5 or any(s <= m.start() < e for s, e in taken) or word in GENERIC_WORDS:
                continue
            best = process.extractOne(word, self._fuzzy_words[name], scorer=fuzz.ratio,
                                      score_cutoff=self.fuzzy_score)
            if best:
                matches.append(Entity(name, surface[best[0]], m.start(), m.end(), {"fuzzy": True}))
                taken.append(m.span())
        return matches
