"""Calls action handlers over the rasa-sdk action server protocol.

Both clients take the same payload (`next_action`, `sender_id`, `tracker`, `domain`, `version`)
and yield the same items: `{"event": "stream_chunk", "text": ...}` while the action streams,
then one `{"event": "stream_done", "result": {"events": [...], "responses": [...]}}`.

- `InProcessActionClient` runs rasa-sdk's `ActionExecutor` in this process (the default).
- `HttpActionClient` posts to a `blogbot actions` server: `<endpoint>/stream` (newline-delimited
  JSON of the same items) when the server has it, else the plain rasa-sdk `<endpoint>`.

Every call keeps to `ActionDeadlines`: the action must show life within `first_event_s` (the
stream opens; a stalled server does not), an `{"event": "action_slow"}` item is yielded once when
no new text has come for `notice_s` (so the reader can be told), and the whole call ends at
`total_s`. Calls that time out or cannot reach the actions trip a `CircuitBreaker`: while it is
open, calls fail at once instead of holding a worker. A set `cancel` event (the reader left) stops
the call at once (`ActionCancelled`) and the action with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

import httpx

from knowledge.threads import LoopToThread

if TYPE_CHECKING:
    from rasa_sdk.executor import ActionExecutor

    from knowledge.settings import DialogSettings

log = logging.getLogger(__name__)
_POLL_S = 0.1      # how often a waiting call looks at its cancel event


class ActionError(RuntimeError):
    """The action could not run: server down, timeout, an error answer or a crash."""


class ActionUnavailable(ActionError):
    """The actions did not answer in time or could not be reached (counts for the circuit breaker)."""


class ActionCancelled(ActionError):
    """The turn was cancelled (the reader left) while the action ran."""


class ActionSlow:
    """The item yielded once when an action has sent no new text for `notice_s` seconds."""

    EVENT = "action_slow"


@dataclass
class ActionDeadlines:
    """Seconds: to the first sign of life, to telling the reader it takes longer, to giving up."""

    first_event_s: float = 5.0
    notice_s: float = 5.0
    total_s: float = 30.0

    @classmethod
    def from_settings(cls, dialog: DialogSettings) -> "ActionDeadlines":
        """The deadlines the dialog settings give (action_first_event_s, action_notice_s, action_timeout_s)."""
        return cls(dialog.action_first_event_s, dialog.action_notice_s, dialog.action_timeout_s)


class CircuitBreaker:
    """After `failures` calls in a row that time out or cannot connect, calls fail at once for
    `cooldown_s`; then one call is let through to try again (and closes the breaker if it works)."""

    def __init__(self, failures: int = 3, cooldown_s: float = 15.0, clock: Callable[[], float] = time.monotonic):
        self.failures, self.cooldown_s, self.clock = max(1, failures), cooldown_s, clock
        self._count = 0
        self._open_until = 0.0
        self._trying = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """Whether calls fail at once now (too many failures; the cooldown or a trial call not over)."""
        with self._lock:
            return self._count >= self.failures and (self.clock() < self._open_until or self._trying)

    def before_call(self) -> None:
        """Raise ActionUnavailable while open; past the cooldown let one trial call through."""
        with self._lock:
            if self._count < self.failures:
                return
            if self.clock() < self._open_until or self._trying:
                raise ActionUnavailable("the actions are not answering; not trying again for a moment")
            self._trying = True

    def record(self, answered: bool | None) -> None:
        """The outcome of a call: answered, not answered, or None (left before it could tell)."""
        with self._lock:
            self._trying = False
            if answered:
                self._count = 0
            elif answered is False:
                self._count += 1
                if self._count >= self.failures:
                    self._open_until = self.clock() + self.cooldown_s


class _Guarded:
    """What both clients share: deadlines and the circuit breaker around one call."""

    def __init__(self, deadlines: ActionDeadlines | None, breaker: CircuitBreaker | None):
        self.deadlines = deadlines or ActionDeadlines()
        self.breaker = breaker or CircuitBreaker()

    def _guard(self, calls: Iterator[dict]) -> Iterator[dict]:
        self.breaker.before_call()
        answered = None             # True: the actions answered (an error too); False: they did not
        try:
            yield from calls
            answered = True
        except ActionUnavailable:
            answered = False
            raise
        except ActionCancelled:
            raise
        except ActionError:
            answered = True
            raise
        finally:
            self.breaker.record(answered)


def _until_done(items: queue.Queue, deadlines: ActionDeadlines, action: str, cancel: threading.Event | None,
                started: float, stop=lambda: None) -> Iterator[dict]:
    """The items of one call from `items`, within the deadlines; `stop()` ends the call early."""
    alive, noticed = False, False
    progressed = started            # when the last text came
    try:
        while True:
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                raise ActionCancelled(f"action {action}: the reader left")
            if not alive and now - started >= deadlines.first_event_s:
                raise ActionUnavailable(f"action {action}: no answer within {deadlines.first_event_s:g} s")
            if now - started >= deadlines.total_s:
                raise ActionUnavailable(f"action {action} did not finish within {deadlines.total_s:g} s")
            if not noticed and now - progressed >= deadlines.notice_s:
                noticed = True
                yield {"event": ActionSlow.EVENT}
            try:
                item = items.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            alive = True
            event = item.get("event")
            if event == "stream_done":
                result = item["result"]
                yield {"event": "stream_done", "result": result.model_dump() if hasattr(result, "model_dump") else result}
                return
            if event == "stream_error":
                raise ActionError(f"action {action} failed: {item.get('exception') or item.get('error')}")
            if event == "_unavailable":
                raise ActionUnavailable(item["error"])
            if event == "_failed":
                raise ActionError(item["error"])
            if event == "_finished":
                raise ActionError(f"action {action} ended without a result")
            if event == "stream_chunk":
                if item.get("text"):
                    progressed = time.monotonic()
                yield item
    finally:
        stop()


class InProcessActionClient(_Guarded):
    """Runs actions on one event loop of its own (a background thread), like an action server would."""

    def __init__(self, executor: ActionExecutor, timeout_s: float | None = None,
                 deadlines: ActionDeadlines | None = None, breaker: CircuitBreaker | None = None):
        super().__init__(deadlines or ActionDeadlines(total_s=timeout_s or 30.0), breaker)
        self.executor = executor        # rasa-sdk's ActionExecutor, its actions given the blog's knowledge
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="actions-loop", daemon=True).start()

    def action_names(self) -> list[str]:
        """The names of the executor's actions, sorted."""
        return sorted(self.executor.actions)

    def run(self, payload: dict, cancel: threading.Event | None = None) -> Iterator[dict]:
        """Call the action `payload` names; yields the call's items (see the module docstring)."""
        return self._guard(self._run(payload, cancel))

    def _run(self, payload: dict, cancel: threading.Event | None) -> Iterator[dict]:
        items: queue.Queue = queue.Queue()
        started = time.monotonic()

        async def work() -> None:
            items.put({"event": "_accepted"})     # the loop is alive and took the call
            try:
                await self.executor.run(payload, sink=LoopToThread(items))
            except Exception:   # reported through the stream_error item the executor put first
                log.debug("action %s raised", payload.get("next_action"), exc_info=True)
            items.put({"event": "_finished"})

        future = asyncio.run_coroutine_threadsafe(work(), self._loop)
        yield from (item for item in _until_done(items, self.deadlines, payload.get("next_action"), cancel, started,
                                                 stop=future.cancel)
                    if item.get("event") != "_accepted")


