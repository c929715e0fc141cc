"""Ingest: bring the index in line with a blog folder, incrementally and atomically."""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from knowledge.corpus import index as store
from knowledge.corpus.blog_reader import Blog, Post, about_page, distinct_urls, open_blog, read_post
from knowledge.corpus.chunking import chunk_sections, embedding_text
from knowledge.corpus.markdown_text import markdown_sections
from knowledge.settings import EmbedderSettings, Settings

# Bump when parsing or chunking changes, so every post is processed again.
# 4: generator-exact addresses (Hugo contentDir/permalinks, Zola path), authors, inline <script> dropped.
# 5: authors from a byline among the first lines when the front matter names none.
# 6: every name of a byline "A, Org & B, Org", not only the first.
PARSER_VERSION = "6"

Progress = Callable[[str], None]


class IngestBusy(RuntimeError):
    """Another ingest holds the data folder."""


@dataclass
class IngestReport:
    """What an ingest did, for the summary line."""

    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    passages_embedded: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal: what the ingest did and how long it took."""
        return (f"indexed {self.indexed}, unchanged {self.unchanged}, removed {self.removed}, "
                f"skipped {self.skipped} ({self.passages_embedded} passages embedded, {self.seconds:.1f} s)")


@contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Held while the index of `data_dir` is written (ingest, adapt); IngestBusy when taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy(f"another ingest or adapt is running on {data_dir}") from None
        yield


def _settings_fingerprint(blog: Blog, settings: Settings) -> str:
    parts = [PARSER_VERSION, blog.base_url, blog.permalink_pattern, blog.rules_signature,
             str(settings.ingest.chunk_chars), settings.embedder.model, settings.embedder.dtype]
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def _cache_tag(model: EmbedderSettings) -> str:
    """What a passage's key in the embedding cache starts with: the model and its dtype."""
    return f"{model_identity(model.model)}|{model.dtype}|"


def _cache_key(tag: str, text: str) -> str:
    """Key of a passage's vector in the embedding cache: the model's tag and the text."""
    return hashlib.sha1((tag + text).encode("utf-8")).hexdigest()


def model_identity(model: str) -> str:
    """What a model setting names, for the cache: "packaged", or a folder's name and a digest of its
    weights, so a folder reached by another path is the same model and retrained weights a new one."""
    folder = Path(model).expanduser()
    if model == "packaged" or not folder.is_dir():
        return model
    weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in weights)
    return f"{folder.name}:{_weights_digest(str(folder.resolve()), stamp)}"


