"""Entity extraction: synonym lists and patterns from `config/entities.yml`, fuzzy matching for
typos, the system entities, and the `topic` entity whose values come from the blog's posts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.nlu.system_entities import (DATE_VALUES, DEFAULT_SYSTEM_ENTITIES, SYSTEM_ENTITIES, Entity,
                                     SystemEntityConfig, find_system_entities)
from knowledge.search.catalog import GENERIC_WORDS
from knowledge.settings import SettingsError, config_dir, read_config_file

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#]*(?:[.-][A-Za-z0-9+#]+)*")
_ENTITY_KEYS = {"values", "patterns", "normalize", "fuzzy"}


@dataclass
class EntityDefinition:
    """An entity of entities.yml: its values with their synonyms, its patterns, and their normalized forms.

    `patterns` are plain patterns (the match, or its group `value`, is the value); `value_patterns` are
    Watson's pattern values: (value, pattern). `fuzzy` False turns fuzzy matching off (None: on)."""

    name: str
    values: dict[str, list[str]] = field(default_factory=dict)
    patterns: list[re.Pattern] = field(default_factory=list)
    normalize: dict[str, str] = field(default_factory=dict)
    value_patterns: list[tuple[str, re.Pattern]] = field(default_factory=list)
    fuzzy: bool | None = None


def load_entity_definitions(path: Path | None = None) -> dict[str, EntityDefinition]:
    """Read entities.yml; a malformed entry is a SettingsError naming it."""
    path = path or config_dir() / "entities.yml"
    raw = read_config_file(path)
    entities = raw.get("entities") or {}
    if not isinstance(entities, dict):
        raise SettingsError(f"{path}: entities must be a mapping of entity names")
    return {str(name): _definition(path, str(name), spec) for name, spec in entities.items()}


