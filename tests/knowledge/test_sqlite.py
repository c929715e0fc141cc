"""The one SQLite helper every store uses (knowledge/sqlite.py): WAL, a connection per thread."""

from __future__ import annotations

import sqlite3
import threading

from bot.dialogue.tracker_store import Conversation, SqliteTrackerStore
from knowledge.corpus.index import INDEX_FILE
from knowledge.feedback import FeedbackStore
from knowledge.sqlite import ThreadConnections


def _journal_mode(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def test_each_thread_gets_its_own_connection_and_sees_the_others_writes(tmp_path):
    connections = ThreadConnections(tmp_path / "sub" / "store.sqlite3")
    mine = connections.get()
    assert connections.get() is mine
    with mine:
        mine.execute("CREATE TABLE t (x INTEGER)")
    seen = {}

    def other_thread():
        conn = seen["conn"] = connections.get()
        with conn:
            conn.execute("INSERT INTO t VALUES (1)")

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["conn"] is not mine
    assert mine.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_every_store_is_in_wal_mode(tmp_path, demo_index):
    feedback = FeedbackStore(tmp_path)
    feedback.record("s1", "up", message_id="m1")
    store = SqliteTrackerStore(tmp_path / "conversations.sqlite3")
    store.save(Conversation("s1"))
    for path in (tmp_path / "feedback.sqlite3", tmp_path / "conversations.sqlite3", demo_index / INDEX_FILE):
        assert _journal_mode(path) == "wal", path
    assert [r["message_id"] for r in feedback.all()] == ["m1"]
    assert store.load("s1").sender_id == "s1"
