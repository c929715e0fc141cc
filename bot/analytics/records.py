"""The record of readers' turns and ratings that `blogbot report` and `/admin` read.

A `TurnRecord` per turn of the web and Slack channels (time, channel, hashed sender, intent and
confidence, answered, abstained, handed to a person, cited posts, latency, the reader's text and
the answer only with `analytics.store_text`). The turns live where the conversations do: in Redis
when `dialog.tracker_store` is a redis:// URL (one sorted set, so every replica's turns are in one
report), else in `<data dir>/analytics.sqlite3`. Ratings likewise: `knowledge.feedback.FeedbackStore`
(SQLite) or `RedisFeedbackStore`. `TurnRecorder` writes on its own thread, so a channel's event
loop never waits on a disk or a network, and drops what is older than `analytics.retention_days`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from knowledge.feedback import RATINGS, FeedbackStore
from knowledge.sqlite import ThreadConnections

if TYPE_CHECKING:
    from bot.dialogue.messages import TurnResult
    from knowledge.settings import Settings

log = logging.getLogger(__name__)
_DAY_S = 86_400.0


def hashed(sender: str) -> str:
    """A sender or client id as 16 hex digits of its SHA-256: the same reader is recognizable across
    lines, the id itself (an IP address, a Slack channel) is not in the log."""
    return hashlib.sha256(sender.encode("utf-8", "surrogatepass")).hexdigest()[:16]



@dataclass
class TurnRecord:
    """One turn as the report sees it. `cited`: [{"title", "url"}] of the posts the answers cited."""

    ts: float
    channel: str
    sender: str
    from_reader: bool = True            # False: the assistant spoke first (a conversation's welcome)
    intent: str | None = None
    confidence: float = 0.0
    node: str | None = None
    answered: bool = False
    abstained: bool = False
    handoff: bool = False
    latency_s: float = 0.0
    first_token_s: float | None = None
    cited: list[dict] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    text: str | None = None
    answer: str | None = None
    vector: str | None = None           # the text's embedding (base64 float16), for grouping questions
    vector_model: str | None = None     # the embedder that made it (embedder.model)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def embedding(self, model: str) -> np.ndarray | None:
        """The text's embedding if `model` made it, else None."""
        if not self.vector or self.vector_model != model:
            return None
        return np.frombuffer(base64.b64decode(self.vector), dtype=np.float16).astype(np.float32)

    @classmethod
    def of_turn(cls, channel: str, result: TurnResult, seconds: float, first_token_s: float | None,
                store_text: bool, ts: float | None = None) -> "TurnRecord":
        """The record of a finished turn (the sender hashed; texts only with `store_text`)."""
        answers = [m for m in result.messages if m.abstained is not None]
        cited: dict[str, dict] = {}
        for message in answers:
            for citation in message.citations:
                cited.setdefault(citation.url, {"title": citation.title, "url": citation.url})
        return cls(ts=time.time() if ts is None else ts, channel=channel, sender=hashed(result.sender_id),
                   from_reader=bool(result.text), intent=result.intent,
                   confidence=round(float(result.confidence), 4), node=result.node,
                   answered=bool(answers), abstained=any(m.abstained for m in answers),
                   handoff=any(m.handoff for m in result.messages), latency_s=round(seconds, 3),
                   first_token_s=None if first_token_s is None else round(first_token_s, 3),
                   cited=list(cited.values()), message_ids=[m.id for m in result.messages],
                   text=result.text if store_text else None,
                   answer="\n\n".join(m.text for m in answers)[:2000] if store_text and answers else None)

    @classmethod
    def from_json(cls, data: dict) -> "TurnRecord":
        """A record read back (keys it does not know are ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class SqliteTurnStore:
    """Turn records in `<data dir>/analytics.sqlite3`: one JSON row each, indexed by time."""

    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / "analytics.sqlite3"
        self._connections = ThreadConnections(self.path)
        with self._connections.get() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS turns (id TEXT PRIMARY KEY, ts REAL NOT NULL, record TEXT NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS turns_ts ON turns (ts)")

    def add(self, records: list[TurnRecord]) -> None:
        """Keep these records."""
        with self._connections.get() as conn:
            conn.executemany("INSERT OR REPLACE INTO turns (id, ts, record) VALUES (?, ?, ?)",
                             [(r.id, r.ts, json.dumps(asdict(r), ensure_ascii=False)) for r in records])

    def between(self, since: float | None = None, until: float | None = None) -> list[TurnRecord]:
        """The records from `since` (inclusive) to `until` (exclusive), oldest first."""
        rows = self._connections.get().execute(
            "SELECT record FROM turns WHERE ts >= ? AND ts < ? ORDER BY ts",
            (float("-inf") if since is None else since, float("inf") if until is None else until))
        return [TurnRecord.from_json(json.loads(row[0])) for row in rows]

    def prune(self, before: float) -> int:
        """Drop the records older than `before`; how many went."""
        with self._connections.get() as conn:
            return conn.execute("DELETE FROM turns WHERE ts < ?", (before,)).rowcount


class RedisTurnStore:
    """Turn records in one Redis sorted set (`<prefix>analytics:turns`, scored by time), shared by
    every replica. Redis errors are raised as they are (the recorder logs them and goes on)."""

    def __init__(self, client: Any, prefix: str = "blogbot:"):
        self.client, self.key = client, f"{prefix}analytics:turns"

    def add(self, records: list[TurnRecord]) -> None:
        """Keep these records."""
        self.client.zadd(self.key, {json.dumps(asdict(r), ensure_ascii=False): r.ts for r in records})

    def between(self, since: float | None = None, until: float | None = None) -> list[TurnRecord]:
        """The records from `since` (inclusive) to `until` (exclusive), oldest first."""
        members = self.client.zrangebyscore(self.key, "-inf" if since is None else since,
                                            "+inf" if until is None else f"({until}")
        return [TurnRecord.from_json(json.loads(m)) for m in members]

    def prune(self, before: float) -> int:
        """Drop the records older than `before`; how many went."""
        return int(self.client.zremrangebyscore(self.key, "-inf", f"({before}"))


class RedisFeedbackStore:
    """Ratings in Redis (`<prefix>feedback`, scored by time), the same interface as
    knowledge.feedback.FeedbackStore, so every replica's ratings are in one place."""

    def __init__(self, client: Any, prefix: str = "blogbot:", keep_text: bool = True):
        self.client, self.key, self.keep_text = client, f"{prefix}feedback", keep_text

    def record(self, session_id: str, rating: str, message_id: str | None = None, comment: str | None = None,
               question: str | None = None, answer: str | None = None) -> int:
        """Store one rating ("up" or "down"); returns its id."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}")
        number = int(self.client.incr(self.key + ":id"))
        now = time.time()
        texts = (comment, question, answer) if self.keep_text else (None, None, None)
        row = {"id": number, "created_at": now, "session_id": session_id, "message_id": message_id, "rating": rating,
               "comment": texts[0], "question": texts[1], "answer": texts[2]}
        self.client.zadd(self.key, {json.dumps(row, ensure_ascii=False): now})
        return number

    def all(self) -> list[dict]:
        """Every rating, oldest first."""
        return self.between()

    def between(self, since: float | None = None, until: float | None = None) -> list[dict]:
        """The ratings from `since` to `until`, oldest first."""
        members = self.client.zrangebyscore(self.key, "-inf" if since is None else since,
                                            "+inf" if until is None else f"({until}")
        return [json.loads(m) for m in members]

    def prune(self, before: float) -> int:
        """Drop the ratings older than `before`."""
        return int(self.client.zremrangebyscore(self.key, "-inf", f"({before}"))


def _redis_of(settings: Settings, shared: Any, follow_settings: bool) -> tuple[Any, str] | None:
    """The Redis client and key prefix the conversations use, if they are in Redis: `shared`, else
    (with `follow_settings`) dialog.tracker_store's URL."""
    if shared is not None:
        return shared.client, shared.prefix
    url = settings.dialog.tracker_store
    if follow_settings and url.startswith(("redis://", "rediss://", "unix://")):
        from bot.dialogue.redis_store import connect

        return connect(url), settings.dialog.redis_prefix
    return None


