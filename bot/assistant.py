"""Builds the assistant for a data dir: NLU, dialog, tracker store and action client.

Channels (terminal, web, Slack, the conversation test runner) call `load_assistant` once and
then `engine.handle(sender_id, text)` per message.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bot.action_client import ActionDeadlines, CircuitBreaker, HttpActionClient, InProcessActionClient, load_executor
from bot.dialog import DialogEngine
from bot.dialog_config import load_dialog
from bot.followups import load_followup_rules
from bot.nlu import load_nlu
from bot.tracker_store import MemoryTrackerStore, open_tracker_store
from knowledge.index import read_meta
from knowledge.settings import Settings

log = logging.getLogger(__name__)


def load_assistant(data_dir: str | Path, settings: Settings, tracker_store: str | None = None,
                   action_endpoint: str | None = None, today=None) -> DialogEngine:
    """The dialog engine over the index in `data_dir`. Actions run in this process unless an
    action endpoint is configured (settings.dialog.action_endpoint or the argument)."""
    from actions.service import configure
    from knowledge.retrieval import Retriever

    data_dir = Path(data_dir)
    endpoint = settings.dialog.action_endpoint if action_endpoint is None else action_endpoint
    deadlines = ActionDeadlines.from_settings(settings.dialog)
    breaker = CircuitBreaker(settings.dialog.action_breaker_failures, settings.dialog.action_breaker_cooldown_s)
    retriever = Retriever(data_dir, settings)
    if endpoint:
        actions = HttpActionClient(endpoint, deadlines=deadlines, breaker=breaker)
    else:
        from knowledge.answering import AnswerComposer

        composer = AnswerComposer(data_dir, settings, retriever=retriever)
        composer.generator()   # load (or convert, the first time) now rather than in the first answer
        actions = InProcessActionClient(load_executor(), knowledge=configure(data_dir, settings, composer),
                                        deadlines=deadlines, breaker=breaker)
    nlu = load_nlu(data_dir, settings, retriever.current_posts)
    kind = tracker_store or settings.dialog.tracker_store
    store = MemoryTrackerStore() if kind == "memory" else open_tracker_store(kind, data_dir)
    # Conversations past their timeout would start afresh anyway: forget them (a day's grace); the
    # engine does it again once per timeout while it runs.
    store.prune(time.time() - settings.dialog.session_timeout_minutes * 60 - 86400)
    dialog = load_dialog()
    # The blog's own title and author (from its config file, at ingest) start every conversation's
    # context, unless dialog.yml sets them.
    meta = read_meta(data_dir)
    dialog.context = {"author": meta.get("blog_author") or "the blog's author",
                      "blog_title": meta.get("blog_title") or "this blog", **dialog.context}
    return DialogEngine(dialog, nlu, actions, store, settings, load_followup_rules(), today=today)
