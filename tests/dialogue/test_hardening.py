"""Hostile input, readers who hang up, and stalled dependencies (the web channel, the dialogue
engine, the action client and the generator).

Real servers throughout: `blogbot serve` and `blogbot actions` as processes (the action server
stopped with SIGSTOP to stall it), a raw socket for slow and endless uploads, and an
OpenAI-compatible server on loopback that stops streaming mid-answer.
"""

from __future__ import annotations

import json
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from bot.dialogue.action_client import _POLL_S, ActionDeadlines, CircuitBreaker, HttpActionClient
from bot.channels.admission import Admission, Refused, TurnPool
from bot.dialogue.engine import DialogEngine
from bot.dialogue.config import load_dialog
from bot.dialogue.messages import BotMessage, Notice
from bot.dialogue.tracker_store import MemoryTrackerStore
from helpers import BLOGBOT, REPO, TODAY, count_model_steps, free_port, start_blogbot, stop_blogbot
from knowledge.settings import SettingsError, apply_overrides, load_settings
from openai_fake import FakeOpenAI

pytestmark = pytest.mark.slow     # real servers as processes, stalls and budgets

RAG_QUESTION = "what is retrieval augmented generation?"     # a generated answer on the demo blog
HOSTILE_LINK = "[win a GPU](https://evil.example/phish)"


def config_dir_with(tmp_path: Path, **sections) -> Path:
    """A copy of config/ whose settings.yml has these sections' keys replaced."""
    folder = tmp_path / "config"
    shutil.copytree(REPO / "config", folder)
    settings = yaml.safe_load((folder / "settings.yml").read_text())
    for section, values in sections.items():
        settings.setdefault(section, {}).update(values)
    (folder / "settings.yml").write_text(yaml.safe_dump(settings))
    return folder


# -- a real `blogbot serve` with tight limits ------------------------------------------------------------


@pytest.fixture(scope="module")
def served(demo_index, tmp_path_factory):
    """`blogbot serve` on the demo blog: one worker, one queue place, 1 s header and body deadlines,
    no rate or per-client limits (the tests play one client). Yields its base URL."""
    config = config_dir_with(tmp_path_factory.mktemp("served"), web={
        "workers": 1, "queue_size": 1, "max_queue_wait_s": 0, "header_timeout_s": 1, "body_timeout_s": 1, "turns_per_client": 0,
        "rate_limit_per_minute": 100_000, "rate_limit_burst": 100_000})
    port = free_port()
    env = {**os.environ, "BLOGBOT_CONFIG_DIR": str(config), "HF_HUB_OFFLINE": "1"}
    process = start_blogbot(["serve", "--data-dir", str(demo_index), "--port", str(port)],
                            f"http://127.0.0.1:{port}/healthz", env)
    yield f"http://127.0.0.1:{port}"
    stop_blogbot(process)


