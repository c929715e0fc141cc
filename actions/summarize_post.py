"""action_summarize_post: summarize the post the reader named, listed or was last shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.knowledge_base.utils import resolve_mention

from actions.service import BlogAction, Knowledge, citation, last_post_events
from knowledge.answers.output import month_year
from knowledge.search import catalog
from knowledge.answers.summaries import summarize_post

if TYPE_CHECKING:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher
    from rasa_sdk.types import DomainDict

# rasa-sdk's ordinal mentions ("1".."10", LAST) over the listed posts; IT is the last post shown.
ORDINAL_MENTIONS = {str(n): (lambda items, i=n - 1: items[i] if i < len(items) else None) for n in range(1, 11)}
ORDINAL_MENTIONS["LAST"] = lambda items: items[-1]


def _resolve(kb: Knowledge, tracker, posts: dict):
    """The post meant: a mention ("the second one", "it"), a title, or a topic; None if unclear."""
    by_permalink = {p.permalink: p for p in posts.values()}
    reference = tracker.get_slot("post")
    kind = tracker.get_slot("post_entity")
    mention = tracker.get_slot("mention")
    if kind == "mention" or (mention and not reference):
        if (mention or reference) == "IT":
            listed = tracker.get_slot("knowledge_base_listed_objects") or []
            last = tracker.get_slot("knowledge_base_last_object") or (listed[0] if listed else None)
            return by_permalink.get(last)
        found = resolve_mention(tracker, ORDINAL_MENTIONS)
        return by_permalink.get(found) if found else None
    if not reference:
        return by_permalink.get(tracker.get_slot("knowledge_base_last_object"))
    post = catalog.by_title(posts.values(), reference)
    if post is None:
        hits = kb.retriever.search(reference, k=1)
        # A reply typed into the "Which post?" prompt must resemble some post, or it names none.
        wanted = kb.settings.answer.related_above if kind == "text" else 0.0
        post = hits[0].post if hits and (hits[0].similarity or 0.0) >= wanted else None
    return post


class ActionSummarizePost(BlogAction, Action):
    """`action_summarize_post`: summarizes the post the reader means."""

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_summarize_post"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Summarize the post meant (named, listed or last shown), or say it is not found; return the slots."""
        kb = self.knowledge
        posts = kb.retriever.current_posts()
        post = _resolve(kb, tracker, posts)
        if post is None:
            dispatcher.utter_message(text=kb.text("summarize_post.not_found"), json_message={"citations": []})
            return [SlotSet("post", None)]
        summary = summarize_post(kb.retriever, post.id)
        if not summary.sentences:
            dispatcher.utter_message(text=kb.text("summarize_post.no_text", title=post.title),
                                     json_message={"citations": [citation(post)]})
        else:
            heading = kb.text("summarize_post.found", title=post.title, month_year=month_year(post.date))
            dispatcher.utter_message(text=f"{heading} {summary.text}",
                                     json_message={"citations": [{"number": 1, **citation(post)}]})
        return last_post_events(post.permalink)
