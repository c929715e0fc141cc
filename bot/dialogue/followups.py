"""Follow-ups resolved against the conversation (`config/followups.yml`), and questions rewritten
with the conversation's topic before retrieval."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


from bot.nlu.system_entities import Entity
from knowledge.settings import SettingsError, config_dir, read_config_file

_NEEDS = {"last_post", "listed_posts", "last_intent"}
_ANAPHORA = re.compile(r"\b(it|its|this|that|these|those|they|them|there|one)\b", re.I)


@dataclass
class FollowupRule:
    """A rule of followups.yml: patterns that, once the conversation has what it `needs`, give an intent."""

    name: str
    patterns: list[re.Pattern]
    needs: list[str]
    intent: str
    entities: dict[str, str] = field(default_factory=dict)
    after_intents: list[str] = field(default_factory=list)


@dataclass
class Followup:
    """A message understood as a follow-up: the rule's name, the intent and the entities it gives."""

    rule: str
    intent: str
    entities: list[Entity]


def load_followup_rules(path: Path | None = None) -> list[FollowupRule]:
    """Read followups.yml (no rules without it); a malformed rule is a SettingsError naming it."""
    path = path or config_dir() / "followups.yml"
    if not path.exists():
        return []
    raw = read_config_file(path)
    rules = []
    for number, spec in enumerate(raw.get("rules") or [], 1):
        name = spec.get("name") or f"rule {number}"
        needs = spec.get("needs") or []
        needs = [needs] if isinstance(needs, str) else list(needs)
        if set(needs) - _NEEDS or not spec.get("intent") or not spec.get("patterns"):
            raise SettingsError(f"{path}: follow-up {name}: needs patterns, an intent and needs from {sorted(_NEEDS)}")
        try:
            patterns = [re.compile(p, re.I) for p in spec["patterns"]]
        except re.error as exc:
            raise SettingsError(f"{path}: follow-up {name}: bad pattern: {exc}") from None
        unknown = set(spec) - {"name", "patterns", "needs", "intent", "entities", "after_intents"}
        if unknown:
            raise SettingsError(f"{path}: follow-up {name}: unknown key(s) {', '.join(sorted(unknown))}")
        rules.append(FollowupRule(name, patterns, needs, str(spec["intent"]),
                                  {str(k): str(v) for k, v in (spec.get("entities") or {}).items()},
                                  [str(i) for i in spec.get("after_intents") or []]))
    return rules


def match_followup(rules: list[FollowupRule], text: str, context: dict, last_intent: str | None) -> Followup | None:
    """The follow-up a message is, given what the conversation has shown so far; None if none."""
    facts = {"last_post": bool(context.get("knowledge_base_last_object")),
             "listed_posts": bool(context.get("knowledge_base_listed_objects")),
             "last_intent": bool(last_intent)}
    stripped = text.strip()
    for rule in rules:
        if rule.needs and not any(facts[need] for need in rule.needs):
            continue
        if rule.after_intents and last_intent not in rule.after_intents:
            continue
        for pattern in rule.patterns:
            m = pattern.fullmatch(stripped)
            if not m:
                continue
            intent = last_intent if rule.intent == "$last_intent" else rule.intent
            if not intent:
                continue
            entities = [Entity(name, value, 0, 0) for name, value in rule.entities.items()]
            if "topic" in pattern.groupindex and m.group("topic"):
                entities.append(Entity("topic", m.group("topic").strip().lower(), m.start("topic"), m.end("topic")))
            return Followup(rule.name, intent, entities)
    return None


def rewrite_question(question: str, previous_question: str | None, previous_topic: str | None,
                     new_topic: str | None) -> str:
    """The question to search for, completed with the conversation.

    "what about fine-tuning?" after "how do I run an LLM on a CPU?" (topic: llm) becomes
    "how do I run an fine-tuning on a CPU?" when the old topic's words are in the old question,
    else "fine-tuning: how do I run an LLM on a CPU?". A question that points back ("how do I
    install it?") gets the previous topic appended.
    """
    if new_topic and previous_question:
        if previous_topic:
            replaced, count = re.subn(re.escape(previous_topic), new_topic, previous_question, flags=re.I)
            if count:
                return replaced
        return f"{new_topic}: {previous_question}"
    if previous_topic and _ANAPHORA.search(question) and previous_topic.lower() not in question.lower():
        return f"{question} {previous_topic}"
    return question