def read_response(sock: socket.socket, timeout_s: float) -> bytes:
    """What the server sends until it closes the connection (or `timeout_s` passes)."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_a_chunked_body_is_capped_while_it_streams_in(served):
    """A 300 MB chunked upload gets 413 after about the cap, not after the server has read it all."""
    port = int(served.rsplit(":", 1)[1])
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sent, answer = 0, b""
        while sent < 300 * 1024 * 1024:
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                answer = read_response(sock, 5)
                break
            if not writable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                answer = read_response(sock, 5)
                break
            sent += len(chunk)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 65536 bytes" in answer
    assert sent < 32 * 1024 * 1024, f"the client could send {sent} bytes before the refusal"


def test_a_client_that_never_finishes_its_headers_is_disconnected(served):
    port = int(served.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")        # and never the blank line
        started = time.monotonic()
        assert read_response(sock, 10) == b""
        assert time.monotonic() - started < 8          # closed at the 1 s deadline, not held
    with socket.create_connection(("127.0.0.1", port)) as sock:   # the same, dripping a byte a while
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(20):
                sock.sendall(b"X")
                time.sleep(0.5)
        assert time.monotonic() - started < 8


def test_a_body_that_does_not_arrive_in_time_gets_408(served):
    port = int(served.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"text\": ")
        answer = read_response(sock, 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_text_that_is_not_valid_unicode_is_refused_with_422_on_a_connection_that_lives_on(served):
    with httpx.Client(base_url=served, timeout=120) as client:
        for path, body in [("/api/chat", '{"text": "hello \\ud800"}'), ("/api/chat/stream", '{"text": "\\udfff"}'),
                           ("/api/chat", '{"button": "/find_posts\\ud800"}'),
                           ("/api/feedback", '{"session_id": "abcdefgh12", "message_id": "m1", "rating": "up", '
                                             '"comment": "\\ud800"}')]:
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 422, response.text
            assert "unicode" in response.json()["error"].lower()
        assert client.get("/healthz").status_code == 200       # the same keep-alive connection
        ok = client.post("/api/chat", json={"text": "hi 😀"})
        assert ok.status_code == 200 and ok.json()["messages"]


def test_readers_who_hang_up_free_the_worker_and_the_queue_at_once(served):
    """One worker and one queue place: two readers who drop their streams must not keep the next out."""
    dropped = []
    for _ in range(2):
        client = httpx.Client(base_url=served, timeout=60)
        stream = client.stream("POST", "/api/chat/stream", json={"text": RAG_QUESTION})
        response = stream.__enter__()
        assert response.status_code == 200
        next(response.iter_lines())          # the session event: the turn is queued or running
        dropped.append((client, stream))
    for client, stream in dropped:
        stream.__exit__(None, None, None)
        client.close()
    hung_up = time.monotonic()
    with httpx.Client(base_url=served, timeout=120) as client:
        while True:
            with client.stream("POST", "/api/chat/stream", json={"text": "hi"}) as response:
                if response.status_code == 200:
                    body = "".join(response.iter_text())
                    break
            assert response.status_code == 503
            # Kept, the two dropped answers would hold the only worker for several seconds each.
            assert time.monotonic() - hung_up < 4, "the dropped turns still hold the worker and the queue"
            time.sleep(0.1)
    assert "event: message" in body


def test_readyz_says_ready(served):
    assert httpx.get(f"{served}/readyz").json() == {"status": "ready"}


# -- cancelling a turn ---------------------------------------------------------------------------------


STEP_S = 0.05


def test_a_cancelled_turn_stops_the_generator_within_a_few_tokens(demo_assistant):
    demo_engine = demo_assistant.engine
    generator = demo_assistant.knowledge.composer.generator()
    cancel = threading.Event()
    steps = {"before": 0, "after": 0}
    # Only this turn's steps count: an earlier test's generation (a client that went away) may still
    # be finishing on the shared engine.
    with generator._lock:
        pass

    def count_step(*args):
        # Counted in model steps, not seconds: the shared CI machines are too noisy for a clock. Each
        # step is made to take at least STEP_S, so how many fit in the time the cancel takes to arrive
        # does not depend on how fast the engine or the machine is.
        steps["after" if cancel.is_set() else "before"] += 1
        time.sleep(STEP_S)
        if steps["before"] == 3:
            cancel.set()                    # the reader leaves while the model writes

    stop_counting = count_model_steps(generator, count_step)
    try:
        seen = list(demo_engine.handle("hardening-cancel", RAG_QUESTION, cancel))
        with generator._lock:               # the model's generation has ended
            pass
    finally:
        stop_counting()
    assert cancel.is_set()
    assert not any(isinstance(e, BotMessage) for e in seen)          # nobody to say the answer to
    # The dialog's action client looks at the reader's cancel every _POLL_S (0.1 s), and the model stops
    # at its next step after that: the steps that fit in one poll, plus the one running, may run
    # meanwhile. Left alone, it writes on to the end of its answer (57 more steps, measured before
    # the fix in 22f8c48).
    limit = 2 + math.ceil(_POLL_S / STEP_S)
    assert steps["after"] <= limit, f"the generator went on for {steps['after']} steps after the reader left"
    assert generator.settings.max_new_tokens > 10


# -- payloads and echoes -------------------------------------------------------------------------------


def test_a_typed_payload_is_text_but_an_offered_button_is_pressed(demo_engine):
    hostile = '/find_posts{"topic": "' + HOSTILE_LINK + ' <b>x</b>"}'
    typed = demo_engine.respond("hardening-typed", hostile)
    assert typed.confidence < 1.0                          # understood as text, not pressed as a button
    assert not any(e["entity"] == "topic" and "evil" in str(e["value"]) for e in typed.entities)
    said = "\n".join(m.text for m in typed.messages)
    assert "](https://evil.example" not in said and "<b>" not in said
    welcome = demo_engine.respond("hardening-offered", None)
    button = welcome.messages[-1].buttons[0]
    pressed = demo_engine.respond("hardening-offered", button.payload)
    assert pressed.node != "anything_else" and pressed.messages


def test_a_readers_words_that_the_bot_echoes_stay_text(demo_engine):
    turn = demo_engine.respond("hardening-echo", f'find posts about "{HOSTILE_LINK} <b>x</b>"')
    said = "\n".join(m.text for m in turn.messages)
    assert "\\[win a GPU\\]\\(https://evil.example/phish\\)" in said, said
    assert "](https://evil.example" not in said and "<b>" not in said


# -- stalled actions, slow and hanging generators -------------------------------------------------------


@pytest.fixture
def stalled_action_server(demo_index):
    """A real `blogbot actions` server; yields (webhook URL, process) and resumes it at the end."""
    port = free_port()
    process = start_blogbot(["actions", "--data-dir", str(demo_index), "--port", str(port)],
                            f"http://127.0.0.1:{port}/health")
    yield f"http://127.0.0.1:{port}/webhook", process
    process.send_signal(signal.SIGCONT)
    stop_blogbot(process)


def test_a_stalled_action_server_trips_the_breaker_and_turns_without_actions_never_wait(
        demo_engine, stalled_action_server, tmp_path):
    from fastapi.testclient import TestClient

    from bot.channels.web.app import create_app
    from knowledge.feedback import FeedbackStore

    endpoint, process = stalled_action_server
    settings = load_settings()
    breaker = CircuitBreaker(failures=2, cooldown_s=3)
    actions = HttpActionClient(endpoint, deadlines=ActionDeadlines(first_event_s=1, notice_s=0.5, total_s=20),
                               breaker=breaker)
    engine = DialogEngine(load_dialog(), demo_engine.nlu, actions, MemoryTrackerStore(), settings, today=TODAY)
    web = TestClient(create_app(engine, settings, FeedbackStore(tmp_path)))
    failed = load_dialog().messages["action_failed"]
    try:
        assert "Tekton" in "\n".join(m.text for m in engine.respond("stall-1", "posts about tekton").messages)
        process.send_signal(signal.SIGSTOP)
        for attempt in range(2):                    # each waits for the first-event deadline, no longer
            started = time.monotonic()
            turn = engine.respond(f"stall-{attempt}", "posts about tekton")
            assert turn.messages[-1].text == failed
            assert time.monotonic() - started < 5
        assert web.get("/readyz").status_code == 503
        started = time.monotonic()
        turn = engine.respond("stall-3", RAG_QUESTION)               # the breaker is open: at once
        assert turn.messages[-1].text == failed and time.monotonic() - started < 2
        started = time.monotonic()
        greeting = engine.respond("stall-4", "hi")                   # no action: never waits
        assert greeting.messages and greeting.messages[-1].text != failed and time.monotonic() - started < 2
        process.send_signal(signal.SIGCONT)
        time.sleep(3.2)                                              # the cooldown: one call tries again
        turn = engine.respond("stall-5", "posts about tekton")
        assert "Tekton" in turn.messages[-1].text
        assert web.get("/readyz").status_code == 200
    finally:
        process.send_signal(signal.SIGCONT)
        actions.close()


def test_a_hanging_remote_generator_is_abandoned_at_its_budget_and_the_extractive_answer_goes_out(
        demo_index, tmp_path):
    from bot.assistant import build

    with FakeOpenAI() as fake:
        fake.reply = "Retrieval augmented generation finds passages and then writes an answer from them."
        fake.hang_after = 2                      # two words, then nothing, the connection held open
        settings = apply_overrides(load_settings(), {
            "generator": {"backend": "remote", "time_budget_s": 2, "remote": {"url": fake.url, "timeout_s": 60}},
            "dialog": {"action_timeout_s": 8, "action_notice_s": 1}})
        engine = build(demo_index, settings, tracker_store="memory", today=TODAY).engine
        events = list(engine.handle("hanging-generator", RAG_QUESTION))
    notices = [e for e in events if isinstance(e, Notice)]
    answers = [e for e in events if isinstance(e, BotMessage)]
    assert fake.requests, "the remote generator was not asked"
    assert answers and answers[-1].citations and answers[-1].abstained is False, answers
    # The stream hangs for minutes and the action gives up at 8 s: only the budget got the answer out.
    assert answers[-1].text != load_dialog().messages["action_failed"]
    assert len(notices) == 1 and "longer than usual" in notices[0].text


def test_the_generator_budget_must_be_shorter_than_the_action_timeout():
    with pytest.raises(SettingsError, match="time_budget_s"):
        apply_overrides(load_settings(), {"generator": {"time_budget_s": 30}, "dialog": {"action_timeout_s": 30}})


# -- admission and sessions ------------------------------------------------------------------------------


def test_retry_after_is_the_expected_wait_spread_by_jitter():
    release = threading.Event()
    pool = TurnPool(workers=1, queue_size=3, typical_turn_s=2.0)
    admission = Admission(pool, rate_per_minute=0, burst=1, turns_per_client=0)
    held = [admission.submit(f"client-{n}", release.wait, 30) for n in range(4)]
    try:
        waits = []
        for n in range(40):
            with pytest.raises(Refused) as refused:
                admission.submit(f"late-{n}", lambda: None)
            assert refused.value.status == 503
            waits.append(refused.value.retry_after_s)
        # A place frees in about 2 s (one turn of the single worker); the 4 turns ahead take 8 s:
        # refused readers are told a moment in between, spread so they do not all return at once.
        assert min(waits) >= 2 and max(waits) <= 9
        assert len(set(waits)) >= 3               # refused readers do not all come back at once
        assert pool.expected_wait_s() == pytest.approx(8.0)
    finally:
        release.set()
    for future in held:
        future.result(10)
    assert pool.expected_wait_s() < 8.0           # measured turns (instant here) pull the estimate down


def test_a_turn_that_would_wait_longer_than_max_wait_is_refused_even_with_room_in_the_queue():
    release = threading.Event()
    now = [0.0]
    pool = TurnPool(workers=2, queue_size=8, typical_turn_s=1.0, clock=lambda: now[0], max_wait_s=1.2)
    admission = Admission(pool, rate_per_minute=0, burst=1, turns_per_client=0)
    # Two run at once, then each queued turn waits half a turn more: 0.5 s, 1.0 s, then 1.5 s > 1.2 s.
    held = [admission.submit(f"client-{n}", release.wait, 30) for n in range(4)]
    try:
        with pytest.raises(Refused) as refused:
            admission.submit("late", lambda: None)
        assert refused.value.status == 503 and pool.pending == 4
    finally:
        release.set()
    for future in held:
        future.result(10)
    # Turns measured shorter than guessed (0.05 s, the floor, here) let more wait within the limit.
    for _ in range(20):
        admission.submit("again", lambda: None).result(10)
    assert pool.place_frees_in_s() < 0.1             # the average turn came down from the 1 s guessed
    release.clear()
    held = [admission.submit(f"client-{n}", release.wait, 30) for n in range(10)]
    release.set()
    for future in held:
        future.result(10)


def test_a_cancelled_queued_turn_gives_its_place_back_at_once():
    release = threading.Event()
    pool = TurnPool(workers=1, queue_size=1)
    admission = Admission(pool, rate_per_minute=0, burst=1, turns_per_client=1)
    running = admission.submit("a", release.wait, 30)
    queued = admission.submit("b", lambda: "ran")
    with pytest.raises(Refused):
        admission.submit("c", lambda: None)
    assert queued.cancel()
    assert pool.pending == 1
    again = admission.submit("b", lambda: "ran")          # "b" is no longer counted in flight either
    release.set()
    assert running.result(10) is True and again.result(10) == "ran"


def test_expired_conversations_are_pruned_while_the_engine_runs(demo_engine):
    now = [1_000_000.0]
    store = MemoryTrackerStore()
    engine = DialogEngine(load_dialog(), demo_engine.nlu, demo_engine.actions, store, load_settings(),
                          clock=lambda: now[0], today=TODAY)
    engine.respond("old-reader", "hi")
    assert store.load("old-reader") is not None
    now[0] += 3 * 86400                                       # three days later, someone else talks
    engine.respond("new-reader", "hi")
    assert store.load("old-reader") is None and store.load("new-reader") is not None


# -- the command line ------------------------------------------------------------------------------------


def test_the_command_line_refuses_text_that_is_not_valid_unicode(demo_index):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([str(BLOGBOT).encode(), b"parse", b"caf\xff", b"--data-dir", str(demo_index).encode()],
                          env=env, capture_output=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().startswith("error: text: the text is not valid Unicode")
    done = subprocess.run([str(BLOGBOT), "parse", "--jsonl", "--data-dir", str(demo_index)], env=env,
                          input=b"caf\xff\nhello\n", capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert "not valid Unicode" in lines[0]["error"] and lines[1]["intent"]
