"""The composition root: builds each long-lived part of one blog's assistant once (index and
retriever, answer composer and generator, feedback store, NLU, tracker store, dialog engine, the
turn recorder of the analytics) and hands them to the channels, the action server and the CLI.

A channel builds the assistant once (`build`) and then calls `assistant.engine.handle(sender_id,
text)` per message; the action server builds only the actions' part (`build_knowledge`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from actions import build_executor
from actions.service import Knowledge
from bot.analytics.records import RedisFeedbackStore, TurnRecorder, open_feedback_store, open_turn_store
from bot.dialogue.action_client import ActionDeadlines, CircuitBreaker, HttpActionClient, InProcessActionClient
from bot.dialogue.config import load_dialog
from bot.dialogue.engine import DialogEngine
from bot.dialogue.followups import load_followup_rules
from bot.dialogue.redis_store import shared_redis
from bot.dialogue.tracker_store import MemoryTrackerStore, open_tracker_store
from bot.nlu.parser import load_nlu
from knowledge.corpus.embedder import get_embedder
from knowledge.corpus.index import read_meta
from knowledge.feedback import FeedbackStore
from knowledge.search.retrieval import Retriever
from knowledge.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Assistant:
    """One blog's assistant: every long-lived part, built once by `build`."""
    data_dir: Path
    settings: Settings
    retriever: Retriever
    feedback: FeedbackStore | RedisFeedbackStore
    engine: DialogEngine
    knowledge: Knowledge | None     # the actions' parts, when the actions run in this process
    recorder: TurnRecorder          # the channels' turns, for `blogbot report` and /admin


def build_knowledge(data_dir: str | Path, settings: Settings, retriever: Retriever | None = None,
                    feedback: FeedbackStore | RedisFeedbackStore | None = None,
                    remember_tries: bool = False) -> Knowledge:
    """What the actions work with: the retriever, the answer composer with its generator loaded (or
    converted, the first time) now rather than in the first answer, the feedback store, the texts.
    `remember_tries` (servers): the generator's keep record is kept in the data directory across
    restarts (knowledge/answers/keep_rate.py); evaluations and tests start from none."""
    from knowledge.answers.composer import AnswerComposer

    data_dir = Path(data_dir)
    retriever = retriever or Retriever(data_dir, settings)
    composer = AnswerComposer(data_dir, settings, retriever=retriever, remember_tries=remember_tries)
    composer.generator()
    return Knowledge(data_dir, settings, retriever, composer, feedback or open_feedback_store(data_dir, settings))


def build(data_dir: str | Path, settings: Settings, tracker_store: str | None = None,
          action_endpoint: str | None = None, today: dt.date | None = None, remember_tries: bool = False) -> Assistant:
    """The assistant over the index in `data_dir`. Actions run in this process unless an action
    endpoint is configured (settings.dialog.action_endpoint or the argument); `remember_tries` as
    in `build_knowledge`."""
    data_dir = Path(data_dir)
    endpoint = settings.dialog.action_endpoint if action_endpoint is None else action_endpoint
    deadlines = ActionDeadlines.from_settings(settings.dialog)
    breaker = CircuitBreaker(settings.dialog.action_breaker_failures, settings.dialog.action_breaker_cooldown_s)
    retriever = Retriever(data_dir, settings)
    kind = tracker_store or settings.dialog.tracker_store
    store = MemoryTrackerStore() if kind == "memory" else open_tracker_store(kind, data_dir, settings.dialog)
    feedback = open_feedback_store(data_dir, settings, shared_redis(store), follow_settings=False)
    knowledge = None
    if endpoint:
        actions = HttpActionClient(endpoint, deadlines=deadlines, breaker=breaker)
    else:
        knowledge = build_knowledge(data_dir, settings, retriever, feedback, remember_tries)
        actions = InProcessActionClient(build_executor(knowledge), deadlines=deadlines, breaker=breaker)
    nlu = load_nlu(data_dir, settings, retriever.current_posts)
    dialog = load_dialog()
    # What the blog says of itself starts every conversation's context, unless dialog.yml sets it
    # (or dialog.blog_facts is off: an imported skill's context is its own).
    if settings.dialog.blog_facts:
        dialog.context = {**blog_context(retriever, read_meta(data_dir), settings, dialog.messages), **dialog.context}
    engine = DialogEngine(dialog, nlu, actions, store, settings, load_followup_rules(), today=today)
    engine.sessions.prune()     # ended conversations go at start, then once per timeout while it runs
    recorder = TurnRecorder(open_turn_store(data_dir, settings, shared_redis(store), follow_settings=False), feedback,
                            settings, get_embedder(settings.embedder).encode)
    return Assistant(data_dir, settings, retriever, feedback, engine, knowledge, recorder)


def blog_context(retriever: Retriever, meta: dict, settings: Settings, messages: dict) -> dict:
    """The blog's own facts as context variables (dialog.yml lists them): its title, who writes it,
    how many posts it has, its about page, its first topic and a question it answers."""
    from knowledge.search import catalog

    posts = retriever.current_posts()
    names, count = catalog.authors(posts.values(), meta.get("blog_author") or "", settings.site.main_author_share,
                                   settings.site.authors_shown)
    if count > 1:
        joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {messages['list_and']} {names[-1]}"
        author = messages["authors_many"].format(count=count, names=joined)
    else:
        author = names[0] if names else messages["author_unknown"]
    topics = [topic for topic, _ in catalog.topic_list(posts, retriever.post_vectors, settings.topics)]
    if not topics and posts:      # a blog too small for topics: its newest post's title stands in
        topics = [catalog.newest(posts.values(), 1)[0].title]
    question = catalog.example_question(retriever.question_headings(), topics, settings.topics.example_min_words,
                                        settings.topics.example_max_words)
    context = {"author": author, "blog_title": meta.get("blog_title") or "this blog", "post_count": len(posts)}
    if meta.get("about_url"):
        context["about_url"] = meta["about_url"]
    if topics:
        context["example_topic"] = topics[0]
        context["example_question"] = question or messages["example_question"].format(topic=topics[min(1, len(topics) - 1)])
    return context
