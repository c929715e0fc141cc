"""The web channel's HTTP API, against the real assistant on the demo blog.

`create_app` runs under FastAPI's TestClient (httpx over the real ASGI app); `blogbot serve`
runs as a real process. Conversations use fresh session ids, since the engine is shared.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.channels.web.app import create_app
from knowledge.feedback import FeedbackStore
from knowledge.settings import apply_overrides, load_settings
from helpers import BLOGBOT, free_port

RAG_QUESTION = "what is retrieval augmented generation?"
TEKTON = "/article/tekton-pipelines/"
ALLOWED_ORIGIN = "https://blog.example.com"
SESSION_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def web_settings(**web):
    return apply_overrides(load_settings(), {"web": web})


def make_client(engine, tmp_path_factory, title: str | None = None, **web) -> SimpleNamespace:
    store = FeedbackStore(tmp_path_factory.mktemp("feedback"))
    app = create_app(engine, web_settings(**web), store, title=title)
    return SimpleNamespace(app=app, client=TestClient(app), store=store)


@pytest.fixture(scope="module")
def api(demo_engine, tmp_path_factory):
    """The app with the shipped settings, except a rate limit the module's own requests cannot reach."""
    return make_client(demo_engine, tmp_path_factory, rate_limit_per_minute=10_000, rate_limit_burst=10_000)


@pytest.fixture(scope="module")
def client(api) -> TestClient:
    return api.client


def sse_events(body: str) -> list[tuple[str, dict]]:
    """(event name, data) of each Server-Sent Event in a response body."""
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data += line[len("data: "):]
        events.append((name, json.loads(data)))
    return events


@pytest.fixture(scope="module")
def rag_turn(client):
    """One streamed question (a generated answer): its response and events, shared by a few tests."""
    with client.stream("POST", "/api/chat/stream", json={"text": RAG_QUESTION}) as response:
        body = "".join(response.iter_text())
    return SimpleNamespace(response=response, events=sse_events(body))


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert isinstance(error, str) and error.strip()
    return error


# -- what is served -----------------------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_lists_the_endpoints(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/chat/start", "/api/chat", "/api/chat/stream", "/api/feedback"):
        assert "post" in paths[path], path
    assert "get" in paths["/healthz"]


