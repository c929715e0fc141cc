"""Scripted conversations: the YAML format, read with line numbers and checked.

A file holds one conversation or a list of them:

    name: finds posts, then summarizes one
    data_dir: ../other-index          # optional: another index (relative to the file)
    config: {nlu: {intent_threshold: 0.2}}   # optional: settings overrides
    steps:
      - user: do you have posts about tekton?
        context: {author: Jane}        # optional: context variables set before the turn
        bot:                           # optional expectations, all optional
          intent: find_posts
          text: /tekton/i              # /regex/flags, or a plain string that must be contained
          not_text: /sorry/i
          cites: [tekton]              # substrings of some cited post's permalink or URL
          not_cites: [kafka]
          buttons: ["Summarize #1"]    # labels that must be offered ([] = no buttons)
          abstains: false
          context: {topic: tekton}     # context variables after the turn (null = unset)
      - click: "Summarize #1"          # press a button offered by the previous turn

A first step with only `bot:` checks what the assistant says when the conversation opens, before the
reader says anything (the node whose condition is welcome or conversation_start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SCRIPT_KEYS = {"name", "steps", "data_dir", "config"}
STEP_KEYS = {"user", "click", "bot", "context"}
EXPECT_KEYS = {"intent", "text", "not_text", "cites", "not_cites", "buttons", "abstains", "context"}
_REGEX = re.compile(r"^/(?P<pattern>.*)/(?P<flags>[imsx]*)$", re.S)


class ScriptError(ValueError):
    """A malformed script: the file, the line and why."""

    def __init__(self, file: Path, line: int, reason: str):
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


@dataclass
class TextMatcher:
    """A plain substring, or /regex/flags."""

    source: str
    regex: re.Pattern | None = None

    @classmethod
    def parse(cls, value: object, file: Path, line: int) -> "TextMatcher":
        """The matcher a script's value gives (/regex/flags or text); a bad regex raises ScriptError."""
        text = str(value)
        m = _REGEX.match(text)
        if not m:
            return cls(text)
        flags = 0
        for letter in m.group("flags"):
            flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}[letter]
        try:
            return cls(text, re.compile(m.group("pattern"), flags))
        except re.error as exc:
            raise ScriptError(file, line, f"bad regular expression {text}: {exc}") from None

    def matches(self, text: str) -> bool:
        """Whether `text` matches the regex, or contains the plain text."""
        return bool(self.regex.search(text)) if self.regex else self.source in text


@dataclass
class Expectation:
    """What a step expects of the bot's turn; None: not checked."""

    intent: str | None = None
    text: TextMatcher | None = None
    not_text: TextMatcher | None = None
    cites: list[str] | None = None
    not_cites: list[str] | None = None
    buttons: list[str] | None = None
    abstains: bool | None = None
    context: dict | None = None


@dataclass
class Step:
    """One step of a conversation: what the reader says or clicks, context set before, expectations."""

    line: int
    user: str | None = None
    click: str | None = None
    context: dict = field(default_factory=dict)
    bot: Expectation | None = None


@dataclass
class Script:
    """One scripted conversation: its name, where it is, its steps, and its data dir and settings overrides."""

    name: str
    file: Path
    line: int
    steps: list[Step]
    data_dir: Path | None = None
    config: dict = field(default_factory=dict)


class _LineLoader(yaml.SafeLoader):
    """Records the line (1-based) of every mapping under the key '__line__'."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """The mapping, with its line under '__line__'."""
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _strip_lines(value):
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def script_files(paths: list[Path]) -> list[Path]:
    """The .yml/.yaml files named, or found under the folders named, sorted."""
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        else:
            files.append(path)
    return files


def load_scripts(file: Path) -> list[Script]:
    """Every conversation of one file; a malformed file raises ScriptError with its line."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(file, 0, f"cannot read: {exc}") from None
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScriptError(file, mark.line + 1 if mark else 0, f"not valid YAML: {reason}") from None
    if raw is None:
        raise ScriptError(file, 1, "the file is empty")
    items = raw if isinstance(raw, list) else [raw]
    return [_script(item, file, number) for number, item in enumerate(items, 1)]


