"""The chat API's request and response bodies (pydantic models; their docstrings describe them in
/openapi.json)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from knowledge.markup import unicode_problem

SESSION_ID = r"^[A-Za-z0-9_-]{8,64}$"


def _valid_unicode(value: str | None) -> str | None:
    problem = unicode_problem(value) if value is not None else None
    if problem:
        raise ValueError(problem)
    return value


class ChatRequest(BaseModel):
    """A reader's message: typed text or a pressed button, in a session (omitted: a new one)."""

    session_id: str | None = Field(None, pattern=SESSION_ID, description="omit to start a conversation")
    text: str | None = Field(None, description="what the reader typed")
    button: str | None = Field(None, description="the value of a button the reader pressed")

    _unicode = field_validator("text", "button")(_valid_unicode)

    @model_validator(mode="after")
    def one_of_text_or_button(self) -> ChatRequest:
        """Exactly one of `text` and `button`, and not blank."""
        if (self.text is None or not self.text.strip()) == (self.button is None or not self.button.strip()):
            raise ValueError("give exactly one of text (non-empty) or button")
        return self


class CitationOut(BaseModel):
    """A source an answer cites."""

    title: str
    url: str
    permalink: str
    number: int | None = None


class ButtonOut(BaseModel):
    """A button under a message: its label and the value sent back when it is pressed."""

    title: str
    payload: str


class Message(BaseModel):
    """One bot message: Markdown text with its citations and buttons."""

    id: str
    text: str = Field(description="Markdown")
    citations: list[CitationOut]
    buttons: list[ButtonOut]
    abstained: bool | None = None
    handoff: bool = Field(False, description="passes the reader to a person")


class ChatResponse(BaseModel):
    """The bot's messages for one turn, and the session they belong to."""

    session_id: str
    messages: list[Message]
    intent: str | None = None
    new_session: bool = False


class StartRequest(BaseModel):
    """Opening a conversation, optionally resuming a session."""

    session_id: str | None = Field(None, pattern=SESSION_ID)


class FeedbackRequest(BaseModel):
    """A reader's rating of one message, with an optional comment."""

    session_id: str = Field(pattern=SESSION_ID)
    message_id: str = Field(min_length=1, max_length=64)
    rating: str = Field(pattern="^(up|down)$")
    comment: str | None = Field(None, max_length=2000)

    _unicode = field_validator("message_id", "comment")(_valid_unicode)
