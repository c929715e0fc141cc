"""The chat HTTP API (FastAPI) around the channel-neutral dialogue engine.

    POST /api/chat/start    {"session_id"?} -> the welcome message and conversation starters
    POST /api/chat          {"session_id"?, "text"} or {"session_id", "button"} -> the bot's messages
    POST /api/chat/stream   the same as Server-Sent Events: session, token…, notice?, message…, done
    POST /api/feedback      {"session_id", "message_id", "rating": "up"|"down", "comment"?}
    GET  /healthz           200 while the server is alive
    GET  /readyz            200 when it can answer questions; 503 while its actions are not answering or its
                            conversation store (Redis) is unreachable
    GET  /metrics           Prometheus metrics (bot/channels/metrics.py)
    GET  /widget.js, /      the chat widget, and a demo page that carries it

Every error is JSON `{"error": "..."}`: 400 malformed JSON, 408 body too slow, 413 body or text too
long, 422 bad fields (text that is not valid Unicode included), 429 too many requests
(Retry-After), 503 all workers busy and the queue full (Retry-After: the expected wait), or the
conversation store unreachable.
A reader who hangs up before the answer is complete cancels the turn: its worker or queue place is
freed at once and the generator stops at its next token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.channels.admission import Admission, Refused, TurnPool
from bot.channels.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics
from bot.dialogue.messages import BotMessage, Notice, Token, TurnResult
from bot.dialogue.redis_store import shared_redis
from bot.dialogue.tracker_store import StoreUnavailable
from bot.channels.web.schemas import ChatRequest, ChatResponse, FeedbackRequest, StartRequest
from bot.channels.web.transport import BodyLimit
from knowledge.threads import ThreadToLoop

if TYPE_CHECKING:
    from bot.dialogue.engine import DialogEngine
    from knowledge.feedback import FeedbackStore
    from knowledge.settings import Settings, WebSettings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class Problem(Exception):
    """An error answered as JSON `{"error": message}` with `status` and `headers`."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        self.status, self.message, self.headers = status, message, headers or {}


def create_app(engine: DialogEngine, settings: Settings, feedback_store: FeedbackStore,
               title: str | None = None, metrics: Metrics | None = None, admin_token: str | None = None) -> FastAPI:
    """The web app over a loaded dialogue engine; `metrics` (default: new ones, without the index's
    figures) are served at /metrics. With `admin_token` and a turn recorder in `metrics`, the
    report is at /admin (bot.channels.web.admin)."""
    web = settings.web
    app = FastAPI(title="blogbot chat API", version="1", docs_url=None, redoc_url=None)
    pool = TurnPool.from_settings(web)
    admission = Admission(pool, web.rate_limit_per_minute, web.rate_limit_burst, web.turns_per_client,
                          shared=shared_redis(engine.store))
    metrics = metrics or Metrics()
    metrics.watch_pool(pool)
    app.state.pool, app.state.admission, app.state.metrics = pool, admission, metrics
    _add_middleware(app, web, metrics)
    _add_error_handlers(app)
    turns = _Turns(engine, web, admission, metrics)
    _add_chat_routes(app, turns)
    _add_feedback_route(app, turns, feedback_store)
    _add_status_routes(app, engine, metrics)
    _add_page_routes(app, web, title)
    if admin_token and metrics.recorder is not None:
        from bot.channels.web.admin import add_admin_routes

        add_admin_routes(app, admin_token, metrics.recorder, settings, turns.admit)
    return app


def _add_middleware(app: FastAPI, web: WebSettings, metrics: Metrics) -> None:
    """CORS for the allowed origins (if any), the cap on request bodies, and counting requests."""
    if web.allowed_origins:
        app.add_middleware(_WidgetCORS, allow_origins=list(web.allowed_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], expose_headers=["Retry-After"], max_age=600)

    # Bodies are capped while they stream in (the 413 on text length comes later).
    app.add_middleware(BodyLimit, timeout_s=web.body_timeout_s,
                       limit_for=lambda path: web.max_slack_body_bytes if path.startswith("/slack/")
                       else web.max_body_bytes)

    @app.middleware("http")
    async def count(request: Request, call_next):
        response = await call_next(request)       # one that raises is counted by the error handler
        metrics.record_request(request, response.status_code)
        return response


