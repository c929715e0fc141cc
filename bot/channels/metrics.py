"""Prometheus metrics of `blogbot serve` (`GET /metrics`, prometheus-client; names start `blogbot_`),
and its turn log: one JSON line per turn or refused request on the `blogbot.turns` logger. Each
finished turn also goes to the analytics' recorder (bot.analytics.records), when there is one.

Counted as things happen: HTTP requests and errors per route, turns per channel with their latency,
time to the first streamed token, intents, answers and abstentions, refused requests, feedback.
Read at each scrape: the turn queue, turns running, generations in flight, posts in the index, when
it was last updated and how often it was (re)loaded. One registry per app: turn workers are threads
of one process, so no multiprocess mode is needed; each replica is scraped on its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.analytics.records import hashed
from knowledge.corpus.index import read_meta

if TYPE_CHECKING:
    from bot.analytics.records import TurnRecorder
    from bot.assistant import Assistant
    from bot.channels.admission import TurnPool
    from bot.dialogue.messages import TurnResult

# Seconds: a turn answered from the dialog takes milliseconds, a generated answer 2-10 s, the action
# deadline is 30 s.
_TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class TurnLog:
    """One JSON line per turn (time, hashed sender, channel, intent, latency, first token, answered,
    abstained) or refused request (hashed client, status) on the `blogbot.turns` logger. The reader's
    text only with `with_text` (web.turn_log_text)."""

    def __init__(self, with_text: bool = False):
        self.with_text = with_text
        self.log = logging.getLogger("blogbot.turns")

    def turn(self, channel: str, result: TurnResult, seconds: float, first_token_s: float | None) -> None:
        """Log a finished turn."""
        if not self.log.isEnabledFor(logging.INFO):
            return
        answers = [m.abstained for m in result.messages if m.abstained is not None]
        line = {"ts": round(time.time(), 3), "event": "turn", "channel": channel, "sender": hashed(result.sender_id),
                "intent": result.intent, "node": result.node, "latency_s": round(seconds, 3),
                "first_token_s": None if first_token_s is None else round(first_token_s, 3),
                "answered": bool(answers), "abstained": any(answers), "refused": False}
        if self.with_text:
            line["text"] = result.text
        self.log.info(json.dumps(line, ensure_ascii=False))

    def refused(self, channel: str, client: str, status: int) -> None:
        """Log a request refused (429 or 503)."""
        if self.log.isEnabledFor(logging.INFO):
            self.log.info(json.dumps({"ts": round(time.time(), 3), "event": "refused", "channel": channel,
                                      "sender": hashed(client), "status": status, "refused": True}))


def configure_turn_log(enabled: bool) -> None:
    """Send the turn log's lines, bare, to stderr (or nowhere when not `enabled`)."""
    log = logging.getLogger("blogbot.turns")
    log.propagate = False
    log.handlers.clear()
    if enabled:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO if enabled else logging.CRITICAL)


