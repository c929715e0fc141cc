"""Conversations as sessions: loaded from the tracker store, started afresh after the session
timeout, one turn at a time per sender, and forgotten some time after they ended."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from bot.dialogue.tracker_store import Conversation, TrackerStore

GRACE_S = 86400     # conversations are deleted a day after their timeout: a late reader still starts afresh


class Sessions:
    """The conversations of one tracker store."""

    def __init__(self, store: TrackerStore, timeout_minutes: float, initial_context: dict,
                 clock: Callable[[], float]):
        self.store = store
        self.timeout_s = timeout_minutes * 60
        self.initial_context = initial_context
        self.clock = clock
        # Turns of one sender run one at a time; a fixed set of locks (by hash) keeps memory flat.
        self._lock_stripes = [threading.Lock() for _ in range(64)]
        self._pruned_at = clock()

    @contextmanager
    def lock_for(self, sender_id: str) -> Iterator[None]:
        """Hold the sender for a turn: in this process, and across replicas when the store is shared
        (its lease; StoreUnavailable when it cannot be had)."""
        with self._lock_stripes[hash(sender_id) % len(self._lock_stripes)]:
            lease = getattr(self.store, "lease", None)
            if lease is None:
                yield
            else:
                with lease(sender_id):
                    yield

    def open(self, sender_id: str) -> tuple[Conversation, bool]:
        """The sender's conversation, and whether it is new (none on record, or past the timeout)."""
        conversation = self.store.load(sender_id)
        now = self.clock()
        if conversation is None or now - conversation.updated_at > self.timeout_s:
            return Conversation(sender_id, started_at=now, updated_at=now, context=dict(self.initial_context),
                                turn_started=now), True
        conversation.turn_started = now
        return conversation, False

    def is_open(self, sender_id: str) -> bool:
        """Whether a conversation with this sender is on record and not timed out."""
        conversation = self.store.load(sender_id)
        return conversation is not None and self.clock() - conversation.updated_at <= self.timeout_s

    def message_of(self, sender_id: str, message_id: str) -> dict | None:
        """The bot event of a message the assistant sent in this conversation (recent ones)."""
        conversation = self.store.load(sender_id)
        for event in reversed(conversation.events if conversation else []):
            if event.get("event") == "bot" and (event.get("data") or {}).get("message_id") == message_id:
                return event
        return None

    def question_before(self, sender_id: str, message_id: str) -> str | None:
        """What the reader asked just before the assistant's message `message_id` (for feedback on it)."""
        conversation = self.store.load(sender_id)
        question = None
        for event in conversation.events if conversation else []:
            if event.get("event") == "user":
                question = event.get("text")
            if (event.get("data") or {}).get("message_id") == message_id:
                return question
        return None

    def prune(self) -> None:
        """Forget conversations past their timeout, with a day's grace: they would start afresh anyway."""
        self._pruned_at = now = self.clock()
        self.store.prune(now - self.timeout_s - GRACE_S)

    def prune_now_and_then(self) -> None:
        """`prune`, at most once per timeout."""
        if self.clock() - self._pruned_at >= self.timeout_s:
            self.prune()
