"""Whether to try the generator on the next question: only as often as its answers are kept.

Every generated answer passes the support and relevance checks or is dropped for the extractive
answer; a try that is dropped costs the reader its time (with the packaged 135M model, about three
quarters of an answer's time, measured on the dev sets) and changes nothing. `KeepRate` counts the
tries of the last `generator.keep_window` questions that were kept; while fewer than
`generator.min_keep_rate` of them were, the generator is tried on one question in
`generator.explore_every` only, so a better model (or a blog that suits it) is noticed and tried on
every question again. Per process, from its start; thread-safe.
"""

from __future__ import annotations

import threading
from collections import deque


class KeepRate:
    """The recent record of generation tries (kept or dropped) and the decision to try the next one."""

    def __init__(self, window: int, min_rate: float, explore_every: int):
        self.window, self.min_rate, self.explore_every = window, min_rate, max(1, explore_every)
        self._kept: deque[bool] = deque(maxlen=max(1, window))
        self._skipped = 0
        self._lock = threading.Lock()

    def rate(self) -> float | None:
        """The share of the recorded tries that were kept; None before `window` tries."""
        with self._lock:
            return sum(self._kept) / len(self._kept) if len(self._kept) >= self.window else None

    def should_try(self) -> bool:
        """Try the generator now: always until `window` tries are recorded or while the share kept is
        at least `min_rate`; else on one question in `explore_every`."""
        if self.min_rate <= 0:
            return True
        rate = self.rate()
        with self._lock:
            if rate is None or rate >= self.min_rate:
                self._skipped = 0
                return True
            self._skipped += 1
            if self._skipped >= self.explore_every:
                self._skipped = 0
                return True
            return False

    def record(self, kept: bool) -> None:
        """Note whether a try's answer was kept."""
        with self._lock:
            self._kept.append(bool(kept))