def test_demo_page_carries_the_widget(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/widget.js" data-title="Ask the blog"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    widget = client.get("/widget.js")
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("application/javascript")
    assert "/api/chat/stream" in widget.text


def test_demo_page_title_is_escaped(demo_engine, tmp_path_factory):
    app = make_client(demo_engine, tmp_path_factory, title='Ask "me" <script>alert(1)</script>')
    page = app.client.get("/").text
    assert "<script>alert(1)</script>" not in page
    assert 'data-title="Ask &#34;me&#34; &#60;script&#62;alert(1)&#60;/script&#62;"' in page


# -- conversations -------------------------------------------------------------------------------------


def test_start_gives_the_welcome_with_starters_and_a_session(client):
    response = client.post("/api/chat/start", json={})
    assert response.status_code == 200
    data = response.json()
    assert SESSION_SHAPE.match(data["session_id"])
    assert data["new_session"] is True
    [welcome] = data["messages"]
    assert "I answer questions about this blog" in welcome["text"]
    assert welcome["id"]
    buttons = {b["title"]: b["payload"] for b in welcome["buttons"]}
    assert buttons["What's new?"] == "What are the latest posts?"
    assert "Topics" in buttons and "What can you do?" in buttons


def test_start_without_a_body_works_too(client):
    response = client.post("/api/chat/start")
    assert response.status_code == 200
    assert response.json()["new_session"] is True


def test_start_with_a_known_session_keeps_it(client):
    session = client.post("/api/chat/start", json={}).json()["session_id"]
    again = client.post("/api/chat/start", json={"session_id": session}).json()
    assert again["session_id"] == session
    assert again["new_session"] is False


def test_posts_about_tekton_then_the_summarize_button(client):
    first = client.post("/api/chat", json={"text": "posts about tekton"})
    assert first.status_code == 200, first.text
    data = first.json()
    session = data["session_id"]
    assert SESSION_SHAPE.match(session) and data["new_session"] is True
    assert data["intent"] == "find_posts"
    [listing] = data["messages"]
    assert "Tekton Pipelines on Kubernetes" in listing["text"]
    assert any(c["permalink"] == TEKTON and c["url"].endswith(TEKTON) for c in listing["citations"])
    buttons = {b["title"]: b["payload"] for b in listing["buttons"]}
    assert "Summarize #1" in buttons

    second = client.post("/api/chat", json={"session_id": session, "button": buttons["Summarize #1"]})
    assert second.status_code == 200, second.text
    data = second.json()
    assert data["session_id"] == session and data["new_session"] is False
    assert data["intent"] == "summarize_post"
    [summary] = data["messages"]
    assert summary["text"].startswith("Summary of")
    assert "Tekton" in summary["text"]
    assert [c["permalink"] for c in summary["citations"]] == [TEKTON]


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/start"])
def test_an_unknown_session_starts_a_new_one(client, path):
    unknown = "no-such-session-0001"
    body = {"session_id": unknown, "text": "hello"} if path == "/api/chat" else {"session_id": unknown}
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["new_session"] is True
    assert data["session_id"] != unknown and SESSION_SHAPE.match(data["session_id"])
    assert data["messages"]
    # the new id is the one that continues
    again = client.post("/api/chat", json={"session_id": data["session_id"], "text": "thanks"}).json()
    assert again["session_id"] == data["session_id"] and again["new_session"] is False


def test_stream_sends_session_tokens_message_done(rag_turn):
    response, events = rag_turn.response, rag_turn.events
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[0] == "session"
    assert names[-1] == "done"
    assert "error" not in names
    first_message = names.index("message")
    # Tokens, and "taking longer than usual" if the machine is slow enough.
    assert "token" in names[1:first_message] and set(names[1:first_message]) <= {"token", "notice"}, names
    assert all(name == "message" for name in names[first_message:-1]), names

    session = events[0][1]
    assert SESSION_SHAPE.match(session["session_id"]) and session["new_session"] is True
    streamed = "".join(data["text"] for name, data in events if name == "token")
    assert streamed.strip()
    answer = events[first_message][1]
    assert "retrieval" in answer["text"].lower()
    assert answer["abstained"] is False
    assert any(c["permalink"] == "/article/rag-basics/" for c in answer["citations"])
    assert streamed.strip() in answer["text"] or answer["text"].startswith(streamed[:40])
    assert events[-1][1] == {"session_id": session["session_id"], "intent": "ask_question"}


def test_feedback_is_stored_with_question_and_answer(api, rag_turn):
    session = rag_turn.events[0][1]["session_id"]
    answer = next(data for name, data in rag_turn.events if name == "message")
    response = api.client.post("/api/feedback", json={"session_id": session, "message_id": answer["id"],
                                                      "rating": "up", "comment": "clear, thanks"})
    assert response.status_code == 201, response.text
    feedback_id = response.json()["id"]
    [row] = [r for r in api.store.all() if r["id"] == feedback_id]
    assert row["rating"] == "up"
    assert row["message_id"] == answer["id"]
    assert row["question"] == RAG_QUESTION
    assert row["answer"] == answer["text"]
    assert row["comment"] == "clear, thanks"
    assert row["session_id"].endswith(session)


def test_feedback_for_an_unknown_message_is_404(client):
    session = client.post("/api/chat/start", json={}).json()["session_id"]
    response = client.post("/api/feedback", json={"session_id": session, "message_id": "0123456789abcdef",
                                                  "rating": "down"})
    assert "no such message" in assert_json_error(response, 404)


def test_feedback_on_another_sessions_message_is_404(client):
    start = client.post("/api/chat/start", json={}).json()
    other = client.post("/api/chat/start", json={}).json()["session_id"]
    response = client.post("/api/feedback", json={"session_id": other, "message_id": start["messages"][0]["id"],
                                                  "rating": "up"})
    assert_json_error(response, 404)


# -- bad input: JSON errors, never a 500 ----------------------------------------------------------------

JSON = {"Content-Type": "application/json"}
GOOD_SESSION = "abcdefgh12345678"
BAD_INPUTS = [
    ("malformed JSON", "/api/chat", {"content": '{"text": "hi"', "headers": JSON}, 400),
    ("malformed JSON, stream", "/api/chat/stream", {"content": "{text: hi}", "headers": JSON}, 400),
    ("malformed JSON, start", "/api/chat/start", {"content": "{", "headers": JSON}, 400),
    ("malformed JSON, feedback", "/api/feedback", {"content": "not json", "headers": JSON}, 400),
    ("missing text", "/api/chat", {"json": {}}, 422),
    ("only a session", "/api/chat", {"json": {"session_id": GOOD_SESSION}}, 422),
    ("text and button", "/api/chat", {"json": {"text": "hi", "button": "help"}}, 422),
    ("text and button, stream", "/api/chat/stream", {"json": {"text": "hi", "button": "help"}}, 422),
    ("empty text", "/api/chat", {"json": {"text": ""}}, 422),
    ("blank text", "/api/chat/stream", {"json": {"text": "   \n "}}, 422),
    ("text not a string", "/api/chat", {"json": {"text": 42}}, 422),
    ("text too long", "/api/chat", {"json": {"text": "x" * 2049}}, 413),
    ("text too long, stream", "/api/chat/stream", {"json": {"text": "tekton " * 400}}, 413),
    ("button too long", "/api/chat", {"json": {"button": "b" * 3000}}, 413),
    ("session id with a path", "/api/chat", {"json": {"session_id": "../x", "text": "hi"}}, 422),
    ("session id with a path, start", "/api/chat/start", {"json": {"session_id": "../../etc/passwd"}}, 422),
    ("session id too short", "/api/chat/stream", {"json": {"session_id": "abc", "text": "hi"}}, 422),
    ("rating meh", "/api/feedback", {"json": {"session_id": GOOD_SESSION, "message_id": "m1", "rating": "meh"}}, 422),
    ("feedback without rating", "/api/feedback", {"json": {"session_id": GOOD_SESSION, "message_id": "m1"}}, 422),
    ("feedback bad session", "/api/feedback", {"json": {"session_id": "../x", "message_id": "m1", "rating": "up"}},
     422),
    ("comment too long", "/api/feedback",
     {"json": {"session_id": GOOD_SESSION, "message_id": "m1", "rating": "up", "comment": "c" * 2001}}, 422),
    ("JSON array", "/api/chat", {"json": [1, 2]}, 422),
    ("JSON array, start", "/api/chat/start", {"json": [1, 2]}, 422),
    ("JSON string", "/api/chat/stream", {"json": "posts about tekton"}, 422),
    ("JSON null", "/api/chat", {"content": "null", "headers": JSON}, 422),
    ("text/plain body", "/api/chat", {"content": "posts about tekton", "headers": {"Content-Type": "text/plain"}},
     422),
    ("form body", "/api/chat", {"data": {"text": "posts about tekton"}}, 422),
    ("body over 64 KB", "/api/chat", {"json": {"text": "hi", "padding": "x" * 70_000}}, 413),
    ("body over 64 KB, feedback", "/api/feedback",
     {"json": {"session_id": GOOD_SESSION, "message_id": "m1", "rating": "up", "comment": "c" * 70_000}}, 413),
]


@pytest.mark.parametrize("path, kwargs, status", [case[1:] for case in BAD_INPUTS],
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gets_a_json_error(client, path, kwargs, status):
    assert_json_error(client.post(path, **kwargs), status)


def test_too_long_says_the_limit(client):
    assert "2048" in assert_json_error(client.post("/api/chat", json={"text": "x" * 2049}), 413)


def test_unknown_path_and_wrong_method_are_json_errors(client):
    assert_json_error(client.get("/api/nothing-here"), 404)
    assert_json_error(client.get("/api/chat"), 405)


# -- admission: rate limit and queue -------------------------------------------------------------------


def test_rate_limit_gives_429_with_retry_after(demo_engine, tmp_path_factory):
    limited = make_client(demo_engine, tmp_path_factory, rate_limit_per_minute=3, rate_limit_burst=3).client
    for _ in range(3):
        assert limited.post("/api/chat/start", json={}).status_code == 200
    refused = limited.post("/api/chat/start", json={})
    assert "too many requests" in assert_json_error(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    # every chat endpoint is limited, and the stream answers with JSON, not an event stream
    stream = limited.post("/api/chat/stream", json={"text": "hello"})
    assert_json_error(stream, 429)
    assert int(stream.headers["Retry-After"]) >= 1
    # ...while the health check is not
    assert limited.get("/healthz").status_code == 200


def test_a_full_queue_gives_503_with_retry_after(demo_engine, tmp_path_factory):
    busy = make_client(demo_engine, tmp_path_factory, workers=1, queue_size=0)
    release, freed = threading.Event(), threading.Event()
    holder = busy.app.state.pool.submit(release.wait, 60)      # the only worker, held
    try:
        for path, body in [("/api/chat/start", {}), ("/api/chat", {"text": "hello"}),
                           ("/api/chat/stream", {"text": "hello"})]:
            response = busy.client.post(path, json=body)
            assert "busy" in assert_json_error(response, 503)
            # One turn ahead of the only worker, at the 3 s a turn is assumed to take.
            assert 3 <= int(response.headers["Retry-After"]) <= 4
    finally:
        release.set()
        holder.add_done_callback(lambda _: freed.set())    # runs after the pool has counted the worker free
        assert freed.wait(30)
    assert holder.result() is True
    response = busy.client.post("/api/chat/start", json={})
    assert response.status_code == 200
    assert response.json()["messages"]


def test_one_client_cannot_fill_the_queue(demo_engine, tmp_path_factory):
    """Two turns of one client may wait; a third is refused at once, while another client still queues."""
    busy = make_client(demo_engine, tmp_path_factory, workers=1, queue_size=8, max_queue_wait_s=0)
    release = threading.Event()
    holder = busy.app.state.pool.submit(release.wait, 60)      # the only worker, held
    waiting = [threading.Thread(target=busy.client.post, args=("/api/chat",), kwargs={"json": {"text": "hello"}})
               for _ in range(2)]
    try:
        for thread in waiting:
            thread.start()
        deadline = time.monotonic() + 30
        while busy.app.state.pool.pending < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert busy.app.state.pool.pending == 3                # the holder and this client's two turns
        refused = busy.client.post("/api/chat", json={"text": "hello again"})
        assert "previous message" in assert_json_error(refused, 429)
        assert 3 <= int(refused.headers["Retry-After"]) <= 10   # within three turns of one worker, 3 s each
        other = TestClient(busy.app, client=("10.0.0.9", 5000))
        queued = threading.Thread(target=other.post, args=("/api/chat",), kwargs={"json": {"text": "hi"}})
        queued.start()
        while busy.app.state.pool.pending < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert busy.app.state.pool.pending == 4                # another client is still admitted
    finally:
        release.set()
    for thread in waiting + [queued]:
        thread.join(60)
    holder.result()


# -- CORS ---------------------------------------------------------------------------------------------


def preflight(client, origin):
    return client.options("/api/chat/stream", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "content-type"})


@pytest.fixture(scope="module")
def cors_client(demo_engine, tmp_path_factory):
    return make_client(demo_engine, tmp_path_factory, allowed_origins=[ALLOWED_ORIGIN]).client


def test_cors_preflight_allows_the_configured_origin_only(cors_client):
    allowed = preflight(cors_client, ALLOWED_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "content-type" in allowed.headers["access-control-allow-headers"].lower()

    other = preflight(cors_client, "https://evil.example.com")
    assert "access-control-allow-origin" not in other.headers

    answer = cors_client.post("/api/chat/start", json={}, headers={"Origin": ALLOWED_ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    answer = cors_client.post("/api/chat/start", json={}, headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in answer.headers


def test_no_cors_headers_without_allowed_origins(client):
    assert "access-control-allow-origin" not in preflight(client, ALLOWED_ORIGIN).headers
    response = client.post("/api/chat/start", json={}, headers={"Origin": ALLOWED_ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_cross_origin_widget_can_read_retry_after(demo_engine, tmp_path_factory):
    """Retry-After is not a CORS-safelisted header: a widget on the blog reads it only when exposed."""
    limited = make_client(demo_engine, tmp_path_factory, allowed_origins=[ALLOWED_ORIGIN],
                          rate_limit_per_minute=1, rate_limit_burst=1).client
    assert limited.post("/api/chat/start", json={}, headers={"Origin": ALLOWED_ORIGIN}).status_code == 200
    refused = limited.post("/api/chat/start", json={}, headers={"Origin": ALLOWED_ORIGIN})
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = refused.headers.get("access-control-expose-headers", "").lower()
    assert "retry-after" in exposed


# -- `blogbot serve` -----------------------------------------------------------------------------------


def start_serve(data_dir, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.Popen([str(BLOGBOT), "serve", "--port", str(port), "--data-dir", str(data_dir), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def wait_ready(process: subprocess.Popen, deadline_s: float = 240) -> str:
    """The output up to the line saying the server is ready (fails when the process ends first)."""
    lines = []
    found = threading.Event()

    def read():
        for line in process.stdout:
            lines.append(line)
            if "ready" in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(deadline_s):
        process.kill()
        pytest.fail(f"blogbot serve did not get ready: {''.join(lines)[-3000:]}")
    return "".join(lines)


def connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("blogbot serve did not stop on SIGTERM")


@pytest.mark.slow
def test_blogbot_serve_binds_localhost_and_honours_host(demo_index, demo_engine):
    # demo_engine first: the generator is converted into the index's models/ once, before the servers start
    default_port, other_port = free_port(), free_port()
    default = start_serve(demo_index, default_port)
    custom = start_serve(demo_index, other_port, "--host", "127.0.0.2")
    try:
        output = wait_ready(default)
        assert f"http://localhost:{default_port}/" in output
        assert httpx.get(f"http://127.0.0.1:{default_port}/healthz", timeout=10).status_code == 200
        page = httpx.get(f"http://127.0.0.1:{default_port}/", timeout=10)
        assert page.status_code == 200 and "/widget.js" in page.text
        assert not connects("127.0.0.2", default_port), "the default bind is 127.0.0.1 only"

        output = wait_ready(custom)
        assert f"http://127.0.0.2:{other_port}/" in output
        assert httpx.get(f"http://127.0.0.2:{other_port}/healthz", timeout=10).status_code == 200
        assert not connects("127.0.0.1", other_port), "--host 127.0.0.2 binds only there"
    finally:
        codes = [stop(default), stop(custom)]
    assert all(code in (0, -signal.SIGTERM) for code in codes), codes
    assert not connects("127.0.0.1", default_port)
