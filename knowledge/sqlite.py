"""SQLite as every store here uses it: WAL (readers never wait for the writer), a busy timeout
instead of "database is locked", and a connection per thread (sqlite3 connections are not shared
between threads)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

BUSY_TIMEOUT_S = 30     # a writer waits this long for another one (an ingest, a second replica) to finish


def open_sqlite(path: str | Path, autocommit: bool = False, any_thread: bool = False) -> sqlite3.Connection:
    """A connection to the SQLite file at `path` in WAL mode. `autocommit`: no implicit transactions
    (the caller says BEGIN); `any_thread`: the caller serializes use across threads itself."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None if autocommit else "",
                           check_same_thread=not any_thread)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


class ThreadConnections:
    """One connection per thread to one SQLite file, opened on first use in that thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = open_sqlite(self.path)
        return conn
