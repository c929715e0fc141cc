"""`blogbot chat --record FILE.yml`: the conversation just held, saved as a test script whose
expectations are what the bot actually did (intent, citations, buttons), for the author to edit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from bot.dialogue.messages import TurnResult
from knowledge.files import write_text_whole


class Recorder:
    """Collects the turns of a chat as a test script, each expecting what the bot did."""

    def __init__(self, path: str | Path, name: str | None = None):
        self.path = Path(path)
        self.name = name or f"recorded {dt.datetime.now():%Y-%m-%d %H:%M}"
        self.steps: list[dict] = []

    def add(self, step: dict, result: TurnResult) -> None:
        """Add a turn: the reader's step, expecting the intent, citations, buttons and abstention of `result`."""
        expected: dict = {"intent": result.intent or "anything_else"}
        cited = list(dict.fromkeys(c.permalink for m in result.messages for c in m.citations))
        if cited:
            expected["cites"] = cited
        buttons = [b.title for m in result.messages for b in m.buttons]
        if buttons:
            expected["buttons"] = buttons
        if any(m.abstained is not None for m in result.messages):
            expected["abstains"] = any(m.abstained for m in result.messages)
        self.steps.append({**step, "bot": expected})

    def save(self) -> None:
        """Write the script (nothing when no turn was held)."""
        if not self.steps:
            return
        header = ("# Recorded with `blogbot chat --record`. The expectations are what the assistant did;\n"
                  "# edit them (text: /regex/i, not_text, context, ...) and run `blogbot test " f"{self.path}`.\n")
        body = yaml.safe_dump({"name": self.name, "steps": self.steps}, sort_keys=False, allow_unicode=True, width=100)
        write_text_whole(self.path, header + body)
