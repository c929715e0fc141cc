"""Readers' ratings of answers, kept in `<data dir>/feedback.sqlite3`."""

from __future__ import annotations

import time
from pathlib import Path

from knowledge.sqlite import ThreadConnections

RATINGS = ("up", "down")


class FeedbackStore:
    """The ratings; one connection per thread, so web, Slack and the feedback action share one store."""

    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / "feedback.sqlite3"
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
        with self._connections.get() as conn:
            cursor = conn.execute("INSERT INTO feedback (created_at, session_id, message_id, rating, comment, "
                                  "question, answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                  (time.time(), session_id, message_id, rating, comment, question, answer))
        return int(cursor.lastrowid)

    def all(self) -> list[dict]:
        """Every rating, oldest first."""
        cursor = self._connections.get().execute("SELECT * FROM feedback ORDER BY id")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor]
