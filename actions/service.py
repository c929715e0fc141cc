"""What the actions work with (`Knowledge`: one blog's retriever, answer composer, feedback store and
response texts, handed to each action when it is registered) and the helpers that turn posts into the
channel-neutral message (text, citations, buttons)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.answers.output import month_year
from knowledge.markup import escape_markdown
from knowledge.settings import Settings, config_dir, read_config_file

if TYPE_CHECKING:
    from knowledge.corpus.index import PostRecord


def load_texts(path: Path | None = None) -> dict:
    """The response texts of `config/responses.yml` (or `path`)."""
    return read_config_file(path or config_dir() / "responses.yml")


@dataclass
class Knowledge:
    """One blog's parts that the actions use; built once per process by `bot.assistant`."""
    data_dir: Path
    settings: Settings
    retriever: object
    composer: object
    feedback: object
    texts: dict = field(default_factory=load_texts)

    def text(self, key: str, **values) -> str:
        """A text of responses.yml ("find_posts.found"), filled in. The values are text (a reader's
        topic, a post's title) and are escaped as Markdown; `url` is a link's address and is not."""
        node = self.texts
        for part in key.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        values = {name: value if name == "url" or not isinstance(value, str) else escape_markdown(value)
                  for name, value in values.items()}
        return str(node or "").format(**values) if node else ""

    def list_size(self) -> int:
        """How many posts a list shows (responses.yml `list_size`)."""
        return int(self.texts.get("list_size", 5))

    def post_list(self, posts: list, heading: str) -> tuple[str, list[dict], list[dict]]:
        """Markdown of a numbered list of posts, its citations and a "Summarize #n" button per post."""
        lines = [heading] if heading else []
        buttons = []
        for number, post in enumerate(posts, 1):
            lines.append(self.text("post_line", number=number, title=post.title, url=post.url, date=post.date,
                                   month_year=month_year(post.date)))
            label = self.text("buttons.summarize", number=number)
            if label:
                buttons.append({"title": label, "payload": f'/summarize_post{{"mention": "{number}"}}'})
        return "\n".join(lines), [citation(p) for p in posts], buttons


def citation(post: PostRecord) -> dict:
    """A post as a message's citation."""
    return {"title": post.title, "url": post.url, "permalink": post.permalink, "date": post.date}


def last_post_events(permalink: str | None) -> list:
    """rasa-sdk's knowledge-base slots naming the post the reader saw last."""
    from rasa_sdk.events import SlotSet

    return [SlotSet("knowledge_base_last_object", permalink), SlotSet("knowledge_base_last_object_type", "post")]


class BlogAction:
    """Mixin for the blog's actions: the `Knowledge` they work with, given when they are registered."""

    def __init__(self, knowledge: Knowledge):
        self.knowledge = knowledge
