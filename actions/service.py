"""The knowledge the actions share: one retriever, answer composer and feedback store per
process, and the helpers that turn posts into the channel-neutral message (text, citations,
buttons).

`configure(data_dir)` sets it up; without it the first action uses `BLOGBOT_DATA_DIR` (else
`./.blogbot`), so `python -m rasa_sdk --actions actions` works too. A process that serves several
blogs (tests) runs each action with its blog's knowledge set in `current_knowledge`.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Iterator


from knowledge.markup import escape_markdown
from knowledge.settings import Settings, config_dir, load_settings, read_config_file

_lock = threading.Lock()
_knowledge: "Knowledge | None" = None
current_knowledge: contextvars.ContextVar["Knowledge | None"] = contextvars.ContextVar("current_knowledge", default=None)


@dataclass
class Knowledge:
    data_dir: Path
    settings: Settings
    retriever: object
    composer: object
    feedback: object
    texts: dict


def load_texts(path: Path | None = None) -> dict:
    return read_config_file(path or config_dir() / "responses.yml")


def configure(data_dir: str | Path, settings: Settings | None = None, composer=None) -> Knowledge:
    """Load the knowledge base of `data_dir` for the actions of this process."""
    global _knowledge
    from knowledge.answers.composer import AnswerComposer
    from knowledge.feedback import FeedbackStore
    from knowledge.search.retrieval import Retriever

    settings = settings or load_settings()
    with _lock:
        if composer is None:
            composer = AnswerComposer(data_dir, settings, retriever=Retriever(data_dir, settings))
        _knowledge = Knowledge(Path(data_dir), settings, composer.retriever, composer, FeedbackStore(data_dir),
                               load_texts())
        return _knowledge


def knowledge() -> Knowledge:
    """The knowledge of the action being run (else the process's, loaded on first use)."""
    chosen = current_knowledge.get()
    if chosen is not None:
        return chosen
    if _knowledge is None:
        configure(os.environ.get("BLOGBOT_DATA_DIR") or ".blogbot")
    return _knowledge


def text(key: str, **values) -> str:
    """A text of responses.yml ("find_posts.found"), filled in. The values are text (a reader's
    topic, a post's title) and are escaped as Markdown; `url` is a link's address and is not."""
    node = knowledge().texts
    for part in key.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    values = {name: value if name == "url" or not isinstance(value, str) else escape_markdown(value)
              for name, value in values.items()}
    return str(node or "").format(**values) if node else ""


def month_year(date: str) -> str:
    try:
        return dt.date.fromisoformat(date).strftime("%B %Y")
    except ValueError:
        return date


def citation(post) -> dict:
    return {"title": post.title, "url": post.url, "permalink": post.permalink, "date": post.date}


def list_size() -> int:
    """How many posts a list shows (responses.yml `list_size`)."""
    return int(knowledge().texts.get("list_size", 5))


def last_post_events(permalink: str | None) -> list:
    """rasa-sdk's knowledge-base slots naming the post the reader saw last."""
    from rasa_sdk.events import SlotSet

    return [SlotSet("knowledge_base_last_object", permalink), SlotSet("knowledge_base_last_object_type", "post")]


def post_list(posts: list, heading: str) -> tuple[str, list[dict], list[dict]]:
    """Markdown of a numbered list of posts, its citations and a "Summarize #n" button per post."""
    lines = [heading] if heading else []
    buttons = []
    for number, post in enumerate(posts, 1):
        lines.append(text("post_line", number=number, title=post.title, url=post.url, date=post.date,
                          month_year=month_year(post.date)))
        label = text("buttons.summarize", number=number)
        if label:
            buttons.append({"title": label, "payload": f'/summarize_post{{"mention": "{number}"}}'})
    return "\n".join(lines), [citation(p) for p in posts], buttons


async def in_thread(iterator: Iterator, stop: threading.Event | None = None) -> AsyncIterator:
    """Iterate a blocking iterator (the composer) on a worker thread, without blocking the loop.
    When the consumer stops (the action is cancelled: the reader left), `stop` is set and the
    iterator is closed at its next item. An iterator made with the same `stop` event (the
    composer's `cancel`) sees it at once, which stops the generator at its next token even while
    the composer holds sentences back."""
    loop = asyncio.get_running_loop()
    done = object()
    items: asyncio.Queue = asyncio.Queue()
    stop = stop or threading.Event()

    def hand_over(item) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, item)
        except RuntimeError:        # the loop is gone
            stop.set()

    def work() -> None:
        try:
            for item in iterator:
                if stop.is_set():
                    break
                hand_over(item)
        except BaseException as exc:     # handed to the awaiting side
            hand_over(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        hand_over(done)

    threading.Thread(target=work, name="action-work", daemon=True).start()
    try:
        while True:
            item = await items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
