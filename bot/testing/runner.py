"""Runs scripted conversations (`blogbot test`, and the pytest collector) and reports them:
one line per conversation, the transcript of a failure, JUnit XML, JSON lines."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.testing.scripts import Expectation, Script, ScriptError
from bot.dialogue.messages import TurnResult
from knowledge.markup import unescape_markdown

if TYPE_CHECKING:
    from bot.dialogue.engine import DialogEngine

ANYTHING_ELSE = "anything_else"


@dataclass
class ScriptResult:
    """How one scripted conversation went: passed or its failure, the transcript, the time it took."""

    name: str
    file: str
    line: int
    passed: bool
    failure: str | None = None
    transcript: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        """The name, file, outcome and failure as a JSON-ready dict (`blogbot test --json`)."""
        return {"name": self.name, "file": self.file, "passed": self.passed, "failure": self.failure}


class Engines:
    """One assistant per (data dir, settings overrides), loaded on first use and reused."""

    def __init__(self, default_data_dir: Path, today: dt.date | None = None,
                 default_engine: DialogEngine | None = None):
        self.default_data_dir = Path(default_data_dir)
        self.today = today
        self._engines: dict[str, object] = {}
        if default_engine is not None:      # an assistant already loaded for the default data dir
            self._engines[self._key(self.default_data_dir, {})] = default_engine

    @staticmethod
    def _key(data_dir: Path, config: dict) -> str:
        return json.dumps([str(data_dir), config], sort_keys=True)

    def get(self, data_dir: Path | None, config: dict) -> DialogEngine:
        """The engine over `data_dir` (None: the default one) with the settings overrides `config`."""
        from bot.assistant import build
        from knowledge.settings import apply_overrides, load_settings

        data_dir = Path(data_dir or self.default_data_dir)
        key = self._key(data_dir, config)
        if key not in self._engines:
            settings = apply_overrides(load_settings(), config)
            self._engines[key] = build(data_dir, settings, tracker_store="memory", today=self.today).engine
        return self._engines[key]


def run_script(script: Script, engines: Engines) -> ScriptResult:
    """Run one conversation in a fresh session; stop at the first unmet expectation."""
    started = time.perf_counter()
    result = ScriptResult(script.name, str(script.file), script.line, passed=True)
    try:
        engine = engines.get(script.data_dir, script.config)
    except Exception as exc:     # no index, bad settings: the conversation cannot run
        result.passed, result.failure = False, f"cannot start the assistant: {exc}"
        return result
    sender = f"script-{uuid.uuid4().hex[:12]}"
    offered: list = []
    for number, step in enumerate(script.steps, 1):
        if step.context:
            engine.set_context(sender, step.context)
        if step.click is not None:
            button = next((b for b in offered if b.title.strip().lower() == step.click.strip().lower()), None)
            if button is None:
                labels = ", ".join(repr(b.title) for b in offered) or "none"
                result.passed = False
                result.failure = (f"step {number} (line {step.line}): no button labelled {step.click!r} "
                                  f"(offered: {labels})")
                if "#" in labels and "#" not in step.click:
                    result.failure += "; note: YAML reads an unquoted # as a comment, quote the label"
                break
            said, text = f"[presses {button.title!r}]", button.payload
        elif step.user is None:          # the opening: what the assistant says before the reader does
            said, text = "[opens the conversation]", None
        else:
            said = text = step.user
        turn = engine.respond(sender, text)
        result.transcript.append(f"user: {said}")
        for message in turn.messages:
            result.transcript.append("bot:  " + message.text.replace("\n", "\n      "))
            if message.citations:
                result.transcript.append("      cites: " + ", ".join(c.permalink for c in message.citations))
            if message.buttons:
                result.transcript.append("      buttons: " + ", ".join(b.title for b in message.buttons))
        result.transcript.append(f"      (intent {turn.intent or ANYTHING_ELSE}, node {turn.node})")
        problems = check(step.bot, turn) if step.bot else []
        if problems:
            result.passed = False
            result.failure = f"step {number} (line {step.line}): " + "; ".join(problems)
            break
        offered = [b for m in turn.messages for b in m.buttons]
    result.seconds = time.perf_counter() - started
    return result


def check(expected: Expectation, turn: TurnResult) -> list[str]:
    """What differs between a turn and its expectations ("expected …, got …" each)."""
    problems = []
    text = "\n".join(unescape_markdown(m.text) for m in turn.messages)     # as readers see it
    cited = [c for m in turn.messages for c in m.citations]
    buttons = [b.title for m in turn.messages for b in m.buttons]
    actual_intent = turn.intent or ANYTHING_ELSE
    if expected.intent is not None and expected.intent != actual_intent and \
            not (expected.intent == ANYTHING_ELSE and turn.node == ANYTHING_ELSE):
        problems.append(f"expected intent {expected.intent}, got {actual_intent}")
    if expected.text and not expected.text.matches(text):
        problems.append(f"expected text {expected.text.source!r}, got {_short(text)!r}")
    if expected.not_text and expected.not_text.matches(text):
        problems.append(f"expected text without {expected.not_text.source!r}, got {_short(text)!r}")
    addresses = [f"{c.permalink} {c.url}" for c in cited]
    for wanted in expected.cites or []:
        if not any(wanted in address for address in addresses):
            problems.append(f"expected a citation of {wanted!r}, got {[c.permalink for c in cited] or 'none'}")
    for unwanted in expected.not_cites or []:
        if any(unwanted in address for address in addresses):
            problems.append(f"expected no citation of {unwanted!r}, got {[c.permalink for c in cited]}")
    if expected.buttons is not None:
        if not expected.buttons and buttons:
            problems.append(f"expected no buttons, got {buttons}")
        lowered = [b.lower() for b in buttons]
        for label in expected.buttons:
            if label.lower() not in lowered:
                problems.append(f"expected a button {label!r}, got {buttons or 'none'}")
    if expected.abstains is not None:
        abstained = any(m.abstained for m in turn.messages)
        if abstained != expected.abstains:
            problems.append(f"expected abstains {expected.abstains}, got {abstained}")
    for name, value in (expected.context or {}).items():
        actual = turn.context.get(name)
        if not _same(value, actual):
            problems.append(f"expected context ${name} = {value!r}, got {actual!r}")
    return problems


def _same(expected, actual) -> bool:
    if expected is None:
        return actual is None
    if isinstance(expected, (list, dict)):
        return expected == actual
    return actual is not None and str(expected).lower() == str(actual).lower()


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def error_result(error: ScriptError) -> ScriptResult:
    """The failed result of a malformed script file."""
    return ScriptResult(f"{error.file.name} (malformed)", str(error.file), error.line, passed=False,
                        failure=f"{error.file}:{error.line}: {error.reason}")


def format_result(result: ScriptResult) -> str:
    """A result as text: a PASS line, or a FAIL line with the transcript and the failure."""
    where = f"{result.file}:{result.line}"
    if result.passed:
        return f"PASS  {result.name}  ({where}, {result.seconds:.1f} s)"
    lines = [f"FAIL  {result.name}  ({where})"]
    lines += ["    " + line for line in result.transcript]
    lines.append(f"    >>> {result.failure}")
    return "\n".join(lines)


def write_junit(results: list[ScriptResult], path: Path) -> None:
    """Write the results to `path` as JUnit XML."""
    suite = ET.Element("testsuite", name="blogbot conversations", tests=str(len(results)),
                       failures=str(sum(1 for r in results if not r.passed and r.transcript is not None)),
                       time=f"{sum(r.seconds for r in results):.3f}")
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=result.file, name=result.name, time=f"{result.seconds:.3f}")
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=result.failure or "failed")
            failure.text = "\n".join(result.transcript + [result.failure or ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