def open_turn_store(data_dir: str | Path, settings: Settings, shared: Any = None,
                    follow_settings: bool = True) -> SqliteTurnStore | RedisTurnStore:
    """Where the turn records are: the conversations' Redis (`shared` (bot.dialogue.redis_store.
    SharedRedis), or with `follow_settings` dialog.tracker_store's URL), else SQLite in `data_dir`."""
    redis_client = _redis_of(settings, shared, follow_settings)
    return RedisTurnStore(*redis_client) if redis_client else SqliteTurnStore(data_dir)


def open_feedback_store(data_dir: str | Path, settings: Settings, shared: Any = None,
                        follow_settings: bool = True) -> FeedbackStore | RedisFeedbackStore:
    """Where the ratings are: as `open_turn_store`; their texts only with analytics.store_text."""
    keep_text = settings.analytics.store_text
    redis_client = _redis_of(settings, shared, follow_settings)
    if redis_client:
        return RedisFeedbackStore(*redis_client, keep_text=keep_text)
    return FeedbackStore(data_dir, keep_text=keep_text)


class TurnRecorder:
    """Takes finished turns from the channels (`turn`) and writes them on its own thread, a batch
    at a time, with each kept text's embedding (`encode`, the packaged embedder: the report then
    does not embed thousands of questions at once); every hour it drops records and ratings older
    than `analytics.retention_days`. A store that fails is logged and the records of that batch are
    lost (the turn is not)."""

    def __init__(self, store: SqliteTurnStore | RedisTurnStore, feedback: Any, settings: Settings,
                 encode: Callable[[list[str]], np.ndarray] | None = None):
        self.store, self.feedback, self.encode = store, feedback, encode
        self.embedder_model = settings.embedder.model
        self.enabled = settings.analytics.record
        self.store_text = settings.analytics.store_text
        self.retention_s = settings.analytics.retention_days * _DAY_S
        self._queue: queue.Queue[TurnRecord | None] = queue.Queue(maxsize=10_000)
        self._pruned_at = 0.0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def turn(self, channel: str, result: TurnResult, seconds: float, first_token_s: float | None = None) -> None:
        """Record a finished turn (never blocks: with the queue full the record is dropped, logged)."""
        if not self.enabled:
            return
        with self._start_lock:         # the writer starts with the first turn (commands that take none: no thread)
            if self._thread is None:
                self._thread = threading.Thread(target=self._write, name="turn-recorder", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(TurnRecord.of_turn(channel, result, seconds, first_token_s, self.store_text))
        except queue.Full:
            log.warning("analytics: the record queue is full, a turn goes unrecorded")

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until the turns taken so far are written (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self.enabled and self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

    def _write(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < 200 and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            records = [r for r in batch if r is not None]
            try:
                self.embed(records)
                if records:
                    self.store.add(records)
                self._prune()
            except Exception as exc:        # any store's errors (sqlite3, RedisError, OSError, …)
                log.warning("analytics: %d turn record(s) not written: %s", len(records), exc)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if len(records) < len(batch):
                return

    def embed(self, records: list[TurnRecord]) -> None:
        """Give the records with a text their text's embedding (when there is an encoder)."""
        texts = [r for r in records if r.text]
        if self.encode is None or not texts:
            return
        try:
            vectors = self.encode([r.text for r in texts])
        except Exception as exc:        # the report embeds what has no vector
            log.warning("analytics: questions not embedded: %s", exc)
            return
        for record, vector in zip(texts, vectors):
            record.vector = base64.b64encode(np.asarray(vector, dtype=np.float16).tobytes()).decode("ascii")
            record.vector_model = self.embedder_model

    def _prune(self) -> None:
        now = time.time()
        if self.retention_s <= 0 or now - self._pruned_at < 3600:
            return
        self._pruned_at = now
        before = now - self.retention_s
        dropped = self.store.prune(before) + self.feedback.prune(before)
        if dropped:
            log.info("analytics: dropped %d record(s) older than %g days", dropped, self.retention_s / _DAY_S)