class _WidgetCORS(CORSMiddleware):
    """CORS for the widget's origins, never for /admin (the blogger's pages answer no other origin)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and (scope["path"] == "/admin" or scope["path"].startswith("/admin/")):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as JSON `{"error": "..."}`."""

    @app.exception_handler(Problem)
    async def problem(_request, exc: Problem):
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": "the body is not valid JSON"}, status_code=400)
        details = [f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}" for e in errors]
        return JSONResponse({"error": "; ".join(details)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def store_away(_request, exc: StoreUnavailable):
        log.error("web: %s", exc)
        return JSONResponse({"error": "the conversation store is unreachable: try again shortly"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("web: unexpected error")
        request.app.state.metrics.record_request(request, 500)
        return JSONResponse({"error": "internal error, logged"}, status_code=500)


class _Turns:
    """What the chat and feedback routes share: admitting a request and running its turn on the pool
    within the client's share (see bot.channels.admission)."""

    def __init__(self, engine: DialogEngine, web: WebSettings, admission: Admission, metrics: Metrics):
        self.engine, self.web, self.admission, self.metrics = engine, web, admission, metrics

    def admit(self, request: Request) -> None:
        """Count the request against its client's rate; Problem(429) past it."""
        try:
            self.admission.check_rate(_client(request))
        except Refused as refused:
            self.metrics.record_refused("web", _client(request), refused.status)
            raise _problem(refused) from None

    def session(self, session_id: str | None) -> tuple[str, bool]:
        """The session to continue, and whether it is new: an unknown one starts afresh under a new id."""
        new = not session_id or not self.engine.has_conversation(_sender(session_id))
        if new:
            session_id = uuid.uuid4().hex
        return session_id, new

    def begin(self, body: ChatRequest) -> tuple[str, str, bool]:
        """The session, the reader's text (Problem(413) when too long) and whether the session is new."""
        text = body.text if body.text is not None and body.text.strip() else body.button
        if len(text) > self.web.max_text_chars:
            raise Problem(413, f"the message is longer than {self.web.max_text_chars} characters")
        session, new = self.session(body.session_id)
        return session, text, new

    def submit(self, request: Request, fn: Callable[..., Any], *args: Any) -> Future:
        """Run a turn on the pool, within the client's share (see bot.channels.admission)."""
        try:
            return self.admission.submit(_client(request), fn, *args)
        except Refused as refused:
            self.metrics.record_refused("web", _client(request), refused.status)
            raise _problem(refused) from None

    async def whole_turn(self, request: Request, session: str, text: str | None) -> TurnResult | None:
        """A turn run on the pool; None when the reader hung up first (the turn is cancelled)."""
        cancel = threading.Event()
        started = time.perf_counter()
        future = self.submit(request, self.engine.respond, _sender(session), text, cancel)
        answered = asyncio.wrap_future(future)
        gone = asyncio.ensure_future(_hung_up(request))
        try:
            await asyncio.wait({answered, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if answered.done():
            result = answered.result()
            self.metrics.record_turn("web", result, time.perf_counter() - started)
            return result
        cancel.set()
        future.cancel()             # still queued: its place is given back now
        answered.cancel()
        return None


def _add_chat_routes(app: FastAPI, turns: _Turns) -> None:
    """POST /api/chat/start, /api/chat and /api/chat/stream."""

    @app.post("/api/chat/start", response_model=ChatResponse, responses={429: {}, 503: {}})
    async def chat_start(request: Request, body: StartRequest | None = None):
        """Open the conversation: the welcome message and its conversation starters."""
        await run_in_threadpool(turns.admit, request)      # these may wait on Redis: never on the event loop
        session, new = await run_in_threadpool(turns.session, body.session_id if body else None)
        result = await turns.whole_turn(request, session, None)
        if result is None:
            return Response(status_code=499)        # nobody is listening any more
        return {"session_id": session, "messages": [m.as_json() for m in result.messages], "intent": None,
                "new_session": new}

    @app.post("/api/chat", response_model=ChatResponse, responses={400: {}, 413: {}, 429: {}, 503: {}})
    async def chat(body: ChatRequest, request: Request):
        await run_in_threadpool(turns.admit, request)
        session, text, new = await run_in_threadpool(turns.begin, body)
        result = await turns.whole_turn(request, session, text)
        if result is None:
            return Response(status_code=499)
        return {"session_id": session, "messages": [m.as_json() for m in result.messages],
                "intent": result.intent, "new_session": new}

    @app.post("/api/chat/stream", responses={200: {"content": {"text/event-stream": {}}}, 413: {}, 429: {}, 503: {}})
    async def chat_stream(body: ChatRequest, request: Request):
        await run_in_threadpool(turns.admit, request)
        session, text, new = await run_in_threadpool(turns.begin, body)
        cancel = threading.Event()
        turn = ThreadToLoop(turns.engine.handle(_sender(session), text, cancel), cancel)
        started = time.perf_counter()
        future = turns.submit(request, turn.work)      # the turn runs on the pool

        def finished(result: TurnResult, first_token: float | None) -> None:
            turns.metrics.record_turn("web", result, time.perf_counter() - started,
                                      None if first_token is None else first_token - started)

        events = _turn_events(turn, session, new, cancel, future, finished,
                              lambda: turns.metrics.errors.labels("/api/chat/stream").inc())
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _turn_events(turn: ThreadToLoop, session: str, new: bool, cancel: threading.Event, future: Future,
                       finished: Callable[[TurnResult, float | None], None],
                       failed: Callable[[], None]) -> AsyncIterator[str]:
    """A streamed turn as Server-Sent Events: session, token…, notice?, message…, done (or error).
    `finished(result, perf_counter at the first token or None)` is told how the turn ended, `failed()`
    that it failed."""
    first_token = None
    try:
        yield _sse("session", {"session_id": session, "new_session": new})
        async for event in turn.items():
            if isinstance(event, Token):
                first_token = first_token or time.perf_counter()
                yield _sse("token", {"text": event.text})
            elif isinstance(event, Notice):
                yield _sse("notice", {"text": event.text})
            elif isinstance(event, BotMessage):
                yield _sse("message", event.as_json())
            elif isinstance(event, TurnResult):
                finished(event, first_token)
                yield _sse("done", {"session_id": session, "intent": event.intent})
    except Exception:       # reported to the client as an error event
        log.exception("web: turn failed")
        failed()
        yield _sse("error", {"error": "the assistant failed on this message; it was logged"})
    finally:        # ended, or the reader hung up: stop the turn, give back its place
        cancel.set()
        future.cancel()


def _add_feedback_route(app: FastAPI, turns: _Turns, feedback_store: FeedbackStore) -> None:
    """POST /api/feedback."""

    @app.post("/api/feedback", status_code=201, responses={404: {}, 422: {}, 429: {}})
    async def feedback(body: FeedbackRequest, request: Request):
        await run_in_threadpool(turns.admit, request)
        sender = _sender(body.session_id)
        message = await run_in_threadpool(turns.engine.message_of, sender, body.message_id)
        if message is None:
            raise Problem(404, "no such message in this session")
        question = await run_in_threadpool(turns.engine.question_before, sender, body.message_id)
        feedback_id = await asyncio.to_thread(feedback_store.record, sender, body.rating, body.message_id,
                                              body.comment, question, message.get("text"))
        turns.metrics.feedback.labels("web", body.rating).inc()
        return {"id": feedback_id}


def _add_status_routes(app: FastAPI, engine: DialogEngine, metrics: Metrics) -> None:
    """GET /healthz, /readyz and /metrics."""

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics():
        return Response(await run_in_threadpool(metrics.render), media_type=METRICS_CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        breaker = getattr(engine.actions, "breaker", None)
        if breaker is not None and breaker.is_open:
            return JSONResponse({"status": "not ready", "reason": "the actions are not answering"}, status_code=503)
        ping = getattr(engine.store, "ping", None)
        if ping is not None and not await run_in_threadpool(ping):
            return JSONResponse({"status": "not ready", "reason": "the conversation store is unreachable"},
                                status_code=503)
        return {"status": "ready"}


def _add_page_routes(app: FastAPI, web: WebSettings, title: str | None) -> None:
    """GET /widget.js and the demo page at /."""

    @app.get("/widget.js", include_in_schema=False)
    async def widget():
        return FileResponse(STATIC / "widget.js", media_type="application/javascript",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    async def demo_page():
        page = (STATIC / "demo.html").read_text(encoding="utf-8")
        page = page.replace("{{title}}", _html_attr(title or web.widget_title))
        return HTMLResponse(page, headers={"Content-Security-Policy":
                                           "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"})


async def _hung_up(request: Request) -> None:
    """Returns when the client disconnects (the body has been read: only a disconnect can come)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _problem(refused: Refused) -> Problem:
    return Problem(refused.status, refused.message, {"Retry-After": str(refused.retry_after_s)})


def _sender(session_id: str) -> str:
    return f"web:{session_id}"


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _html_attr(text: str) -> str:
    return re.sub(r"[&<>\"']", lambda m: f"&#{ord(m.group(0))};", text)
