"""Calls action handlers over the rasa-sdk action server protocol.

Both clients take the same payload (`next_action`, `sender_id`, `tracker`, `domain`, `version`)
and yield the same items: `{"event": "stream_chunk", "text": ...}` while the action streams,
then one `{"event": "stream_done", "result": {"events": [...], "responses": [...]}}`.

- `InProcessActionClient` runs rasa-sdk's `ActionExecutor` in this process (the default).
- `HttpActionClient` posts to a `blogbot actions` server: `<endpoint>/stream` (newline-delimited
  JSON of the same items) when the server has it, else the plain rasa-sdk `<endpoint>`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from typing import Iterator

import httpx

log = logging.getLogger(__name__)


class ActionError(RuntimeError):
    """The action could not run: server down, timeout, an error answer or a crash."""


def load_executor(package: str = "actions"):
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package(package)
    return executor


class _ThreadSink:
    """The executor's streaming sink, handing items to another thread."""

    def __init__(self, items: queue.Queue):
        self.items = items

    async def put(self, item: dict) -> None:
        self.items.put(item)


class InProcessActionClient:
    """Runs actions on one event loop of its own (a background thread), like an action server would."""

    def __init__(self, executor=None, timeout_s: float = 30.0, knowledge=None):
        self.executor = executor or load_executor()
        self.timeout_s = timeout_s
        self.knowledge = knowledge      # actions.service.Knowledge of this client's blog
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="actions-loop", daemon=True).start()

    def action_names(self) -> list[str]:
        return sorted(self.executor.actions)

    def run(self, payload: dict) -> Iterator[dict]:
        items: queue.Queue = queue.Queue()

        async def work() -> None:
            if self.knowledge is not None:
                from actions.service import current_knowledge

                current_knowledge.set(self.knowledge)     # this task's context only
            try:
                await self.executor.run(payload, sink=_ThreadSink(items))
            except Exception:   # reported through the stream_error item the executor put first
                log.debug("action %s raised", payload.get("next_action"), exc_info=True)
            items.put({"event": "_finished"})

        asyncio.run_coroutine_threadsafe(work(), self._loop)
        yield from _until_done(items, self.timeout_s, payload.get("next_action"))


def _until_done(items: queue.Queue, timeout_s: float, action: str) -> Iterator[dict]:
    while True:
        try:
            item = items.get(timeout=timeout_s)
        except queue.Empty:
            raise ActionError(f"action {action} sent nothing for {timeout_s:g} s") from None
        event = item.get("event")
        if event == "stream_done":
            result = item["result"]
            yield {"event": "stream_done", "result": result.model_dump() if hasattr(result, "model_dump") else result}
            return
        if event == "stream_error":
            raise ActionError(f"action {action} failed: {item.get('exception') or item.get('error')}")
        if event == "_finished":
            raise ActionError(f"action {action} ended without a result")
        if event == "stream_chunk":
            yield item


class HttpActionClient:
    """A remote `blogbot actions` (or any rasa-sdk) server at `endpoint` (…/webhook)."""

    def __init__(self, endpoint: str, timeout_s: float = 30.0):
        self.endpoint = endpoint.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        self._client = httpx.Client(timeout=self.timeout)
        self._streams = True

    def run(self, payload: dict) -> Iterator[dict]:
        action = payload.get("next_action")
        try:
            if self._streams:
                with self._client.stream("POST", f"{self.endpoint}/stream", json=payload) as response:
                    if response.status_code == 404 and not _names_an_action(response):
                        self._streams = False       # a stock rasa-sdk server: unary webhook only
                    else:
                        _raise_for_status(response, action)
                        yield from self._read_stream(response, action)
                        return
            response = self._client.post(self.endpoint, json=payload)
            _raise_for_status(response, action)
            try:
                result = response.json()
            except ValueError:
                raise ActionError(f"action {action}: the action server answered no JSON") from None
            yield {"event": "stream_done", "result": result}
        except httpx.TimeoutException:
            raise ActionError(f"action {action}: the action server at {self.endpoint} timed out") from None
        except httpx.TransportError as exc:
            raise ActionError(f"action {action}: cannot reach the action server at {self.endpoint}: {exc}") from None

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
        raise ActionError(f"action {action}: the action server answered {response.status_code} {detail}".strip())
