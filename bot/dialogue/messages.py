"""What the dialogue layer gives channels: channel-neutral messages and turn events.

A turn yields `Token`s while an answer is written (optional to show), a `Notice` when it takes
longer than usual, one `BotMessage` per message, and ends with one `TurnResult`. Channels render
`BotMessage` their own way (Block Kit, HTML, terminal); its text is Markdown, in which a reader's
echoed words are escaped (`knowledge.markup`).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field

# One citation and one streamed piece of text, from the answers down to every channel.
from knowledge.answers.output import Citation, Token  # noqa: F401


@dataclass
class Button:
    """A button of a message: its label and the payload sent when it is pressed."""

    title: str
    payload: str     # sent back as the reader's next message when pressed


@dataclass
class BotMessage:
    """One message of the assistant: Markdown text, its citations and buttons, and an id for feedback."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    abstained: bool | None = None       # set on answers: True when the blog does not cover it
    handoff: bool = False               # passes the reader to a person (a connect_to_agent response)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def as_json(self) -> dict:
        """The message as a JSON-ready dict."""
        data = asdict(self)
        data["citations"] = [c.as_json() for c in self.citations]
        return data


@dataclass
class Notice:
    """A status line while a turn works ("taking longer than usual"): shown, not kept."""

    text: str


@dataclass
class TurnResult:
    """How a turn ended: what was understood, the messages, the context after it, the node that ran."""

    sender_id: str
    text: str
    intent: str | None
    confidence: float
    entities: list[dict]
    messages: list[BotMessage]
    context: dict
    node: str | None
    new_session: bool = False

    def as_json(self) -> dict:
        """The turn as a JSON-ready dict."""
        return {"sender_id": self.sender_id, "text": self.text, "intent": self.intent,
                "confidence": round(self.confidence, 4), "entities": self.entities, "node": self.node,
                "messages": [m.as_json() for m in self.messages], "context": self.context,
                "new_session": self.new_session}
