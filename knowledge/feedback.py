"""Readers' ratings of answers, kept in `<data dir>/feedback.sqlite3`."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

RATINGS = ("up", "down")


class FeedbackStore:
    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / "feedback.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, created_at REAL NOT NULL, "
                         "session_id TEXT NOT NULL, message_id TEXT, rating TEXT NOT NULL, comment TEXT, "
                         "question TEXT, answer TEXT)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def record(self, session_id: str, rating: str, message_id: str | None = None, comment: str | None = None,
               question: str | None = None, answer: str | None = None) -> int:
        """Store one rating ("up" or "down"); returns its id."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}")
        conn = self._connect()
        try:
            with conn:
                cursor = conn.execute("INSERT INTO feedback (created_at, session_id, message_id, rating, comment, "
                                      "question, answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                      (time.time(), session_id, message_id, rating, comment, question, answer))
            return int(cursor.lastrowid)
        finally:
            conn.close()

    def all(self) -> list[dict]:
        conn = self._connect()
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM feedback ORDER BY id")]
        finally:
            conn.close()
