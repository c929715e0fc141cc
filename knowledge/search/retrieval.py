"""Hybrid retrieval: BM25 (SQLite FTS5) and dense vectors, fused by relative score, one hit per post.

Each half scores its top posts; the scores are scaled to 0..1 per list and added with weights
(relative score fusion). A query that names a time adds the same two lists restricted to the
posts of that time.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.corpus import index as store
from knowledge.markup import valid_unicode
from knowledge.search.query_dates import date_window
from knowledge.settings import EmbedderSettings, Settings
from knowledge.words import STOPWORDS, WORD, query_words, stem

MODES = ("hybrid", "bm25", "dense")
SNIPPET_CHARS = 320
PASSAGE_RRF_K = 60   # passages of one post are ranked by reciprocal-rank fusion of BM25 and dense


def _min_max(scores: dict[int, float]) -> dict[int, float]:
    """Scores scaled to 0..1 within one result list, so BM25 and cosine can be added."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in scores.items()}


log = logging.getLogger(__name__)


@dataclass
class DenseScores:
    """A query's similarity to every passage (rows as in the index): `ranking` orders passages
    (the blog's adapted model when there is one), `cosine` is the packaged model's cosine."""

    ranking: np.ndarray
    cosine: np.ndarray


class QueryError(ValueError):
    """A search request that cannot be answered as given (empty query, bad filter)."""


@dataclass
class Passage:
    """A passage of a post with its section heading."""

    chunk_id: int
    heading: str
    text: str
    prose: str       # the text without code blocks
    score: float


@dataclass
class Hit:
    """A post found for a query: the post, its fused score, its best passages (best first)."""

    post: store.PostRecord
    score: float
    passages: list[Passage] = field(default_factory=list)
    similarity: float | None = None   # best cosine of a passage to the query (None without dense)

    @property
    def snippet(self) -> str:
        if not self.passages:
            return ""
        text = " ".join(self.passages[0].text.split())
        return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"

    def as_json(self) -> dict:
        return {"permalink": self.post.permalink, "url": self.post.url, "title": self.post.title,
                "date": self.post.date, "score": round(self.score, 6), "snippet": self.snippet}