class Metrics:
    """The metrics of one server. `assistant` (optional) gives the index and generator figures;
    `turn_log` (optional) is told of every turn and refusal as well, `recorder` of every turn."""

    def __init__(self, assistant: Assistant | None = None, turn_log: TurnLog | None = None,
                 recorder: TurnRecorder | None = None):
        self.turn_log = turn_log or TurnLog()
        self.recorder = recorder
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("blogbot_http_requests", "HTTP requests by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.errors = Counter("blogbot_http_errors", "HTTP requests answered with a server error (5xx) by route",
                              ["route"], registry=r)
        self.turns = Counter("blogbot_turns", "Turns taken by channel", ["channel"], registry=r)
        self.turn_seconds = Histogram("blogbot_turn_seconds", "Time of a whole turn by channel", ["channel"],
                                      buckets=_TURN_BUCKETS, registry=r)
        self.first_token_seconds = Histogram("blogbot_first_token_seconds",
                                             "Time from the message to the first streamed token by channel",
                                             ["channel"], buckets=_TURN_BUCKETS, registry=r)
        self.intents = Counter("blogbot_intents", "Turns by the intent understood ((none): no intent)",
                               ["intent"], registry=r)
        self.answers = Counter("blogbot_answers", "Answers from the blog by channel", ["channel"], registry=r)
        self.abstentions = Counter("blogbot_abstentions", "Answers saying the blog does not cover the question",
                                   ["channel"], registry=r)
        self.refused = Counter("blogbot_refused", "Requests refused: 429 over a rate or share, 503 queue full",
                               ["channel", "status"], registry=r)
        self.feedback = Counter("blogbot_feedback", "Ratings of answers", ["channel", "rating"], registry=r)
        self._live = _LiveValues(assistant)
        r.register(self._live)

    def watch_pool(self, pool: TurnPool) -> None:
        """Report this turn pool's queue and running turns at each scrape."""
        self._live.pool = pool

    def record_request(self, request: Any, status: int) -> None:
        """Count an HTTP request by its route's pattern (few values), method (known ones, else
        "other") and status; a 5xx as an error too."""
        route = getattr(request.scope.get("route"), "path", None) or "(no route)"
        method = request.method if request.method in _METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        if status >= 500:
            self.errors.labels(route).inc()

    def record_refused(self, channel: str, client: str, status: int) -> None:
        """Count (and log) a request refused with `status` (429 or 503)."""
        self.refused.labels(channel, str(status)).inc()
        self.turn_log.refused(channel, client, status)

    def record_turn(self, channel: str, result: TurnResult, seconds: float, first_token_s: float | None = None) -> None:
        """Count (and log) a finished turn: its latency, first token, intent, answers and abstentions."""
        self.turn_log.turn(channel, result, seconds, first_token_s)
        if self.recorder is not None:
            self.recorder.turn(channel, result, seconds, first_token_s)
        self.turns.labels(channel).inc()
        self.turn_seconds.labels(channel).observe(seconds)
        if first_token_s is not None:
            self.first_token_seconds.labels(channel).observe(first_token_s)
        self.intents.labels(result.intent or "(none)").inc()
        for message in result.messages:
            if message.abstained is not None:
                self.answers.labels(channel).inc()
                if message.abstained:
                    self.abstentions.labels(channel).inc()

    @classmethod
    def of_assistant(cls, assistant: Assistant) -> "Metrics":
        """The metrics of a server of `assistant`: its figures, its turn log, its turn recorder."""
        return cls(assistant, TurnLog(with_text=assistant.settings.web.turn_log_text), assistant.recorder)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class _LiveValues(Collector):
    """Values read at scrape time."""

    def __init__(self, assistant: Assistant | None):
        self.assistant = assistant
        self.pool: TurnPool | None = None

    def collect(self) -> Iterator[Metric]:
        pool = self.pool
        if pool is not None:
            running = min(pool.pending, pool.workers)
            yield _gauge("blogbot_turns_running", "Turns being worked on now", running)
            yield _gauge("blogbot_queue_depth", "Turns waiting for a worker", max(0, pool.pending - pool.workers))
        assistant = self.assistant
        if assistant is None:
            return
        knowledge = assistant.knowledge
        if knowledge is not None:
            yield _gauge("blogbot_generations_in_flight", "Generator calls running or waiting for the model",
                         knowledge.composer.generations_in_flight)
        retriever = assistant.retriever
        yield _gauge("blogbot_posts_indexed", "Posts in the index", _safe(lambda: len(retriever.current_posts())))
        loads = CounterMetricFamily("blogbot_index_loads", "Times the index was loaded: at start and after each "
                                    "ingest or adapt that changed it")
        loads.add_metric([], retriever.loads)
        yield loads
        updated = _safe(lambda: _timestamp(read_meta(retriever.data_dir).get("updated")))
        if updated is not None:
            yield _gauge("blogbot_index_updated_timestamp_seconds", "When the index was last written (Unix time)",
                         updated)


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], float("nan") if value is None else value)
    return gauge


def _safe(read: Callable[[], float | None]) -> float | None:
    try:
        return read()
    except Exception:       # noqa: BLE001 - a scrape never fails on one value
        return None


def _timestamp(text: str | None) -> float | None:
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S")) if text else None
