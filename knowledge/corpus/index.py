"""The embedded index: one SQLite file with posts, passages, FTS5 tables for BM25 and dense vectors.

Writes that change what searches see happen in a single transaction (`apply_changes`), so a
killed ingest leaves the previous index whole. Embeddings are kept in a cache table keyed by
the passage text and committed batch by batch, so an interrupted ingest resumes without
re-embedding what it already did.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.sqlite import open_sqlite
from knowledge.settings import EmbedderSettings

SCHEMA_VERSION = "1"
INDEX_FILE = "index.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT NOT NULL,
    permalink TEXT NOT NULL,
    url TEXT NOT NULL,
    tags TEXT NOT NULL,
    categories TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS posts_date ON posts(date);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id),
    ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    prose TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_post ON chunks(post_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, heading, text, tokenize='porter unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(title, tags, body, tokenize='porter unicode61');
CREATE TABLE IF NOT EXISTS embedding_cache (text_hash TEXT PRIMARY KEY, embedding BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ranking_vectors (chunk_id INTEGER PRIMARY KEY, embedding BLOB NOT NULL);
"""

# Meta key naming the folder (under the data dir's models/) of the embedding model adapted to this
# blog by `blogbot adapt`; search ranks passages by its vectors (table ranking_vectors).
RANKING_MODEL = "ranking_model"


class IndexUnavailable(RuntimeError):
    """The index is missing or was built in an incompatible way."""


@dataclass
class PostRecord:
    """A post as stored in the index."""

    id: int
    source: str
    title: str
    date: str
    permalink: str
    url: str
    tags: list[str]
    categories: list[str]
    authors: list[str] = field(default_factory=list)


@dataclass
class NewPost:
    """A post ready to be written: metadata, passages and one vector per passage."""

    source: str
    fingerprint: str
    title: str
    date: str
    permalink: str
    url: str
    tags: list[str]
    categories: list[str]
    body_text: str
    chunks: list[tuple[int, str, str, str]]   # (ordinal, heading, text, prose)
    vectors: np.ndarray
    authors: list[str] = field(default_factory=list)
    ranking_vectors: np.ndarray | None = None   # from the adapted model, when the index has one


def index_path(data_dir: Path) -> Path:
    """The index file in `data_dir`."""
    return Path(data_dir) / INDEX_FILE


def connect(data_dir: Path, create: bool = False) -> sqlite3.Connection:
    """Open the index of `data_dir` (creating the folder and schema when `create`)."""
    path = index_path(data_dir)
    if not create and not path.exists():
        raise IndexUnavailable(f"no index in {data_dir}: run 'blogbot ingest PATH' first")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    # One connection a Retriever shares between threads under its own lock; ingest says BEGIN itself.
    conn = open_sqlite(path, autocommit=True, any_thread=True)
    conn.execute("PRAGMA synchronous=NORMAL")     # the index can be built again from the blog
    if create:
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if version is None or version[0] != SCHEMA_VERSION:
        raise IndexUnavailable(f"the index in {data_dir} was made by another blogbot version: delete it and ingest again")
    _add_missing_columns(conn)
    return conn


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Columns added since schema 1 (posts.authors): an older index gains them, empty until the next
    ingest re-reads its posts (ingest's PARSER_VERSION changed with them)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(posts)")}
    if columns and "authors" not in columns:
        conn.execute("ALTER TABLE posts ADD COLUMN authors TEXT NOT NULL DEFAULT '[]'")


def ranking_model_dir(data_dir: Path, meta: dict[str, str]) -> Path | None:
    """Folder of the index's adapted ranking model (None when it has none)."""
    name = meta.get(RANKING_MODEL)
    return Path(data_dir) / "models" / name if name else None


def ranking_embedder(data_dir: Path, meta: dict[str, str], embedder: EmbedderSettings) -> EmbedderSettings | None:
    """Settings of the model adapted to this blog (`blogbot adapt`), None when the index has none:
    the configured ones with that model folder."""
    folder = ranking_model_dir(data_dir, meta)
    return dataclasses.replace(embedder, model=str(folder)) if folder else None


def urls(conn: sqlite3.Connection) -> dict[str, str]:
    """source path -> URL of every indexed post."""
    return dict(conn.execute("SELECT source, url FROM posts"))


def fingerprints(conn: sqlite3.Connection) -> dict[str, str]:
    """source path -> fingerprint of every indexed post."""
    return dict(conn.execute("SELECT source, fingerprint FROM posts"))


def cached_embeddings(conn: sqlite3.Connection, hashes: list[str]) -> dict[str, bytes]:
    """The cached vectors (raw float32 bytes) of the passages with these text hashes, where there are some."""
    found: dict[str, bytes] = {}
    for start in range(0, len(hashes), 500):
        part = hashes[start:start + 500]
        marks = ",".join("?" * len(part))
        found.update(conn.execute(f"SELECT text_hash, embedding FROM embedding_cache WHERE text_hash IN ({marks})", part))
    return found


def cache_embeddings(conn: sqlite3.Connection, rows: list[tuple[str, bytes]]) -> None:
    """Store freshly computed vectors at once (own transaction), so a killed ingest keeps them."""
    with conn:
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO embedding_cache VALUES (?, ?)", rows)


def _delete_post(conn: sqlite3.Connection, post_id: int) -> None:
    conn.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE post_id=?)", (post_id,))
    conn.execute("DELETE FROM ranking_vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE post_id=?)", (post_id,))
    conn.execute("DELETE FROM chunks WHERE post_id=?", (post_id,))
    conn.execute("DELETE FROM posts_fts WHERE rowid=?", (post_id,))
    conn.execute("DELETE FROM posts WHERE id=?", (post_id,))


