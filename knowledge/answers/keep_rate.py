"""Whether to try the generator on the next question: only as often as its answers are kept.

Every generated answer passes the support and relevance checks or is dropped for the extractive
answer; a try that is dropped costs the reader its time (with the packaged 135M model, about three
quarters of an answer's time, measured on the dev sets) and changes nothing. `KeepRate` counts the
tries of the last `generator.keep_window` questions that were kept; while fewer than
`generator.min_keep_rate` of them were, the generator is tried on one question in
`generator.explore_every` only, so a better model (or a blog that suits it) is noticed and tried on
every question again; and such an exploring try (`decide`) waits for a question that no other
answer is being written beside, and gives way (`TryStop`) as soon as another answer starts, until
its answer begins to stream: it runs on spare CPU only (a remote model's tries do not wait). With the packaged model one try costs about 3 s; a tenth of the questions trying
took 40% of the answer time of one reader, and on a busy server readers waiting for a worker
would pay for it. Thread-safe. With a `record_path` the record outlives the process (one small
JSON file in the data directory, replaced atomically): a restarted server does not pay for
`keep_window` tries again. It belongs to one generator (`identity`): another model starts afresh.
Replicas sharing a data directory share the file; the last one to write wins, which is still a
recent record of the same model.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from dataclasses import asdict
from pathlib import Path

log = logging.getLogger(__name__)


def generator_identity(generator_settings) -> str:
    """What makes two generators the same for the keep record: every `generator` setting but the
    keep rate's own and the thread count (a model, budget or endpoint change starts afresh)."""
    described = {k: v for k, v in asdict(generator_settings).items()
                 if k not in ("keep_window", "min_keep_rate", "explore_every", "threads")}
    return json.dumps(described, sort_keys=True)


class TryStop(threading.Event):
    """What stops an exploring generation try: the reader leaving (`reader`, their cancel event) or,
    until the try's answer starts to stream, another answer wanting the CPU (`give_way`)."""

    def __init__(self, reader: threading.Event | None):
        super().__init__()
        self.reader = reader
        self.streaming = False
        self._decided = threading.Lock()

    def give_way(self) -> None:
        """Another answer starts: stop the try unless the reader already reads its answer."""
        with self._decided:
            if not self.streaming:
                self.set()

    def begin_streaming(self) -> bool:
        """The try's answer is about to reach the reader: from now on it does not give way. False
        when it already gave way (its answer must then not start)."""
        with self._decided:
            if super().is_set():
                return False
            self.streaming = True
            return True

    def is_set(self) -> bool:
        return super().is_set() or (self.reader is not None and self.reader.is_set())

    @property
    def gave_way(self) -> bool:
        """The try stopped for another answer (not for the reader)."""
        return super().is_set()


class KeepRate:
    """The recent record of generation tries (kept or dropped) and the decision to try the next one."""

    def __init__(self, window: int, min_rate: float, explore_every: int, record_path: Path | None = None,
                 identity: str = ""):
        self.window, self.min_rate, self.explore_every = window, min_rate, max(1, explore_every)
        self.record_path, self.identity = record_path, identity
        self._kept: deque[bool] = deque(self._saved(), maxlen=max(1, window))
        self._skipped = 0
        self._lock = threading.Lock()
        self._save_failed = False

    def _saved(self) -> list[bool]:
        """The tries recorded by an earlier process for the same generator (none if unreadable)."""
        if self.record_path is None:
            return []
        try:
            saved = json.loads(self.record_path.read_text(encoding="utf-8"))
            kept = saved["kept"] if saved.get("identity") == self.identity else []
            return [bool(k) for k in kept] if isinstance(kept, list) else []
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("generator keep record %s unreadable, starting afresh: %s", self.record_path, exc)
            return []

    def _save(self) -> None:
        if self.record_path is None:
            return
        partial = self.record_path.with_name(f".{self.record_path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            partial.write_text(json.dumps({"identity": self.identity, "kept": list(self._kept)}), encoding="utf-8")
            os.replace(partial, self.record_path)
        except OSError as exc:              # read-only or full: counted in memory, saved again next time
            if partial.parent.is_dir():
                partial.unlink(missing_ok=True)
            if not self._save_failed:
                log.warning("generator keep record not saved (%s); counted in this process", exc)
            self._save_failed = True

    def rate(self) -> float | None:
        """The share of the recorded tries that were kept; None before `window` tries."""
        with self._lock:
            return sum(self._kept) / len(self._kept) if len(self._kept) >= self.window else None

    def should_try(self, alone: bool = True) -> bool:
        """Try the generator now: always until `window` tries are recorded or while the share kept is
        at least `min_rate`; else once `explore_every` questions have gone without, at the first
        that is `alone` (no other answer being written at the same time)."""
        return self.decide(alone)[0]

    def decide(self, alone: bool = True) -> tuple[bool, bool]:
        """(try now, exploring): as `should_try`, and whether the try is one the record does not
        call for (to see whether that changed), decided on one reading of the record."""
        if self.min_rate <= 0:
            return True, False
        with self._lock:
            rate = sum(self._kept) / len(self._kept) if len(self._kept) >= self.window else None
            if rate is None or rate >= self.min_rate:
                self._skipped = 0
                return True, False
            self._skipped += 1
            if self._skipped >= self.explore_every and alone:
                self._skipped = 0
                return True, True
            return False, True

    def record(self, kept: bool) -> None:
        """Note whether a try's answer was kept."""
        with self._lock:
            self._kept.append(bool(kept))
            self._save()
