"""Admission control shared by every channel that takes readers' messages (web, Slack).

- `RateLimiter`: a token bucket per client (in Redis when the conversations are, so every replica
  counts the same requests).
- `TurnPool`: a bounded pool of turn workers with a bounded queue; full (or a wait longer than
  `web.max_queue_wait_s` expected) means refuse at once (`QueueFull`, with the expected wait)
  rather than make everyone wait.
- `Admission`: both of them plus a cap on the turns one client may have waiting or running, so one
  reader cannot fill the queue. `Refused` says why and how long to wait.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


# A token bucket in one Redis hash per key, on Redis's clock so that replicas agree.
_SHARED_BUCKET = """
local now = redis.call('time')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('hmget', KEYS[1], 'tokens', 'last')
local tokens = tonumber(bucket[1]) or burst
local last = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('hset', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('expire', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RateLimiter:
    """`per_minute` requests a minute per key, in bursts of up to `burst`. With `shared` (the replicas'
    Redis, bot.dialogue.redis_store.SharedRedis) the buckets live in Redis (on its clock: Redis 5 or
    later); while Redis fails, in this process."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000, shared: Any = None):
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self.max_keys = max_keys
        self.shared = shared
        self._buckets: dict[str, tuple[float, float]] = {}     # key -> (tokens, last time)
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """0 when the request may go ahead (and is counted), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        if self.shared is not None:
            from redis.exceptions import RedisError

            try:
                return float(self.shared.client.eval(_SHARED_BUCKET, 1, f"{self.shared.prefix}rate:{key}", self.rate,
                                                     self.burst))
            except RedisError as exc:
                log.warning("rate limits: counted in this process while Redis fails: %s", exc)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:      # forget the longest idle clients
                    for old in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: self.max_keys // 10]:
                        del self._buckets[old]
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class QueueFull(Exception):
    """No worker free and the queue is full: the next place frees up in about `first_place_s`, and
    the turns now ahead are all done in about `wait_s`."""

    def __init__(self, wait_s: float = 0.0, first_place_s: float = 0.0):
        super().__init__(f"the queue is full (a place frees up in about {first_place_s:.1f} s)")
        self.wait_s, self.first_place_s = wait_s, first_place_s


class TurnPool:
    """Runs turns on `workers` threads with at most `queue_size` more waiting, and none waiting
    when its expected wait for a worker is longer than `max_wait_s` (0: no such limit).

    It keeps a moving average of how long a turn takes, so it can tell how long a new turn would
    wait (`expected_wait_s`) and a refused reader when a place is likely to be free. A future
    cancelled while it waits gives its place back at once.
    """

    def __init__(self, workers: int, queue_size: int, typical_turn_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic, max_wait_s: float = 0.0):
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_size)
        self.max_wait_s = max(0.0, max_wait_s)
        self.clock = clock
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="turn")
        self._pending = 0
        self._turn_s = typical_turn_s         # moving average of finished turns
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, web: Any) -> "TurnPool":
        """The pool the `web` settings section describes (workers, queue size and wait, first guess)."""
        return cls(web.workers, web.queue_size, typical_turn_s=web.typical_turn_s, max_wait_s=web.max_queue_wait_s)

    @property
    def pending(self) -> int:
        """Turns running or waiting."""
        return self._pending

    def expected_wait_s(self) -> float:
        """Seconds until a worker is likely free for a turn submitted now."""
        with self._lock:
            ahead = max(0, self._pending - self.workers + 1)
            return ahead * self._turn_s / self.workers

    def place_frees_in_s(self) -> float:
        """Seconds until the next turn is likely done (a place frees up)."""
        return self._turn_s / self.workers

    def submit(self, fn: Callable[..., Any], *args: Any, patient: bool = False) -> Future:
        """Run `fn(*args)` on a worker; raise QueueFull when every worker is busy and the queue is
        full or (unless the reader is `patient`: nothing streams to them) the turn would wait longer
        than `max_wait_s`."""
        with self._lock:
            ahead = max(0, self._pending - self.workers + 1)
            wait_s = ahead * self._turn_s / self.workers
            too_long = not patient and self.max_wait_s and ahead and wait_s > self.max_wait_s
            if self._pending >= self.capacity or too_long:
                raise QueueFull(wait_s, self._turn_s / self.workers)
            self._pending += 1
        started = [None]

        def timed():
            started[0] = self.clock()
            return fn(*args)

        future = self._executor.submit(timed)
        future.add_done_callback(lambda f: self._done(started[0]))
        return future

    def _done(self, started: float | None) -> None:
        with self._lock:
            self._pending -= 1
            if started is not None:
                self._turn_s = 0.8 * self._turn_s + 0.2 * max(0.05, self.clock() - started)

    def shutdown(self) -> None:
        """Stop taking turns: the waiting ones are cancelled, the running ones finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class Refused(Exception):
    """A message not admitted: HTTP-like `status` (429 or 503), a `message`, and `retry_after_s`."""

    def __init__(self, status: int, message: str, retry_after_s: int):
        super().__init__(message)
        self.status, self.message, self.retry_after_s = status, message, retry_after_s


def retry_after(wait_s: float, earliest_s: float | None = None) -> int:
    """Whole seconds for Retry-After, at least 1: a random moment between `earliest_s` (when a place
    is likely to free up) and `wait_s` (when the turns now ahead are likely done), so refused readers
    come back spread over the time the queue takes to make room, not all at once and not all late."""
    earliest = wait_s if earliest_s is None else min(earliest_s, wait_s)
    return max(1, round(random.uniform(earliest, wait_s) + 0.5))


class Admission:
    """Who may start a turn now: the rate limit and turns in flight per client, and the shared pool."""

    def __init__(self, pool: TurnPool, rate_per_minute: int, burst: int, turns_per_client: int,
                 min_retry_after_s: float = 1.0, shared: Any = None):
        self.pool = pool
        self.limiter = RateLimiter(rate_per_minute, burst, shared=shared)
        self.turns_per_client = turns_per_client
        self.min_retry_after_s = min_retry_after_s
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    def check_rate(self, client: str) -> None:
        """Count a request of `client`; raise Refused(429) past its rate."""
        wait = self.limiter.check(client)
        if wait:
            raise Refused(429, "too many requests: slow down", retry_after(wait))

    def submit(self, client: str, fn: Callable[..., Any], *args: Any, patient: bool = False) -> Future:
        """Run a turn on the pool for `client` (`patient`: see TurnPool.submit); raise Refused(429)
        when the client already has its share in flight, Refused(503) when the queue is full."""
        with self._lock:
            if self.turns_per_client and self._in_flight.get(client, 0) >= self.turns_per_client:
                raise Refused(429, "wait for your previous message to be answered",
                              retry_after(max(self.min_retry_after_s, self.pool.expected_wait_s()),
                                          self.pool.place_frees_in_s()))
            self._in_flight[client] = self._in_flight.get(client, 0) + 1
        try:
            future = self.pool.submit(fn, *args, patient=patient)
        except QueueFull as full:
            self._release(client)
            raise Refused(503, "the assistant is busy: try again shortly",
                          retry_after(max(self.min_retry_after_s, full.wait_s), full.first_place_s)) from None
        future.add_done_callback(lambda _f: self._release(client))
        return future

    def _release(self, client: str) -> None:
        with self._lock:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]
