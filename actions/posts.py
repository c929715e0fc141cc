"""Actions that list posts: find_posts (about a topic), latest_posts, posts_by_date, list_topics."""

from __future__ import annotations

import re

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.service import citation, knowledge, last_post_events, list_size, month_year, post_list, text
from knowledge import catalog


def _entity(tracker, name: str):
    return next((e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name), None)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _show_list(dispatcher, posts: list, heading: str) -> list:
    """Send a numbered list of posts; return rasa-sdk's knowledge-base slots for it: the list, and as
    the last object the only post shown (several: none, so "it" means the list's first, not an
    older post)."""
    listing, cites, buttons = post_list(posts, heading)
    dispatcher.utter_message(text=listing, buttons=buttons, json_message={"citations": cites})
    return [SlotSet("knowledge_base_listed_objects", [p.permalink for p in posts]),
            *last_post_events(posts[0].permalink if len(posts) == 1 else None)]


class ActionFindPosts(Action):
    def name(self) -> str:
        return "action_find_posts"

    def run(self, dispatcher, tracker, domain):
        subject = tracker.get_slot("subject") or tracker.get_slot("topic") or tracker.latest_message.get("text") or ""
        canonical = _entity(tracker, "topic")
        # The reader's words, plus the topic they stand for ("RAG" -> retrieval augmented generation).
        query = f"{subject} {canonical}" if canonical and str(canonical).lower() not in subject.lower() else subject
        kb = knowledge()
        period = _entity(tracker, "sys-date")        # "posts about kubernetes from 2021": only that time
        first, _, last = (period or "").partition("/")
        hits = kb.retriever.search(query, k=list_size(), date_from=first or None,
                                   date_to=last or None)
        words = {w for w in _words(query) if len(w) > 2}
        wanted = kb.settings.answer.related_above
        posts = [h.post for h in hits if (h.similarity or 0.0) >= wanted or words & _words(h.post.title)]
        if not posts:
            dispatcher.utter_message(text=text("find_posts.none", topic=subject), json_message={"citations": []})
            return [SlotSet("knowledge_base_listed_objects", None)]
        return _show_list(dispatcher, posts, text("find_posts.found", topic=subject))


class ActionLatestPosts(Action):
    def name(self) -> str:
        return "action_latest_posts"

    def run(self, dispatcher, tracker, domain):
        kb = knowledge()
        posts = kb.retriever.current_posts().values()
        listed = tracker.get_slot("knowledge_base_listed_objects") or []
        if _entity(tracker, "scope") == "listed" and listed:
            newest = catalog.newest(posts, 1, among=set(listed))
            if newest:
                post = newest[0]
                dispatcher.utter_message(
                    text=text("latest_posts.newest_of_listed", title=post.title, url=post.url,
                              month_year=month_year(post.date)),
                    json_message={"citations": [citation(post)]})
                return last_post_events(post.permalink)
        newest = catalog.newest(posts, list_size())
        return _show_list(dispatcher, newest, text("latest_posts.found"))


class ActionPostsByDate(Action):
    def name(self) -> str:
        return "action_posts_by_date"

    def run(self, dispatcher, tracker, domain):
        kb = knowledge()
        period = tracker.get_slot("date") or ""
        first, _, last = period.partition("/")
        label = tracker.get_slot("date_text") or period
        topic = _entity(tracker, "topic")
        size = list_size()
        if topic:
            posts = [h.post for h in kb.retriever.search(topic, k=size, date_from=first, date_to=last)]
        else:
            posts = catalog.in_period(kb.retriever.current_posts().values(), first, last or first)[:size]
        if not posts:
            dispatcher.utter_message(text=text("posts_by_date.none", period=label), json_message={"citations": []})
            return []
        return _show_list(dispatcher, posts, text("posts_by_date.found", period=label))


class ActionListTopics(Action):
    def name(self) -> str:
        return "action_list_topics"

    _counted: tuple[object, object] = (None, None)    # (the posts counted, their topic counts)

    def run(self, dispatcher, tracker, domain):
        posts = knowledge().retriever.current_posts()      # a new dict after each ingest
        if ActionListTopics._counted[0] is not posts:
            ActionListTopics._counted = (posts, catalog.topic_counts(posts.values()))
        counts = ActionListTopics._counted[1]
        if not counts:
            dispatcher.utter_message(text=text("list_topics.none"))
            return []
        top = sorted(counts, key=lambda t: (-counts[t], t))[:40]     # ties by name: the same list every run
        # A two-word topic makes its parts redundant ("ibm bluemix" vs "bluemix"): keep the most frequent form.
        chosen = []
        for topic in top:
            if not any(topic in other.split() or other in topic.split() for other in chosen):
                chosen.append(topic)
        chosen = chosen[:12]
        lines = [text("list_topics.found")] + [f"- {t} ({counts[t]})" for t in chosen]
        buttons = [{"title": t, "payload": f'/find_posts{{"topic": "{t}"}}'} for t in chosen[:5]]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons, json_message={"citations": []})
        return []