def _valid_date(value: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD naming a real day (missing parts count as the first)."""
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        return False
    try:
        dt.date.fromisoformat((value + "-01-01")[:10])
    except ValueError:
        return False
    return True


def _deletions(word: str) -> list[str]:
    """The word with one letter left out, in each position."""
    return [word[:i] + word[i + 1:] for i in range(len(word))]


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: the query's content words, any of them (BM25 ranks by all)."""
    words = [w for w in (m.group(0).lower() for m in WORD.finditer(text)) if w not in STOPWORDS]
    words = list(dict.fromkeys(w.replace('"', "") for w in words))
    return " OR ".join(f'"{w}"' for w in words) if words else None


class Retriever:
    """Searches the index in `data_dir`. Safe to share between threads; reloads after a new ingest."""

    def __init__(self, data_dir: str | Path, settings: Settings):
        self.data_dir = Path(data_dir)
        self.settings = settings
        self._conn = store.connect(self.data_dir)
        self._lock = threading.Lock()
        self._version: int | None = None
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
        if self._conn.execute("PRAGMA data_version").fetchone()[0] != self._version:
            self._load()

    def _posts_with(self, word: str, limit: int) -> list[int]:
        sql = "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? LIMIT ?"
        return [r[0] for r in self._conn.execute(sql, (f'"{word.replace(chr(34), "")}"', limit))]

    def _in_few_posts(self, word: str, share: float) -> bool:
        """Whether some posts, but at most `share` of them, contain the word (call with the lock held)."""
        limit = max(1, int(share * len(self.posts)))
        return 0 < len(self._posts_with(word, limit + 1)) <= limit

    def contains(self, text: str) -> bool:
        """Whether some post contains the word or phrase (in any form the full-text index's stemming
        gives: "Rust 1.90" is in "Rust 1.90.0")."""
        with self._lock:
            self._refresh()
            return bool(self._posts_with(text, 1))

    def posts_containing(self, text: str) -> int:
        """How many posts contain the word or phrase (as `contains` matches it)."""
        with self._lock:
            self._refresh()
            return len(self._posts_with(text, len(self.posts)))

    def together(self, words: list[str], within: int) -> bool:
        """Whether some post has all the words at most `within` words apart ("Linux x86_64" in
        "x86_64 and aarch64 Linux")."""
        near = "NEAR(" + " ".join('"' + w.replace('"', "") + '"' for w in words) + f", {int(within)})"
        with self._lock:
            self._refresh()
            return self._conn.execute("SELECT 1 FROM posts_fts WHERE posts_fts MATCH ? LIMIT 1", (near,)).fetchone() is not None

    def near_spelling(self, word: str) -> bool:
        """Whether `word` is one letter away (left out, added, changed or swapped) from a word of at
        least two posts: a misspelling ("Kuberntes") rather than a thing the blog never names."""
        word = word.lower()
        if len(word) < self.settings.answer.typo_min_letters:
            return False
        with self._lock:
            self._refresh()
            if self._spellings is None:
                self._spellings = self._spelling_index()
            words, deleted = self._spellings
        # The index keeps stems ("kubernet"): the word is tried as written and without its ending.
        if any(form in words or form in deleted for form in (word, stem(word))):
            return True
        return any(form in words or form in deleted for form in _deletions(word))

    def _spelling_index(self) -> tuple[set[str], set[str]]:
        """The index's words (as stemmed) of at least two posts, and each of them with one letter left
        out: two words one edit apart share an entry (call with the lock held)."""
        self._conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.posts_vocab USING fts5vocab(main, posts_fts, row)")
        shortest = self.settings.answer.typo_min_letters - 2
        words = {t for (t,) in self._conn.execute("SELECT term FROM temp.posts_vocab WHERE doc >= 2")
                 if len(t) >= shortest and not t.isdigit()}
        return words, {d for w in words for d in _deletions(w)}

    def spells_out(self, acronym: str, post_id: int) -> bool:
        """Whether the post writes out the acronym as capitalized words with its letters as initials
        ("LDA": "Latent Dirichlet Allocation")."""
        pattern = re.compile(r"\b" + r"[\s-]+".join(rf"{re.escape(letter)}[a-z]+" for letter in acronym.upper()) + r"\b")
        with self._lock:
            row = self._conn.execute("SELECT title, body FROM posts_fts WHERE rowid=?", (post_id,)).fetchone()
        return row is not None and any(pattern.search(text) for text in row)

    def unknown_terms(self, query: str) -> list[str]:
        """Content words of the query (4+ letters) that no post contains: a sign the blog does not cover it."""
        words = query_words(query, 4)
        with self._lock:
            return [w for w in words if not self._posts_with(w, 1)]

    def specific_terms(self, query: str, hit: Hit) -> list[str]:
        """Query words found in few posts (answer.specific_posts_share of them, at least
        answer.specific_min_posts) that `hit` contains, like "RRF"
        or "Tekton": evidence that the blog covers a question even when embeddings are unsure."""
        words = query_words(query, 3)
        cfg = self.settings.answer
        limit = max(cfg.specific_min_posts, int(len(self.posts) * cfg.specific_posts_share + 1e-9))
        with self._lock:
            found = []
            for word in words:
                posts = self._posts_with(word, limit + 1)
                if len(posts) <= limit and hit.post.id in posts:
                    found.append(word)
            return found

    def rare_words(self, words: list[str], share: float) -> list[str]:
        """The words (lower-cased, each once) that some posts, but at most `share` of them, contain."""
        with self._lock:
            return [w for w in dict.fromkeys(w.lower() for w in words) if self._in_few_posts(w, share)]

    def rare_terms(self, query: str, share: float, ignore: frozenset = frozenset()) -> list[str]:
        """The query's words (3+ letters) that some posts but at most `share` of them contain."""
        with self._lock:
            return [w for w in query_words(query, 3) if w not in ignore and self._in_few_posts(w, share)]

    def closest_mention(self, query: str, word: str, post_ids: list[int]) -> float | None:
        """The highest similarity (packaged model's cosine) to the query of a passage of these posts
        that mentions the word (case-insensitive, whole word); 1.0 when one of the posts has it in its
        title (that post is about it); None when none of them mentions it."""
        from knowledge.corpus.embedder import get_embedder

        pattern = re.compile(rf"(?<!\w){re.escape(word.lower())}(?!\w)")
        rows: list[int] = []
        with self._lock:
            self._refresh()
            for post_id in post_ids:
                post = self.posts.get(post_id)
                if post is not None and pattern.search(post.title.lower()):
                    return 1.0
                rows += [self._row_of_chunk[cid] for cid, heading, text in self._conn.execute(
                    "SELECT id, heading, text FROM chunks WHERE post_id=?", (post_id,))
                    if pattern.search(f"{heading}\n{text}".lower())]
            vectors = self._matrix[rows]     # the matrix a refresh may replace
        if not rows:
            return None
        return float(np.max(vectors @ get_embedder(self.settings.embedder).encode([query])[0]))

    def mentions(self, word: str, post_id: int) -> int:
        """How often a post mentions a word (case-insensitive, whole word); its title counts twice."""
        with self._lock:
            row = self._conn.execute("SELECT title, body FROM posts_fts WHERE rowid=?", (post_id,)).fetchone()
        if row is None:
            return 0
        # Whole words, as the full-text index sees them: "minilm" is in "all-minilm-l6-v2".
        pattern = re.compile(rf"(?<!\w){re.escape(word.lower())}(?!\w)")
        return 2 * len(pattern.findall(row[0].lower())) + len(pattern.findall(row[1].lower()))

    def posts_about(self, query: str, ignore: frozenset = frozenset(), min_mentions: int = 3) -> list[int]:
        """The posts about what the query names, oldest first: those whose title has each of its
        content words (3+ letters, not in `ignore`) or whose text mentions it at least `min_mentions`
        times, in any form. Passing mentions don't make a post about something. Empty when
        the query names nothing."""
        return [pid for pid, _ in self._about(query, ignore, min_mentions)]

    def posts_titled_about(self, query: str, ignore: frozenset = frozenset(), min_mentions: int = 3) -> list[int]:
        """posts_about, newest first: those with all of the query's content words in their title, then the others."""
        about = self._about(query, ignore, min_mentions)[::-1]
        return [pid for pid, titled in about if titled] + [pid for pid, titled in about if not titled]

    def _about(self, query: str, ignore: frozenset, min_mentions: int) -> list[tuple[int, bool]]:
        """(post id, whether its title has every content word) of the posts about the query, oldest first."""
        words = [w for w in query_words(query, 3) if w not in ignore]
        min_mentions = max(1, min_mentions)
        if not words:
            return []
        match = " AND ".join(f'"{w.replace(chr(34), "")}"' for w in words)
        with self._lock:
            self._refresh()
            rows = self._conn.execute("SELECT rowid, title, body FROM posts_fts WHERE posts_fts MATCH ?", (match,)).fetchall()
        # Any form of the word, as the full-text index's stemming has it: "quantization", "quantizing".
        patterns = [re.compile(rf"(?<!\w){re.escape(stem(w))}\w*") for w in words]
        about = []
        for pid, title, body in rows:
            title, body = title.lower(), body.lower()
            in_title = [bool(p.search(title)) for p in patterns]
            if pid in self.posts and all(t or len(p.findall(body)) >= min_mentions
                                         for t, p in zip(in_title, patterns)):
                about.append((pid, all(in_title)))
        return sorted(about, key=lambda item: (self.posts[item[0]].date, item[0]))

    def hits_for(self, query: str, post_ids: list[int], score: float) -> list[Hit]:
        """Given posts as hits for the query (their passages ranked for it), each with the given score."""
        if not post_ids:
            return []
        with self._lock:
            self._refresh()
            chunk_scores = self._dense(query) if len(self._matrix) else None
            match = fts_query(query)
            return [self._hit(pid, score, match, chunk_scores, 3) for pid in post_ids]

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
        self._conn.close()

    # -- the two halves -------------------------------------------------------------------

    def _bm25_posts(self, match: str, allowed: set[int] | None, limit: int) -> dict[int, float]:
        """Post id -> BM25 score (higher is better) over whole posts, title and tags weighted up."""
        sql = "SELECT rowid, -bm25(posts_fts, 4.0, 2.0, 1.0) AS s FROM posts_fts WHERE posts_fts MATCH ? ORDER BY s DESC"
        rows = self._conn.execute(sql + ("" if allowed is not None else f" LIMIT {limit}"), (match,))
        if allowed is not None:
            rows = [r for r in rows if r[0] in allowed][:limit]
        return dict(rows)

    def _bm25_chunks(self, match: str, post_ids: set[int]) -> dict[int, int]:
        """chunk id -> BM25 rank among the passages of the given posts."""
        if not post_ids:
            return {}
        marks = ",".join("?" * len(post_ids))
        sql = (f"SELECT chunks_fts.rowid FROM chunks_fts JOIN chunks ON chunks.id = chunks_fts.rowid "
               f"WHERE chunks_fts MATCH ? AND chunks.post_id IN ({marks}) ORDER BY bm25(chunks_fts, 1.0, 2.0, 1.0)")
        return {r[0]: rank for rank, r in enumerate(self._conn.execute(sql, (match, *post_ids)))}

    def _dense(self, query: str) -> DenseScores:
        """The query's similarity to every passage: for ranking, and the cosine for the checks."""
        from knowledge.corpus.embedder import get_embedder

        cosine = self._matrix @ get_embedder(self.settings.embedder).encode([query])[0]
        if self._ranking_model is None:
            return DenseScores(cosine, cosine)
        adapted = self._ranking_matrix @ get_embedder(self._ranking_model).encode([query])[0]
        weight = self.settings.retrieval.adapted_weight
        return DenseScores(weight * adapted + (1.0 - weight) * cosine, cosine)

    # -- search -----------------------------------------------------------------------------

    def _allowed(self, date_from: str | None, date_to: str | None, tag: str | None) -> set[int] | None:
        if not (date_from or date_to or tag):
            return None
        for value in (date_from, date_to):
            if value and not _valid_date(value):
                raise QueryError(f"dates must look like YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
        low = date_from or ""
        high = (date_to or "9999") + "\uffff"   # "2023" includes the whole year
        wanted = tag.lower() if tag else None
        return {pid for pid, p in self.posts.items()
                if low <= p.date <= high and (wanted is None or wanted in {t.lower() for t in p.tags + p.categories})}

    def search(self, query: str, k: int = 5, mode: str = "hybrid", date_from: str | None = None,
               date_to: str | None = None, tag: str | None = None, passages_per_post: int = 3) -> list[Hit]:
        """The `k` best posts for `query`, best first, each once, with its best passages."""
        if mode not in MODES:
            raise QueryError(f"mode must be one of {', '.join(MODES)}")
        if not query or not query.strip():
            raise QueryError("the query is empty")
        query = valid_unicode(query)        # a lone surrogate would make the tokenizer raise
        if k < 1:
            raise QueryError("k must be at least 1")
        with self._lock:
            self._refresh()
            allowed = self._allowed(date_from, date_to, tag)
            if allowed is not None and not allowed:
                return []
            cfg = self.settings.retrieval
            depth = max(cfg.candidates, k)
            match = fts_query(query) if mode != "dense" else None
            chunk_scores = self._dense(query) if mode != "bm25" and len(self._matrix) else None
            lists = self._scored(match, chunk_scores, allowed, depth, 1.0)
            window = date_window(query) if allowed is None and cfg.date_weight > 0 else None
            if window:  # the query names a time: the posts of that time get scores of their own
                in_window = self._allowed(*window, None)
                if in_window:
                    lists += self._scored(match, chunk_scores, in_window, depth, cfg.date_weight)
            fused: dict[int, float] = {}
            for weight, scores in lists:
                for post_id, value in _min_max(scores).items():
                    fused[post_id] = fused.get(post_id, 0.0) + weight * value
            best = sorted(fused, key=lambda pid: (-fused[pid], pid))[:k]
            return [self._hit(pid, fused[pid], match, chunk_scores, passages_per_post) for pid in best]

    def _scored(self, match: str | None, chunk_scores: DenseScores | None, allowed: set[int] | None,
                depth: int, weight: float) -> list[tuple[float, dict[int, float]]]:
        """(weight, {post id: score}) from BM25 and from dense similarity, top `depth` within `allowed`."""
        cfg = self.settings.retrieval
        lists = []
        if match:
            lists.append((weight * cfg.bm25_weight, self._bm25_posts(match, allowed, depth)))
        if chunk_scores is not None:
            scores = chunk_scores.ranking
            if allowed is not None:
                scores = np.where(np.isin(self._chunk_posts, list(allowed)), scores, -np.inf)
            best: dict[int, float] = {}
            for row in np.argsort(-scores):
                if not np.isfinite(scores[row]) or len(best) >= depth:
                    break
                best.setdefault(int(self._chunk_posts[row]), float(scores[row]))
            lists.append((weight * cfg.dense_weight, best))
        return lists

    def _hit(self, post_id: int, score: float, match: str | None, chunk_scores: DenseScores | None, per_post: int) -> Hit:
        rows = self._conn.execute("SELECT id, heading, text, prose FROM chunks WHERE post_id=? ORDER BY ordinal",
                                  (post_id,)).fetchall()
        bm25_rank = self._bm25_chunks(match, {post_id}) if match else {}
        rows_of = [self._row_of_chunk[cid] for cid, *_ in rows] if chunk_scores is not None else []
        dense = {cid: float(chunk_scores.ranking[row]) for (cid, *_), row in zip(rows, rows_of)}
        cosine = [float(chunk_scores.cosine[row]) for row in rows_of]
        dense_rank = {cid: rank for rank, cid in enumerate(sorted(dense, key=lambda c: -dense[c]))}
        k = PASSAGE_RRF_K

        def passage_score(cid: int) -> float:
            value = 0.0
            if cid in bm25_rank:
                value += 1.0 / (k + bm25_rank[cid] + 1)
            if cid in dense_rank:
                value += 1.0 / (k + dense_rank[cid] + 1)
            return value

        passages = sorted((Passage(cid, heading, text, prose, passage_score(cid)) for cid, heading, text, prose in rows),
                          key=lambda p: -p.score)
        return Hit(post=self.posts[post_id], score=score, passages=passages[:per_post],
                   similarity=max(cosine) if cosine else None)
