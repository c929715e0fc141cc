"""The bridges between blocking work and asyncio, one per direction: a blocking iterator (a dialogue
turn, the answer composer) runs on a worker thread and hands its items to the event loop
(`ThreadToLoop`, `in_thread`); a coroutine on a loop hands items to a blocking reader (`LoopToThread`).

`benchmarks/stream_hops.py` measures what the hops of a streamed answer cost."""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import AsyncIterator, Iterator


class ThreadToLoop:
    """Items of `iterator`, made by `work()` on whatever thread runs it (a new one, a pool's), read
    on the loop with `items()`. When the reader stops (the request or action is cancelled: the
    reader left), `stop` is set and the iterator is closed at its next item; an iterator made with
    the same `stop` event (the composer's `cancel`) sees it at once, which stops the generator at
    its next token."""

    _DONE = object()

    def __init__(self, iterator: Iterator, stop: threading.Event | None = None):
        self.iterator = iterator
        self.stop = stop or threading.Event()
        self._loop = asyncio.get_running_loop()
        self._items: asyncio.Queue = asyncio.Queue()

    def _hand_over(self, item) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:        # the loop is gone
            self.stop.set()

    def work(self) -> None:
        """Run the iterator to its end (or until `stop`), handing over each item, then the end."""
        try:
            for item in self.iterator:
                if self.stop.is_set():
                    break
                self._hand_over(item)
        except BaseException as exc:     # raised on the reading side
            self._hand_over(exc)
        finally:
            close = getattr(self.iterator, "close", None)
            if close is not None:
                close()
        self._hand_over(self._DONE)

    async def items(self) -> AsyncIterator:
        """The items as they come; an exception of the iterator is raised here."""
        try:
            while True:
                item = await self._items.get()
                if item is self._DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop.set()


async def in_thread(iterator: Iterator, stop: threading.Event | None = None) -> AsyncIterator:
    """`iterator`'s items, made on a new worker thread (see `ThreadToLoop`)."""
    bridge = ThreadToLoop(iterator, stop)
    threading.Thread(target=bridge.work, name="blocking-work", daemon=True).start()
    async for item in bridge.items():
        yield item


class LoopToThread:
    """The reverse direction: an async sink (rasa-sdk's executor `put`s its streamed items) whose items a
    thread that is not the loop's reads from `items`, a plain queue."""

    def __init__(self, items: queue.Queue):
        self.items = items

    async def put(self, item: object) -> None:
        """Hand one item to the reading thread."""
        self.items.put(item)
