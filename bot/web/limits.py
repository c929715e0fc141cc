"""Admission control for the web API: a token bucket per client, and a bounded pool of turn
workers with a bounded queue (full: refuse at once rather than make everyone wait)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor


class RateLimiter:
    """`per_minute` requests a minute per key, in bursts of up to `burst`."""

    def __init__(self, per_minute: int, burst: int, clock=time.monotonic, max_keys: int = 10_000):
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}     # key -> (tokens, last time)
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """0 when the request may go ahead (and is counted), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
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
    """No worker free and the queue is full."""


class TurnPool:
    """Runs turns on `workers` threads with at most `queue_size` more waiting."""

    def __init__(self, workers: int, queue_size: int):
        self.capacity = max(1, workers) + max(0, queue_size)
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="turn")
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, fn, *args) -> Future:
        with self._lock:
            if self._pending >= self.capacity:
                raise QueueFull()
            self._pending += 1
        future = self._executor.submit(fn, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