@lru_cache(maxsize=16)
def _weights_digest(folder: str, stamp: tuple) -> str:
    digest = hashlib.sha1()
    for name, _, _ in stamp:
        with open(Path(folder) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def _prepare(post: Post, fingerprint: str, chunk_chars: int) -> store.NewPost | None:
    sections = markdown_sections(post.body)
    chunks = chunk_sections(sections, chunk_chars)
    if not chunks:
        return None
    body_text = "\n".join(f"{s.heading}\n" + "\n".join(b.text for b in s.blocks) for s in sections)
    return store.NewPost(
        source=post.source, fingerprint=fingerprint, title=post.title, date=post.date,
        permalink=post.permalink, url=post.url, tags=post.tags, categories=post.categories,
        body_text=body_text, chunks=[(c.ordinal, c.heading, c.text, c.prose) for c in chunks],
        vectors=np.zeros((0, 0), dtype=np.float32), authors=post.authors)


def ingest(path: str | Path, data_dir: str | Path, settings: Settings,
           progress: Progress = lambda message: None, warn: Progress = lambda message: None) -> IngestReport:
    """Index the blog at `path` into `data_dir`. Unchanged posts are not re-embedded; deleted ones vanish.

    Raises BlogError for a missing or empty folder, IngestBusy when another ingest runs.
    """
    started = time.perf_counter()
    data_dir = Path(data_dir)
    blog = open_blog(path, settings.site)
    report = IngestReport()
    with data_dir_lock(data_dir):
        conn = store.connect(data_dir, create=True)
        try:
            known = store.fingerprints(conn)
            progress(f"reading {len(blog.files)} files in {blog.root}")
            for line in blog.warnings:
                warn(line)
            report.warnings.extend(blog.warnings)
            changed, seen = _read_changed(blog, known, settings, progress, warn, report)
            removals = [source for source in known if source not in seen]
            # Every post its own address: a re-read post gives way to unchanged ones already indexed.
            rewritten = {post.source for post in changed}
            taken = {url: source for source, url in store.urls(conn).items() if source in seen - rewritten}
            for line in distinct_urls(changed, taken):
                warn(line)
                report.warnings.append(line)
            ranking = _ranking_model(conn, data_dir, settings, warn, report)
            if changed:
                _embed(conn, changed, ranking, settings, progress, report)
            if changed or removals:
                progress(f"writing {len(changed)} posts to the index")
                _write(conn, blog, changed, removals, ranking, settings)
            store.set_meta(conn, {"blog_title": blog.title, "blog_author": blog.author, "about_url": about_page(blog, settings.ingest.max_file_bytes)})
            report.indexed = len(changed)
            report.removed = len(removals)
        finally:
            conn.close()
    report.seconds = time.perf_counter() - started
    return report


def _read_changed(blog: Blog, known: dict[str, str], settings: Settings, progress: Progress, warn: Progress,
                  report: IngestReport) -> tuple[list[store.NewPost], set[str]]:
    """(the posts that are new or changed since the last ingest, read and chunked; the sources of
    every post still in the blog). A file is unchanged when its bytes and the reading settings are."""
    settings_print = _settings_fingerprint(blog, settings)
    changed: list[store.NewPost] = []
    seen: set[str] = set()
    for number, file in enumerate(blog.files, 1):
        source = blog.relative(file)
        try:
            size = file.stat().st_size
            raw = file.read_bytes() if size <= settings.ingest.max_file_bytes else None
        except OSError:
            raw = None
        fingerprint = settings_print + ":" + (hashlib.sha1(raw).hexdigest() if raw is not None else "none")
        if raw is not None and known.get(source) == fingerprint:
            seen.add(source)
            report.unchanged += 1
            continue
        post, warnings = read_post(blog, file, settings.ingest.max_file_bytes, raw=raw)
        prepared = _prepare(post, fingerprint, settings.ingest.chunk_chars) if post else None
        if post and prepared is None:
            warnings.append(f"{source}: skipped: no text to index")
        for line in warnings:
            warn(line)
        report.warnings.extend(warnings)
        if prepared is None:
            report.skipped += 1
            continue
        seen.add(source)
        changed.append(prepared)
        if number % 200 == 0:
            progress(f"read {number}/{len(blog.files)} files")
    return changed, seen


def _embed(conn: sqlite3.Connection, changed: list[store.NewPost], ranking: EmbedderSettings | None,
           settings: Settings, progress: Progress, report: IngestReport) -> None:
    """Give each changed post the vectors of its passages (and the adapted model's, when there is one)."""
    texts = [embedding_text(post.title, heading, prose) for post in changed for (_, heading, _, prose) in post.chunks]
    vectors = embed_passages(conn, texts, settings.embedder, settings, progress, report)
    ranking_vectors = (embed_passages(conn, texts, ranking, settings, progress, label="the adapted model")
                       if ranking else None)
    position = 0
    for post in changed:
        count = len(post.chunks)
        post.vectors = vectors[position:position + count]
        if ranking_vectors is not None:
            post.ranking_vectors = ranking_vectors[position:position + count]
        position += count


def _write(conn: sqlite3.Connection, blog: Blog, changed: list[store.NewPost], removals: list[str],
           ranking: EmbedderSettings | None, settings: Settings) -> None:
    """Store the changed posts, drop the removed ones, and keep only the cached vectors still in use."""
    store.apply_changes(conn, changed, removals, {
        "blog_root": str(blog.root), "base_url": blog.base_url,
        "embedder": settings.embedder.model, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
    })
    tags = [_cache_tag(model) for model in [settings.embedder] + ([ranking] if ranking else [])]
    keep = {_cache_key(tag, embedding_text(title, heading, prose)) for title, heading, prose in conn.execute(
        "SELECT posts.title, chunks.heading, chunks.prose FROM chunks JOIN posts ON posts.id = chunks.post_id")
        for tag in tags}
    store.prune_embedding_cache(conn, keep)


def _ranking_model(conn, data_dir: Path, settings: Settings, warn: Progress, report: IngestReport) -> EmbedderSettings | None:
    """The adapted model new passages are embedded with too; when its folder is gone, the index
    falls back to the packaged model's ranking (with a warning) rather than keep vectors of a lost model."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    ranking = store.ranking_embedder(data_dir, meta, settings.embedder)
    if ranking and not (Path(ranking.model) / "config.json").is_file():
        line = (f"the adapted model {ranking.model} is missing: search uses {settings.embedder.model} vectors; "
                "run 'blogbot adapt' to adapt again")
        warn(line)
        report.warnings.append(line)
        store.set_ranking(conn, None, {})
        return None
    return ranking


def embed_passages(conn: sqlite3.Connection, texts: list[str], model: EmbedderSettings, settings: Settings, progress: Progress,
                   report: IngestReport | None = None, label: str = "the embedding model") -> np.ndarray:
    """One vector per text from `model`, from the cache where possible, committing new ones batch by
    batch (an interrupted run resumes where it stopped)."""
    tag = _cache_tag(model)
    hashes = [_cache_key(tag, t) for t in texts]
    cached = store.cached_embeddings(conn, sorted(set(hashes)))
    missing = sorted({h: t for h, t in zip(hashes, texts) if h not in cached}.items())
    if missing:
        from knowledge.corpus.embedder import get_embedder

        progress(f"loading {label}")
        embedder = get_embedder(model)
        batch = max(1, settings.ingest.embed_batch_size) * 4
        for start in range(0, len(missing), batch):
            part = missing[start:start + batch]
            vectors = embedder.encode([t for _, t in part], batch_size=settings.ingest.embed_batch_size,
                                      pad_to=settings.ingest.pad_to_tokens or None)
            rows = [(h, v.tobytes()) for (h, _), v in zip(part, vectors)]
            store.cache_embeddings(conn, rows)
            cached.update(rows)
            progress(f"embedded {min(start + batch, len(missing))}/{len(missing)} passages")
        if report is not None:
            report.passages_embedded += len(missing)
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.frombuffer(cached[h], dtype=np.float32) for h in hashes])