def _definition(path: Path, name: str, spec: object) -> EntityDefinition:
    spec = spec or {}
    if not isinstance(spec, dict):
        raise SettingsError(f"{path}: entity {name}: must be a mapping (values, patterns, normalize, fuzzy)")
    unknown = set(spec) - _ENTITY_KEYS
    if unknown:
        raise SettingsError(f"{path}: entity {name}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    if name.startswith("sys-"):
        raise SettingsError(f"{path}: entity {name}: sys- names are the system entities' (see system_entities)")
    plain, valued = [], []
    for item in spec.get("patterns") or []:
        value, pattern = _pattern(path, name, item)
        if value is None:
            plain.append(pattern)
        else:
            valued.append((value, pattern))
    raw_values = spec.get("values") or {}
    if not isinstance(raw_values, dict):
        raise SettingsError(f"{path}: entity {name}: values must be a mapping of value -> synonyms")
    # Values keep their case (Watson's @Valid_States:TX); the blog's topics are lower case.
    values = {(str(v).lower() if name == "topic" else str(v)): [str(s).lower() for s in (syns or [])]
              for v, syns in raw_values.items()}
    normalize = {str(k).lower(): str(v) for k, v in (spec.get("normalize") or {}).items()}
    fuzzy = spec.get("fuzzy")
    if fuzzy is not None and not isinstance(fuzzy, bool):
        raise SettingsError(f"{path}: entity {name}: fuzzy must be true or false")
    return EntityDefinition(name, values, plain, normalize, valued, fuzzy)


def _pattern(path: Path, name: str, item: object) -> tuple[str | None, re.Pattern]:
    """(value, compiled pattern) of one item of `patterns:`; value None for a plain pattern."""
    try:
        if isinstance(item, dict):
            if set(item) != {"value", "pattern"}:
                raise SettingsError(f"{path}: entity {name}: a pattern mapping has exactly value and pattern")
            # Watson's patterns are case-sensitive (Java's regular expressions): write (?i) for no case.
            return str(item["value"]), re.compile(str(item["pattern"]))
        return None, re.compile(str(item), re.I)
    except re.error as exc:
        raise SettingsError(f"{path}: entity {name}: bad pattern: {exc}") from None


def load_system_entities(path: Path | None = None) -> SystemEntityConfig:
    """The system entities entities.yml switches on (`system_entities`; absent: sys-date and sys-number)
    and how sys-date values are written (`sys_date_values`; default "day" with a `system_entities`
    list, Watson's way, else "period", the blog's)."""
    path = path or config_dir() / "entities.yml"
    raw = read_config_file(path)
    listed = raw.get("system_entities")
    if listed is not None and not isinstance(listed, list):
        raise SettingsError(f"{path}: system_entities must be a list such as [sys-date, sys-number]")
    enabled = tuple(dict.fromkeys(str(n) for n in listed)) if listed is not None else DEFAULT_SYSTEM_ENTITIES
    unknown = [n for n in enabled if n not in SYSTEM_ENTITIES]
    if unknown:
        raise SettingsError(f"{path}: system_entities: unknown {', '.join(unknown)} "
                            f"(known: {', '.join(SYSTEM_ENTITIES)})")
    date_values = str(raw.get("sys_date_values") or ("day" if listed is not None else "period"))
    if date_values not in DATE_VALUES:
        raise SettingsError(f"{path}: sys_date_values must be one of {', '.join(DATE_VALUES)}")
    return SystemEntityConfig(enabled, date_values)


class EntityExtractor:
    """Finds entities in a text. `topics` are the blog's own topic values (see `blog_topics`);
    `system` says which system entities to find (default: sys-date and sys-number)."""

    def __init__(self, definitions: dict[str, EntityDefinition], topics: dict[str, list[str]] | None = None,
                 fuzzy_score: int = 88, system: SystemEntityConfig | None = None):
        self.definitions = dict(definitions)
        self.system = system or SystemEntityConfig()
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
            surface: dict[str, str] = {}
            for value, syns in definition.values.items():
                for form in [value.lower(), *syns]:
                    surface.setdefault(form, value)
            if not surface:
                continue
            self._surface[name] = surface
            alternatives = "|".join(re.escape(s) for s in sorted(surface, key=len, reverse=True))
            self._regex[name] = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I)
            if definition.fuzzy is not False:
                self._fuzzy_words[name] = [s for s in surface if len(s) >= 5 and " " not in s]

    @property
    def names(self) -> list[str]:
        """The entity names it finds, the system entities included, sorted."""
        return sorted({*self.definitions, *self.system.enabled})

    def extract(self, text: str, today: dt.date | None = None) -> list[Entity]:
        """All entities of a text, ordered by position; each with its literal, the text as typed."""
        found: list[Entity] = find_system_entities(text, today, self.system)
        for name, definition in self.definitions.items():
            found.extend(self._patterns(name, definition, text, found))
        for name in self.definitions:
            found.extend(self._values(name, text, found))
        for entity in found:
            entity.literal = entity.literal or text[entity.start:entity.end]
        return sorted(found, key=lambda e: (e.start, -e.end))

    @staticmethod
    def _patterns(name: str, definition: EntityDefinition, text: str, found: list[Entity]) -> list[Entity]:
        """Mentions of the entity's patterns: plain ones, then Watson's pattern values (value, literal, groups)."""
        matches: list[Entity] = []
        for pattern in definition.patterns:
            for m in pattern.finditer(text):
                raw = m.group("value") if "value" in pattern.groupindex else m.group(0)
                start, end = (m.start("value"), m.end("value")) if "value" in pattern.groupindex else m.span()
                value = definition.normalize.get(raw.lower(), raw)
                if not any(e.entity == name and e.start <= start < e.end for e in [*found, *matches]):
                    matches.append(Entity(name, value, start, end))
        for value, pattern in definition.value_patterns:
            for m in pattern.finditer(text):
                if m.end() == m.start() or any(e.entity == name and e.value == value and e.start < m.end()
                                               and m.start() < e.end for e in [*found, *matches]):
                    continue
                matches.append(Entity(name, value, m.start(), m.end(), literal=m.group(0),
                                      groups=[m.group(0), *m.groups()]))
        return matches

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
        for m in _WORD.finditer(text) if name in self._fuzzy_words else ():
            word = m.group(0).lower()
            if len(word) < 5 or any(s <= m.start() < e for s, e in taken) or word in GENERIC_WORDS:
                continue
            best = process.extractOne(word, self._fuzzy_words[name], scorer=fuzz.ratio,
                                      score_cutoff=self.fuzzy_score)
            if best:
                matches.append(Entity(name, surface[best[0]], m.start(), m.end(), {"fuzzy": True},
                                      confidence=best[1] / 100))
                taken.append(m.span())
        return matches
