"""Readers' ratings of answers, kept in `<data dir>/feedback.sqlite3` (in Redis when the
conversations are: bot.analytics.records.RedisFeedbackStore has the same interface)."""

from __future__ import annotations

import time
from pathlib import Path

from knowledge.sqlite import ThreadConnections

RATINGS = ("up", "down")


class FeedbackStore:
    """The ratings; one connection per thread, so web, Slack and the feedback action share one store.
    Without `keep_text` (analytics.store_text off) the comment, question and answer are not kept."""

    def __init__(self, data_dir: str | Path, keep_text: bool = True):
        self.path = Path(data_dir) / "feedback.sqlite3"
        self.keep_text = keep_text
        self._connections = ThreadConnections(self.path)
        with self._connections.get() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, created_at REAL NOT NULL, "
                         "session_id TEXT NOT NULL, message_id TEXT, rating TEXT NOT NULL, comment TEXT, "
                         "question TEXT, answer TEXT)")

    def record(self, session_id: str, rating: str, message_id: str | None = None, comment: str | None = None,
               question: str | None = None, answer: str | None = None) -> int:
        """Store one rating ("up" or "down"); returns its id."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}")
        if not self.keep_text:
            comment = question = answer = None
        with self._connections.get() as conn:
            cursor = conn.execute("INSERT INTO feedback (created_at, session_id, message_id, rating, comment, "
                                  "question, answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                  (time.time(), session_id, message_id, rating, comment, question, answer))
        return int(cursor.lastrowid)

    def all(self) -> list[dict]:
        """Every rating, oldest first."""
        return self.between()

    def between(self, since: float | None = None, until: float | None = None) -> list[dict]:
        """The ratings from `since` (inclusive) to `until` (exclusive), oldest first."""
        cursor = self._connections.get().execute(
            "SELECT * FROM feedback WHERE created_at >= ? AND created_at < ? ORDER BY id",
            (float("-inf") if since is None else since, float("inf") if until is None else until))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def prune(self, before: float) -> int:
        """Drop the ratings older than `before`; how many went."""
        with self._connections.get() as conn:
            return conn.execute("DELETE FROM feedback WHERE created_at < ?", (before,)).rowcount
