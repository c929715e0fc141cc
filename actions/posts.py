"""Actions that list posts: find_posts (about a topic), latest_posts, posts_by_date, list_topics."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.answer_question import answer_question
from actions.service import BlogAction, Knowledge, citation, last_post_events
from knowledge.answers.output import month_year
from knowledge.search import catalog

if TYPE_CHECKING:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher
    from rasa_sdk.types import DomainDict


def _entity(tracker, name: str):
    return next((e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name), None)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _show_list(kb: Knowledge, dispatcher, posts: list, heading: str) -> list:
    """Send a numbered list of posts; return rasa-sdk's knowledge-base slots for it: the list, and as
    the last object the only post shown (several: none, so "it" means the list's first, not an
    older post)."""
    listing, cites, buttons = kb.post_list(posts, heading)
    dispatcher.utter_message(text=listing, buttons=buttons, json_message={"citations": cites})
    return [SlotSet("knowledge_base_listed_objects", [p.permalink for p in posts]),
            *last_post_events(posts[0].permalink if len(posts) == 1 else None)]


class ActionFindPosts(BlogAction, Action):
    """`action_find_posts`: lists the posts about a topic (or answers when it asks for a date)."""

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_find_posts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """List the posts about the `subject` slot (in a period, if named); answer a "when" question."""
        asked = tracker.latest_message.get("text") or ""
        kb = self.knowledge
        if kb.composer.prompts.question_kind(asked) in ("earliest", "when"):
            # "When did the blog first write about X?" wants a date, not a list: the answer composer
            # gives the earliest post about X (prompts.yml earliest_question, when_question).
            return await answer_question(kb, asked, dispatcher)
        subject = tracker.get_slot("subject") or tracker.get_slot("topic") or asked
        canonical = _entity(tracker, "topic")
        # The reader's words, plus the topic they stand for ("RAG" -> retrieval augmented generation).
        query = f"{subject} {canonical}" if canonical and str(canonical).lower() not in subject.lower() else subject
        period = _entity(tracker, "sys-date")        # "posts about kubernetes from 2021": only that time
        first, _, last = (period or "").partition("/")
        hits = kb.retriever.search(query, k=kb.list_size(), date_from=first or None,
                                   date_to=last or None)
        words = {w for w in _words(query) if len(w) > 2}
        wanted = kb.settings.answer.related_above
        labels = {" ".join(_words(t)) for t in (subject, canonical) if t}

        def about(post) -> bool:     # close in meaning, or the topic in its title, tags or categories
            return bool(words & _words(post.title)) or bool(labels & {" ".join(_words(t)) for t in
                                                                        [*post.tags, *post.categories]})
        posts = [h.post for h in hits if (h.similarity or 0.0) >= wanted or about(h.post)]
        if not posts:
            dispatcher.utter_message(text=kb.text("find_posts.none", topic=subject), json_message={"citations": []})
            return [SlotSet("knowledge_base_listed_objects", None)]
        return _show_list(kb, dispatcher, posts, kb.text("find_posts.found", topic=subject))


class ActionLatestPosts(BlogAction, Action):
    """`action_latest_posts`: lists the newest posts, or names the newest of those listed."""

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_latest_posts"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Show the newest posts (of those listed, when the `scope` entity says so); return the slots."""
        kb = self.knowledge
        posts = kb.retriever.current_posts().values()
        listed = tracker.get_slot("knowledge_base_listed_objects") or []
        if _entity(tracker, "scope") == "listed" and listed:
            newest = catalog.newest(posts, 1, among=set(listed))
            if newest:
                post = newest[0]
                dispatcher.utter_message(
                    text=kb.text("latest_posts.newest_of_listed", title=post.title, url=post.url,
                              month_year=month_year(post.date)),
                    json_message={"citations": [citation(post)]})
                return last_post_events(post.permalink)
        newest = catalog.newest(posts, kb.list_size())
        return _show_list(kb, dispatcher, newest, kb.text("latest_posts.found"))


class ActionPostsByDate(BlogAction, Action):
    """`action_posts_by_date`: lists the posts of the `date` slot's period (about a topic, if named)."""

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_posts_by_date"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """List the posts of the `date` slot's period, about the topic named if any; return the slots."""
        kb = self.knowledge
        period = tracker.get_slot("date") or ""
        first, _, last = period.partition("/")
        label = tracker.get_slot("date_text") or period
        topic = _entity(tracker, "topic")
        size = kb.list_size()
        if topic:
            posts = [h.post for h in kb.retriever.search(topic, k=size, date_from=first, date_to=last)]
        else:
            posts = catalog.in_period(kb.retriever.current_posts().values(), first, last or first)[:size]
        if not posts:
            dispatcher.utter_message(text=kb.text("posts_by_date.none", period=label), json_message={"citations": []})
            return []
        return _show_list(kb, dispatcher, posts, kb.text("posts_by_date.found", period=label))


class ActionListTopics(BlogAction, Action):
    """`action_list_topics`: lists the blog's topics (worked out once per ingest)."""

    def __init__(self, knowledge: Knowledge):
        super().__init__(knowledge)
        self._listed: tuple[object, list] = (None, [])    # (the posts listed, their topics)

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_list_topics"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Show the blog's topics with their post counts and a button per topic; no slot events."""
        kb = self.knowledge
        posts = kb.retriever.current_posts()      # a new dict after each ingest
        if self._listed[0] is not posts:
            self._listed = (posts, catalog.topic_list(posts, kb.retriever.post_vectors, kb.settings.topics))
        topics = self._listed[1]
        if not topics:
            dispatcher.utter_message(text=kb.text("list_topics.none"))
            return []
        lines = [kb.text("list_topics.found")] + [f"- {topic} ({count})" for topic, count in topics]
        buttons = [{"title": topic, "payload": f'/find_posts{{"topic": "{topic}"}}'} for topic, _ in topics[:5]]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons, json_message={"citations": []})
        return []
