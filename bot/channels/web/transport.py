"""Limits on what a client may send before any handler sees it.

- `BodyLimit` (ASGI middleware): a request body is capped while it streams in, chunked or not
  (413 as soon as it passes the cap, without reading the rest), and must arrive within a deadline
  (408), so a slow or endless upload cannot hold memory or a connection.
- `header_deadline_protocol`: uvicorn's HTTP/1.1 protocol with a deadline for the request line and
  headers, so a connection that never finishes its headers is closed (uvicorn has none).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import HTTPException

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send
    from uvicorn.protocols.http.h11_impl import H11Protocol


class BodyTooLarge(HTTPException):
    """The body passed its cap (an HTTPException, so FastAPI's body parsing lets it through)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyTooSlow(HTTPException):
    """The body did not arrive within its deadline."""

    def __init__(self, seconds: float):
        super().__init__(408, f"the request body did not arrive within {seconds:g} s")


class BodyLimit:
    """Caps request bodies at `limit_for(path)` bytes and `timeout_s` seconds."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int], timeout_s: float):
        self.app = app
        self.limit_for = limit_for
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _refuse(send, BodyTooLarge(limit))
        received, complete = 0, False

        async def limited_receive():
            nonlocal received, complete
            if complete:            # after the body only a disconnect can come: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                raise BodyTooSlow(self.timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


async def _refuse(send: Send, problem: HTTPException) -> None:
    body = json.dumps({"error": problem.detail}).encode()
    await send({"type": "http.response.start", "status": problem.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def header_deadline_protocol(timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol class, closing a connection whose request line and headers are not
    complete `timeout_s` after it opened or after its previous response (slow-header clients)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadlineProtocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm_header_deadline()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:     # the headers are in
                self._disarm_header_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_deadline()

        def connection_lost(self, exc):
            self._disarm_header_deadline()
            super().connection_lost(exc)

        def _arm_header_deadline(self) -> None:
            self._disarm_header_deadline()
            self._header_timer = self.loop.call_later(timeout_s, self._headers_too_slow)

        def _disarm_header_deadline(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol
