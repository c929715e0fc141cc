"""Conversation state per sender: in memory (tests), SQLite (default: survives a restart) or Redis
(`bot/dialogue/redis_store.py`: shared by several replicas).

A conversation idle for longer than the timeout starts afresh on its next message.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from knowledge.sqlite import ThreadConnections

if TYPE_CHECKING:
    from knowledge.settings import DialogSettings


class StoreUnavailable(RuntimeError):
    """The tracker store cannot be reached (Redis down): the turn apologizes, nothing crashes."""


@dataclass
class Conversation:
    """One sender's conversation: its times, context, recent events, open question and turn count."""

    sender_id: str
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    context: dict = field(default_factory=dict)      # Watson context variables = rasa-sdk slots
    events: list = field(default_factory=list)       # rasa-sdk style events: user, bot, slot
    pending: dict | None = None                      # where the dialog waits: a slot, a node's children, "Did you mean…"
    stack: list = field(default_factory=list)        # digressions to come back from: [{pending, node}]
    turns: int = 0
    turn_started: float = 0.0                        # when the turn now running began (not kept)

    def to_json(self) -> str:
        """The conversation as a JSON text (what the stores keep)."""
        data = asdict(self)
        del data["turn_started"]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Conversation":
        """The conversation a `to_json` text holds."""
        return cls(**json.loads(text))


class TrackerStore(Protocol):
    """What the engine needs of a tracker store (memory, SQLite, Redis)."""

    def load(self, sender_id: str) -> Conversation | None: ...
    def save(self, conversation: Conversation) -> None: ...
    def delete(self, sender_id: str) -> None: ...
    def prune(self, older_than: float) -> int: ...


class MemoryTrackerStore:
    """Conversations in a dict of this process (tests, `tracker_store: memory`); gone on restart."""

    def __init__(self):
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def load(self, sender_id: str) -> Conversation | None:
        """The sender's conversation, or None."""
        with self._lock:
            raw = self._items.get(sender_id)
        return Conversation.from_json(raw) if raw else None

    def save(self, conversation: Conversation) -> None:
        """Keep the conversation, replacing the sender's previous one."""
        with self._lock:
            self._items[conversation.sender_id] = conversation.to_json()

    def delete(self, sender_id: str) -> None:
        """Forget the sender's conversation."""
        with self._lock:
            self._items.pop(sender_id, None)

    def prune(self, older_than: float) -> int:
        """Forget conversations idle since before `older_than` (a clock value); return how many."""
        with self._lock:
            old = [k for k, v in self._items.items() if Conversation.from_json(v).updated_at < older_than]
            for key in old:
                del self._items[key]
            return len(old)


class SqliteTrackerStore:
    """One row per sender in `<data dir>/conversations.sqlite3`; each save is one transaction."""

    def __init__(self, path: Path):
        self.path = path
        self._connections = ThreadConnections(path)
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS conversations (sender_id TEXT PRIMARY KEY, "
                         "updated_at REAL NOT NULL, state TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def load(self, sender_id: str) -> Conversation | None:
        """The sender's conversation, or None (also for a row an incompatible version wrote)."""
        row = self._conn().execute("SELECT state FROM conversations WHERE sender_id = ?", (sender_id,)).fetchone()
        if not row:
            return None
        try:
            return Conversation.from_json(row[0])
        except (ValueError, TypeError):
            return None        # a row from an incompatible version: start afresh

    def save(self, conversation: Conversation) -> None:
        """Write the conversation, replacing the sender's previous one."""
        with self._conn() as conn:
            conn.execute("INSERT INTO conversations (sender_id, updated_at, state) VALUES (?, ?, ?) "
                         "ON CONFLICT(sender_id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state",
                         (conversation.sender_id, conversation.updated_at, conversation.to_json()))

    def delete(self, sender_id: str) -> None:
        """Forget the sender's conversation."""
        with self._conn() as conn:
            conn.execute("DELETE FROM conversations WHERE sender_id = ?", (sender_id,))

    def prune(self, older_than: float) -> int:
        """Forget conversations idle since before `older_than` (a time.time() value)."""
        with self._conn() as conn:
            return conn.execute("DELETE FROM conversations WHERE updated_at < ?", (older_than,)).rowcount


def open_tracker_store(kind: str, data_dir: Path, dialog: DialogSettings | None = None) -> TrackerStore:
    """The tracker store `kind` names: memory, sqlite (in `data_dir`) or a redis:// URL (with the
    session timeout, lease and action timeout of `dialog`); ValueError otherwise."""
    if kind == "memory":
        return MemoryTrackerStore()
    if kind == "sqlite":
        return SqliteTrackerStore(Path(data_dir) / "conversations.sqlite3")
    if kind.startswith(("redis://", "rediss://", "unix://")):
        from bot.dialogue.redis_store import RedisTrackerStore, connect
        from knowledge.settings import DialogSettings

        dialog = dialog or DialogSettings()
        return RedisTrackerStore(connect(kind), dialog.session_timeout_minutes, dialog.redis_lease_s,
                                 wait_s=dialog.action_timeout_s + dialog.redis_lease_s, prefix=dialog.redis_prefix,
                                 history_events=dialog.history_events)
    raise ValueError(f"dialog.tracker_store must be sqlite, memory or a redis:// URL, not {kind!r}")
