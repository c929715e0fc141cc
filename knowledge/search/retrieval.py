"""Hybrid retrieval: BM25 (SQLite FTS5) and dense vectors, fused by relative score, one hit per post.

Each half scores its top posts; the scores are scaled to 0..1 per list and added with weights
(relative score fusion). A query that names a time adds the same two lists restricted to the
posts of that time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np

from knowledge.corpus import index as store
from knowledge.markup import valid_unicode
from knowledge.search.loaded_index import Passage
from knowledge.search.query_dates import date_window
from knowledge.search.terms import CorpusTerms
from knowledge.words import STOPWORDS, WORD

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


@dataclass
class DenseScores:
    """A query's similarity to every passage (rows as in the index): `ranking` orders passages
    (the blog's adapted model when there is one), `cosine` is the packaged model's cosine."""

    ranking: np.ndarray
    cosine: np.ndarray


class QueryError(ValueError):
    """A search request that cannot be answered as given (empty query, bad filter)."""


@dataclass
class Hit:
    """A post found for a query: the post, its fused score, its best passages (best first)."""

    post: store.PostRecord
    score: float
    passages: list[Passage] = field(default_factory=list)
    similarity: float | None = None   # best cosine of a passage to the query (None without dense)

    @property
    def snippet(self) -> str:
        """The start of the best passage, cut at a word, for a result list."""
        if not self.passages:
            return ""
        text = " ".join(self.passages[0].text.split())
        return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"

    def as_json(self) -> dict:
        """The hit as `blogbot search --json` prints it."""
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



def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: the query's content words, any of them (BM25 ranks by all)."""
    words = [w for w in (m.group(0).lower() for m in WORD.finditer(text)) if w not in STOPWORDS]
    words = list(dict.fromkeys(w.replace('"', "") for w in words))
    return " OR ".join(f'"{w}"' for w in words) if words else None


class Retriever(CorpusTerms):
    """Searches the index in `data_dir` (hybrid BM25 + dense, one hit per post) and answers the word
    questions of `CorpusTerms`. Safe to share between threads; reloads after a new ingest."""

    def hits_for(self, query: str, post_ids: list[int], score: float) -> list[Hit]:
        """Given posts as hits for the query (their passages ranked for it), each with the given score."""
        if not post_ids:
            return []
        with self._lock:
            self._refresh()
            chunk_scores = self._dense(query) if len(self._matrix) else None
            match = fts_query(query)
            return [self._hit(pid, score, match, chunk_scores, 3) for pid in post_ids]


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