def set_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    """Set some of the index's key/value facts (blog title and author, when it was updated, …)."""
    with conn:
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))


def read_meta(data_dir: Path) -> dict[str, str]:
    """The index's key/value facts (blog title and author, when it was updated, …)."""
    conn = connect(Path(data_dir))
    try:
        return dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()


def apply_changes(conn: sqlite3.Connection, upserts: list[NewPost], removals: list[str], meta: dict[str, str]) -> None:
    """Replace and remove posts in one transaction: readers see the old index or the new one, never a mix."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        ids = dict(conn.execute("SELECT source, id FROM posts"))
        for source in removals + [p.source for p in upserts]:
            if source in ids:
                _delete_post(conn, ids[source])
        for post in upserts:
            cur = conn.execute(
                "INSERT INTO posts (source, fingerprint, title, date, permalink, url, tags, categories, authors)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (post.source, post.fingerprint, post.title, post.date, post.permalink, post.url,
                 json.dumps(post.tags), json.dumps(post.categories), json.dumps(post.authors)))
            post_id = cur.lastrowid
            conn.execute("INSERT INTO posts_fts (rowid, title, tags, body) VALUES (?,?,?,?)",
                         (post_id, post.title, " ".join(post.tags + post.categories), post.body_text))
            for number, ((ordinal, heading, text, prose), vector) in enumerate(zip(post.chunks, post.vectors)):
                cur = conn.execute(
                    "INSERT INTO chunks (post_id, ordinal, heading, text, prose, embedding) VALUES (?,?,?,?,?,?)",
                    (post_id, ordinal, heading, text, prose, np.asarray(vector, dtype=np.float32).tobytes()))
                conn.execute("INSERT INTO chunks_fts (rowid, title, heading, text) VALUES (?,?,?,?)",
                             (cur.lastrowid, post.title, heading, text))
                if post.ranking_vectors is not None:
                    conn.execute("INSERT INTO ranking_vectors VALUES (?, ?)",
                                 (cur.lastrowid, np.asarray(post.ranking_vectors[number], dtype=np.float32).tobytes()))
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def set_ranking(conn: sqlite3.Connection, model: str | None, vectors: dict[int, np.ndarray]) -> None:
    """Make `model` (a folder name under models/, None for none) the index's ranking model, with its
    vector for every passage (chunk id -> vector), in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM ranking_vectors")
        conn.executemany("INSERT INTO ranking_vectors VALUES (?, ?)",
                         [(cid, np.asarray(v, dtype=np.float32).tobytes()) for cid, v in vectors.items()])
        if model:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (RANKING_MODEL, model))
        else:
            conn.execute("DELETE FROM meta WHERE key=?", (RANKING_MODEL,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def prune_embedding_cache(conn: sqlite3.Connection, keep: set[str]) -> None:
    """Forget cached vectors of passages no longer in any post."""
    stale = [h for (h,) in conn.execute("SELECT text_hash FROM embedding_cache") if h not in keep]
    if stale:
        with conn:
            conn.execute("BEGIN")
            conn.executemany("DELETE FROM embedding_cache WHERE text_hash=?", [(h,) for h in stale])


def row_to_post(row: Sequence) -> PostRecord:
    """A PostRecord from a row of POST_COLUMNS (an older row without authors: none)."""
    return PostRecord(id=row[0], source=row[1], title=row[2], date=row[3], permalink=row[4], url=row[5],
                      tags=json.loads(row[6]), categories=json.loads(row[7]),
                      authors=json.loads(row[8]) if len(row) > 8 else [])


POST_COLUMNS = "id, source, title, date, permalink, url, tags, categories, authors"