def _script(item, file: Path, number: int) -> Script:
    if not isinstance(item, dict):
        raise ScriptError(file, 1, f"conversation {number} must be a mapping with name and steps")
    line = item.get("__line__", 1)
    unknown = set(item) - SCRIPT_KEYS - {"__line__"}
    if unknown:
        raise ScriptError(file, line, f"unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(SCRIPT_KEYS))})")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScriptError(file, line, "a conversation needs a name")
    steps = item.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ScriptError(file, line, f"conversation {name!r} needs a list of steps")
    config = item.get("config") or {}
    if not isinstance(config, dict):
        raise ScriptError(file, line, "config must be a mapping of settings sections")
    data_dir = item.get("data_dir")
    parsed = [_step(s, file, line) for s in steps]
    for step in parsed[1:]:
        if step.user is None and step.click is None:
            raise ScriptError(file, step.line, "only the first step can be bot alone (the opening); "
                                               "later steps need user or click")
    return Script(name.strip(), file, line, parsed,
                  (file.parent / str(data_dir)).resolve() if data_dir else None, _strip_lines(config))


def _step(item, file: Path, script_line: int) -> Step:
    if not isinstance(item, dict):
        raise ScriptError(file, script_line, f"a step must be a mapping with user or click, not {item!r}")
    line = item.get("__line__", script_line)
    unknown = set(item) - STEP_KEYS - {"__line__"}
    if unknown:
        raise ScriptError(file, line, f"unknown key(s) in a step: {', '.join(sorted(unknown))} "
                                      f"(allowed: {', '.join(sorted(STEP_KEYS))})")
    if "user" in item and "click" in item:
        raise ScriptError(file, line, "a step needs one of user or click, not both")
    if "user" not in item and "click" not in item and "bot" not in item:
        raise ScriptError(file, line, "a step needs user, click, or (first, for the opening) bot")
    said = item.get("user", item.get("click", "-"))
    if not isinstance(said, (str, int, float)) or not str(said).strip():
        raise ScriptError(file, line, "user and click need a non-empty text")
    context = item.get("context") or {}
    if not isinstance(context, dict):
        raise ScriptError(file, line, "context must be a mapping of variables")
    bot = item.get("bot")
    return Step(line, user=str(item["user"]) if "user" in item else None,
                click=str(item["click"]) if "click" in item else None, context=_strip_lines(context),
                bot=_expectation(bot, file, line) if bot is not None else None)


def _expectation(item, file: Path, step_line: int) -> Expectation:
    if not isinstance(item, dict):
        raise ScriptError(file, step_line, "bot must be a mapping of expectations")
    line = item.get("__line__", step_line)
    unknown = set(item) - EXPECT_KEYS - {"__line__"}
    if unknown:
        raise ScriptError(file, line, f"unknown expectation(s) {', '.join(sorted(unknown))} "
                                      f"(allowed: {', '.join(sorted(EXPECT_KEYS))})")
    expectation = Expectation()
    if "intent" in item:
        expectation.intent = str(item["intent"]) if item["intent"] is not None else "anything_else"
    for key in ("text", "not_text"):
        if key in item:
            setattr(expectation, key, TextMatcher.parse(item[key], file, line))
    for key in ("cites", "not_cites", "buttons"):
        if key in item:
            value = item[key]
            if value is None:
                value = []
            if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
                raise ScriptError(file, line, f"{key} must be a list of texts")
            setattr(expectation, key, [str(v) for v in value])
    if "abstains" in item:
        if not isinstance(item["abstains"], bool):
            raise ScriptError(file, line, "abstains must be true or false")
        expectation.abstains = item["abstains"]
    if "context" in item:
        if not isinstance(item["context"], dict):
            raise ScriptError(file, line, "context must be a mapping of variables")
        expectation.context = _strip_lines(item["context"])
    return expectation
