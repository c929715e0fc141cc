"""`blogbot chat`: a conversation in the terminal. Citations print as a numbered list of titles
and links; buttons as numbered choices the reader can type."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from bot.dialogue.messages import BotMessage, Notice, Token, TurnResult
from knowledge.markup import unescape_markdown, unicode_problem

if TYPE_CHECKING:
    from bot.dialogue.engine import DialogEngine

PROMPT = "you> "


def render(message: BotMessage) -> str:
    """A message as plain text: its text, its sources as a numbered list, its buttons as numbered choices."""
    lines = [unescape_markdown(message.text)] if message.text else []
    # A list of posts already shows each one's link: Sources would repeat it.
    if message.citations and not all(c.url in message.text for c in message.citations):
        lines.append("Sources:")
        for number, citation in enumerate(message.citations, 1):
            lines.append(f"  [{citation.number or number}] {citation.title} — {citation.url}")
    for number, button in enumerate(message.buttons, 1):
        lines.append(f"  ({number}) {button.title}")
    return "\n".join(lines)


def chat(engine: DialogEngine, sender_id: str = "terminal", stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
         stream: bool | None = None,
         on_turn: Callable[[dict, TurnResult], None] = lambda step, result: None) -> None:
    """Hold a conversation until end of input or "/quit". A number picks a button of the last message.
    `on_turn(step, result)` sees each turn: step is {"user": text} or {"click": button label}."""
    stream = stdout.isatty() if stream is None else stream
    buttons = _show(engine.welcome(sender_id), stdout, stream)
    while True:
        try:
            if stdin is sys.stdin and stdout.isatty():
                try:
                    line = input(PROMPT)
                except EOFError:
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
        except UnicodeDecodeError:
            stdout.write("bot> I could not read that line: it is not valid UTF-8.\n")
            continue
        text = line.strip()
        if not text:
            continue
        if unicode_problem(text):
            stdout.write(f"bot> I could not read that: {unicode_problem(text)}.\n")
            continue
        if text in ("/quit", "/exit"):
            break
        step = {"user": text}
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            step = {"click": buttons[int(text) - 1].title}
            text = buttons[int(text) - 1].payload
        result_holder = []
        buttons = _show(engine.handle(sender_id, text), stdout, stream, result_holder)
        if result_holder:
            on_turn(step, result_holder[0])


def _show(events: Iterable, stdout: TextIO, stream: bool, results: list | None = None) -> list:
    buttons, drafted = [], False
    for event in events:
        if isinstance(event, Token) and stream:
            stdout.write(("bot> " if not drafted else "") + event.text.replace("\n", " "))
            stdout.flush()
            drafted = True
        elif isinstance(event, Notice) and stream:
            stdout.write(("\n" if drafted else "") + f"bot> ({event.text})\n")
            stdout.flush()
            drafted = False
        elif isinstance(event, BotMessage):
            if drafted:
                stdout.write("\r\033[K")
                drafted = False
            stdout.write("bot> " + render(event).replace("\n", "\n     ") + "\n")
            stdout.flush()
            buttons = event.buttons or buttons
        elif isinstance(event, TurnResult) and results is not None:
            results.append(event)
    return buttons