class HttpActionClient(_Guarded):
    """A remote `blogbot actions` (or any rasa-sdk) server at `endpoint` (…/webhook)."""

    def __init__(self, endpoint: str, timeout_s: float | None = None, deadlines: ActionDeadlines | None = None,
                 breaker: CircuitBreaker | None = None):
        super().__init__(deadlines or ActionDeadlines(total_s=timeout_s or 30.0), breaker)
        self.endpoint = endpoint.rstrip("/")
        total = self.deadlines.total_s
        self._client = httpx.Client(timeout=httpx.Timeout(total, connect=min(self.deadlines.first_event_s, total)))
        self._streams = True

    def run(self, payload: dict, cancel: threading.Event | None = None) -> Iterator[dict]:
        """Call the action `payload` names; yields the call's items (see the module docstring)."""
        return self._guard(self._run(payload, cancel))

    def _run(self, payload: dict, cancel: threading.Event | None) -> Iterator[dict]:
        """The call is made on a reader thread, so that this one keeps the deadlines and can leave."""
        items: queue.Queue = queue.Queue()
        action = payload.get("next_action")
        started = time.monotonic()
        responses: list[httpx.Response] = []
        left = threading.Event()

        def read() -> None:
            try:
                self._call(payload, action, items, responses)
            except ActionError as exc:
                items.put({"event": "_unavailable" if isinstance(exc, ActionUnavailable) else "_failed",
                           "error": str(exc)})
            except Exception as exc:        # after the caller left, closing the response ends up here
                if not left.is_set():
                    items.put({"event": "_failed", "error": f"action {action}: {exc}"})

        def stop() -> None:
            left.set()
            for response in responses:
                response.close()            # the server sees the hang-up and stops the action

        threading.Thread(target=read, name="action-call", daemon=True).start()
        yield from _until_done(items, self.deadlines, action, cancel, started, stop=stop)

    def _call(self, payload: dict, action: str, items: queue.Queue, responses: list) -> None:
        try:
            if self._streams:
                with self._client.stream("POST", f"{self.endpoint}/stream", json=payload) as response:
                    responses.append(response)
                    if response.status_code == 404 and not _names_an_action(response):
                        self._streams = False       # a stock rasa-sdk server: unary webhook only
                    else:
                        _raise_for_status(response, action)
                        items.put({"event": "_accepted"})
                        for item in self._read_stream(response, action):
                            items.put(item)
                        return
            # A stock server answers only when the action is done: only the total deadline applies.
            items.put({"event": "_accepted"})
            response = self._client.post(self.endpoint, json=payload)
            _raise_for_status(response, action)
            try:
                result = response.json()
            except ValueError:
                raise ActionError(f"action {action}: the action server answered no JSON") from None
            items.put({"event": "stream_done", "result": result})
        except httpx.TimeoutException:
            raise ActionUnavailable(f"action {action}: the action server at {self.endpoint} timed out") from None
        except httpx.TransportError as exc:
            raise ActionUnavailable(f"action {action}: cannot reach the action server at {self.endpoint}: {exc}") \
                from None

    def _read_stream(self, response: httpx.Response, action: str) -> Iterator[dict]:
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise ActionError(f"action {action}: unreadable stream line from the action server") from None
            if item.get("event") == "stream_error":
                raise ActionError(f"action {action} failed on the action server: {item.get('error')}")
            if item.get("event") in ("stream_chunk", "stream_done"):
                yield item
                if item["event"] == "stream_done":
                    return
        raise ActionError(f"action {action}: the action server closed the stream without a result")

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self._client.close()


def _names_an_action(response: httpx.Response) -> bool:
    """A 404 of our stream route names the unknown action; a server without the route does not."""
    try:
        response.read()
        return "action_name" in response.json()
    except Exception:
        return False


def _raise_for_status(response: httpx.Response, action: str) -> None:
    if response.status_code != 200:
        try:
            response.read()
            detail = response.json().get("error", "")
        except Exception:
            detail = ""
        error = ActionUnavailable if response.status_code in (502, 503, 504) else ActionError
        raise error(f"action {action}: the action server answered {response.status_code} {detail}".strip())
