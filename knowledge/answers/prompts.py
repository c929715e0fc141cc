"""Prompt templates and fixed answer texts from `config/prompts.yml`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.settings import SettingsError, config_dir, read_config_file
from knowledge.answers.voice import VoiceRules


@dataclass
class Prompts:
    """config/prompts.yml: the prompt templates, the fixed answer texts, the question patterns and the voice rules."""

    system: str
    user: str
    passage: str
    abstain: str
    abstain_with_related: str
    abstain_unknown_name: str = "I couldn't find anything about {name} in the blog."
    abstain_name_not_answered: str = "I couldn't find a post about {name} that answers this."
    closest_posts: str = "These posts come closest:"
    answer_intro: str = ""
    answer_intro_earliest: str = ""
    earliest_question: re.Pattern | None = None
    earliest_words: frozenset = field(default_factory=frozenset)
    earliest_any_mention: re.Pattern | None = None
    when_question: re.Pattern | None = None
    list_question: re.Pattern | None = None
    list_words: frozenset = field(default_factory=frozenset)
    pointer_sentence: re.Pattern | None = None
    list_intro: str = "Posts on this:"
    list_item: str = "- “{title}” ({month_year}) [{number}]: {summary}"
    voice: VoiceRules = field(default_factory=VoiceRules)

    def question_kind(self, question: str) -> str:
        """"list" (which posts are about X?), "earliest" (when did he first write about X?), "when"
        (when did he write about X?: the answer is the top post's date) or "answer"."""
        if self.list_question and self.list_question.search(question):
            return "list"
        if self.earliest_question and self.earliest_question.search(question):
            return "earliest"
        if self.when_question and self.when_question.search(question):
            return "when"
        return "answer"


def _pattern(path: Path, raw: dict, key: str) -> re.Pattern | None:
    text = raw.get(key) or ""
    try:
        return re.compile(text, re.IGNORECASE) if text.strip() else None
    except re.error as exc:
        raise SettingsError(f"{path}: {key} is not a valid regular expression: {exc}") from None


def _voice_rules(path: Path, raw: dict) -> VoiceRules:
    """prompts.yml `voice` (see knowledge/answers/voice.py); missing keys keep VoiceRules' defaults."""
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: voice must be a mapping")
    rules = VoiceRules()

    def words(key: str) -> dict:
        value = raw.get(key) or {}
        if not isinstance(value, dict):
            raise SettingsError(f"{path}: voice.{key} must be a mapping of words")
        return {str(k).lower().replace("’", "'"): "" if v is None else str(v) for k, v in value.items()}

    rules.singular = words("singular")
    rules.verbs_after_i = words("verbs_after_i")
    rules.plural = frozenset(str(w).lower().replace("’", "'") for w in raw.get("plural") or [])
    for key in ("quote", "quote_many", "unknown_author", "several_authors", "list_and"):
        if raw.get(key):
            setattr(rules, key, str(raw[key]))
    for key in ("quote", "quote_many"):
        if "{text}" not in getattr(rules, key) or "{author}" not in getattr(rules, key):
            raise SettingsError(f"{path}: voice.{key} must contain {{author}} and {{text}}")
    return rules


def load_prompts(path: Path | None = None) -> Prompts:
    """Read prompts.yml; a missing key or placeholder is a SettingsError naming it."""
    path = path or config_dir() / "prompts.yml"
    raw = read_config_file(path)
    answer = raw.get("answer") or {}
    try:
        prompts = Prompts(system=answer.get("system") or "", user=answer["user"], passage=answer["passage"],
                          abstain=raw["abstain"], abstain_with_related=raw["abstain_with_related"],
                          abstain_unknown_name=raw.get("abstain_unknown_name") or Prompts.abstain_unknown_name,
                          abstain_name_not_answered=raw.get("abstain_name_not_answered") or Prompts.abstain_name_not_answered,
                          closest_posts=raw.get("closest_posts") or Prompts.closest_posts,
                          answer_intro=raw.get("answer_intro") or "",
                          answer_intro_earliest=raw.get("answer_intro_earliest") or raw.get("answer_intro") or "",
                          earliest_question=_pattern(path, raw, "earliest_question"),
                          earliest_words=frozenset(str(w).lower() for w in raw.get("earliest_words") or []),
                          earliest_any_mention=_pattern(path, raw, "earliest_any_mention"),
                          when_question=_pattern(path, raw, "when_question"),
                          list_question=_pattern(path, raw, "list_question"),
                          list_words=frozenset(str(w).lower() for w in raw.get("list_words") or []),
                          pointer_sentence=_pattern(path, raw, "pointer_sentence"),
                          list_intro=raw.get("list_intro") or "Posts on this:",
                          list_item=raw.get("list_item") or Prompts.list_item,
                          voice=_voice_rules(path, raw.get("voice") or {}))
    except KeyError as exc:
        raise SettingsError(f"{path}: missing {exc.args[0]!r}") from None
    for key, text, needed in (("answer.user", prompts.user, ("{passages}", "{question}")),
                              ("answer.passage", prompts.passage, ("{text}",)),
                              ("list_item", prompts.list_item, ("{number}",)),
                              ("abstain_unknown_name", prompts.abstain_unknown_name, ("{name}",)),
                              ("abstain_name_not_answered", prompts.abstain_name_not_answered, ("{name}",))):
        for placeholder in needed:
            if placeholder not in text:
                raise SettingsError(f"{path}: {key} must contain {placeholder}")
    return prompts
