"""The index as search reads it: posts, passages and their vectors loaded into memory from the
SQLite index, reloaded whole when an ingest or adapt commits, behind one lock."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.corpus import index as store
from knowledge.settings import EmbedderSettings, Settings

log = logging.getLogger(__name__)


@dataclass
class Passage:
    """A passage of a post with its section heading."""

    chunk_id: int
    heading: str
    text: str
    prose: str       # the text without code blocks
    score: float


class LoadedIndex:
    """The index in `data_dir`, loaded; safe to share between threads; reloads after a new ingest.
    Subclasses query it holding `_lock`, calling `_refresh()` first."""

    def __init__(self, data_dir: str | Path, settings: Settings):
        self.data_dir = Path(data_dir)
        self.settings = settings
        self._conn = store.connect(self.data_dir)
        self._lock = threading.Lock()
        self._version: int | None = None
        self.loads = 0              # times the index was read: at start and after each change
        self._load()

    def _load(self) -> None:
        """Read posts, passages and vectors in one read transaction: an ingest or adapt that commits
        meanwhile is seen whole at the next refresh, never half."""
        self._conn.execute("BEGIN")
        try:
            self._read_index()
        finally:
            self._conn.execute("COMMIT")

    def _read_index(self) -> None:
        conn = self._conn
        self.loads += 1
        self._version = conn.execute("PRAGMA data_version").fetchone()[0]
        self.posts = {row[0]: store.row_to_post(row) for row in conn.execute(f"SELECT {store.POST_COLUMNS} FROM posts")}
        rows = conn.execute("SELECT id, post_id, embedding FROM chunks ORDER BY id").fetchall()
        self._chunk_ids = np.array([r[0] for r in rows], dtype=np.int64)
        self._chunk_posts = np.array([r[1] for r in rows], dtype=np.int64)
        self._matrix = (np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                        if rows else np.zeros((0, 384), dtype=np.float32))
        self._row_of_chunk = {int(c): i for i, c in enumerate(self._chunk_ids)}
        self._ranking_model, self._ranking_matrix = self._ranking(rows)
        self._spellings: tuple[set[str], set[str]] | None = None

    def _ranking(self, rows) -> tuple[EmbedderSettings | None, np.ndarray]:
        """The model adapted to this blog and its passage vectors, when the index has them; else
        None and the packaged model's vectors. Similarities that the answer checks compare with
        thresholds always come from the packaged model, on whose scale they were chosen."""
        meta = dict(self._conn.execute("SELECT key, value FROM meta"))
        model = store.ranking_embedder(self.data_dir, meta, self.settings.embedder)
        if model is None or not rows:
            return None, self._matrix
        vectors = dict(self._conn.execute("SELECT chunk_id, embedding FROM ranking_vectors"))
        if not (Path(model.model) / "config.json").is_file() or any(int(c) not in vectors for c in self._chunk_ids):
            log.warning("the adapted model %s or some of its vectors are missing: search ranks with %s; "
                        "run 'blogbot adapt' again (or 'blogbot adapt --undo')", model.model, self.settings.embedder.model)
            return None, self._matrix
        matrix = np.frombuffer(b"".join(vectors[int(c)] for c in self._chunk_ids), dtype=np.float32)
        return model, matrix.reshape(len(rows), -1)

    def _refresh(self) -> None:
        """Reload when another connection committed to the index since the last load (call with the lock held)."""
        if self._conn.execute("PRAGMA data_version").fetchone()[0] != self._version:
            self._load()

    def post_passages(self, post_id: int) -> list[tuple[Passage, np.ndarray]]:
        """Every passage of a post in reading order, with its vector."""
        with self._lock:
            self._refresh()
            rows = self._conn.execute("SELECT id, heading, text, prose FROM chunks WHERE post_id=? ORDER BY ordinal",
                                      (post_id,)).fetchall()
            return [(Passage(cid, heading, text, prose, 0.0), self._matrix[self._row_of_chunk[cid]])
                    for cid, heading, text, prose in rows]

    def post_vectors(self) -> tuple[list[int], np.ndarray]:
        """Every post's id and a vector for the whole post (its passages' mean, unit length), in one
        matrix: what the post is about, for grouping posts by meaning."""
        with self._lock:
            self._refresh()
            ids = sorted(self.posts)
            if not len(self._chunk_posts):
                return [], np.zeros((0, self._matrix.shape[1]), dtype=np.float32)
            order = np.argsort(self._chunk_posts, kind="stable")
            post_of_row, matrix = self._chunk_posts[order], self._matrix[order]
            starts = np.flatnonzero(np.r_[True, post_of_row[1:] != post_of_row[:-1]])
            sums = np.add.reduceat(matrix, starts, axis=0)
            ids = [int(pid) for pid in post_of_row[starts]]
            sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
            return ids, sums.astype(np.float32)

    def meta(self) -> dict[str, str]:
        """The index's key/value facts (the blog's title and author, ...), as the index has them now."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM meta"))

    def question_headings(self) -> list[str]:
        """The distinct section headings that are questions ("What is Cargo?"), newest posts first."""
        with self._lock:
            self._refresh()
            rows = self._conn.execute(
                "SELECT chunks.heading FROM chunks JOIN posts ON posts.id = chunks.post_id"
                " WHERE chunks.heading LIKE '%?' ORDER BY posts.date DESC, chunks.ordinal").fetchall()
        return list(dict.fromkeys(heading.strip() for (heading,) in rows if heading.strip()))

    def current_posts(self) -> dict:
        """Every post's metadata, reloaded first if an ingest changed the index."""
        with self._lock:
            self._refresh()
            return self.posts

    def close(self) -> None:
        """Close the index connection."""
        self._conn.close()
