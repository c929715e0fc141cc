"""Conversations in a real Redis, shared by replicas: a conversation goes on on another replica, two
replicas answering one sender at once lose no event, Redis going away gives an apology (and /readyz
503) and coming back needs nothing, keys expire, rate limits and Slack's retried events are shared."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from bot.channels.admission import RateLimiter
from bot.channels.slack.app import SeenEvents
from bot.channels.web.app import create_app
from bot.dialogue.engine import DialogEngine
from bot.dialogue.followups import load_followup_rules
from bot.dialogue.redis_store import SharedRedis
from bot.dialogue.sessions import GRACE_S
from bot.dialogue.tracker_store import Conversation, open_tracker_store
from helpers import TODAY


def replica(demo_engine, settings, url: str, tmp_path) -> DialogEngine:
    """A dialog engine with its own Redis client, as another `blogbot serve` process would have."""
    store = open_tracker_store(url, tmp_path, settings.dialog)
    return DialogEngine(demo_engine.config, demo_engine.nlu, demo_engine.actions, store, settings,
                        load_followup_rules(), today=TODAY)


def sender() -> str:
    return f"web:{uuid.uuid4().hex[:12]}"


def test_a_conversation_started_on_one_replica_goes_on_on_another(demo_engine, settings, redis_server, tmp_path):
    first, second = (replica(demo_engine, settings, redis_server.url, tmp_path) for _ in range(2))
    reader = sender()
    listing = first.respond(reader, "posts about kubernetes").messages[-1]
    followup = second.respond(reader, "summarize the second one")
    assert followup.new_session is False
    assert [c.permalink for c in followup.messages[-1].citations] == [listing.citations[1].permalink]
    assert first.respond(reader, "hello").context["last_intent"] == "greeting"


def test_two_replicas_answering_one_reader_at_once_lose_no_event(demo_engine, settings, redis_server, tmp_path):
    settings.dialog.history_events = 500
    replicas = [replica(demo_engine, settings, redis_server.url, tmp_path) for _ in range(2)]
    reader, errors = sender(), []

    def talk(engine, number):
        try:
            for turn in range(6):
                engine.respond(reader, f"hello {number}-{turn}")
        except Exception as exc:          # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(replicas[i % 2], i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    conversation = replicas[0].store.load(reader)
    said = sorted(e["text"] for e in conversation.events if e["event"] == "user")
    assert said == sorted(f"hello {n}-{t}" for n in range(4) for t in range(6))
    assert conversation.turns == 24


def test_redis_going_away_gives_an_apology_and_coming_back_needs_nothing(demo_assistant, settings, redis_server,
                                                                         tmp_path):
    engine = replica(demo_assistant.engine, settings, redis_server.url, tmp_path)
    app = TestClient(create_app(engine, settings, demo_assistant.feedback))
    reader = sender()
    assert engine.respond(reader, "hello").node == "greeting"
    assert app.get("/readyz").status_code == 200
    redis_server.stop()
    away = engine.respond(reader, "hello again")
    assert away.node == "store_unavailable"
    assert [m.text for m in away.messages] == [engine.config.messages["store_unavailable"]]
    ready = app.get("/readyz")
    assert ready.status_code == 503 and "conversation store" in ready.json()["reason"]
    chat = app.post("/api/chat", json={"session_id": reader.split(":")[1], "text": "hi"})
    assert chat.status_code == 503 and "conversation store" in chat.json()["error"]
    redis_server.start()             # same port, empty: the client reconnects by itself
    assert app.get("/readyz").status_code == 200
    back = engine.respond(reader, "hello")
    assert back.node == "greeting" and back.new_session is True


def test_conversations_expire_a_day_after_the_session_timeout(demo_engine, settings, redis_server, tmp_path):
    engine = replica(demo_engine, settings, redis_server.url, tmp_path)
    reader = sender()
    engine.respond(reader, "hello")
    ttl = redis.Redis.from_url(redis_server.url).ttl(f"{settings.dialog.redis_prefix}conversation:{reader}")
    assert settings.dialog.session_timeout_minutes * 60 + GRACE_S - 5 <= ttl <= settings.dialog.session_timeout_minutes * 60 + GRACE_S


def test_a_turn_that_lost_its_lease_adds_its_events_to_what_the_newer_turn_wrote(settings, redis_server, tmp_path):
    """The newer turn's state stands; the stale turn's own events (since it began) are added once."""
    settings.dialog.history_events = 4
    first, second = (open_tracker_store(redis_server.url, tmp_path, settings.dialog) for _ in range(2))
    reader = sender()
    old = [{"event": "user", "text": f"e{n}", "timestamp": float(n)} for n in range(1, 5)]
    with first.lease(reader):
        mine = Conversation(reader, events=old + [{"event": "user", "text": "mine", "timestamp": 10.0}], turns=5,
                            context={"topic": "stale"}, turn_started=10.0)
        first.client.delete(f"{settings.dialog.redis_prefix}lease:{reader}")     # the lease lapsed (a long pause)
        with second.lease(reader):
            second.save(Conversation(reader, events=old[2:] + [{"event": "user", "text": "theirs", "timestamp": 11.0}],
                                     turns=5, context={"topic": "newer"}))
        first.save(mine)
    kept = second.load(reader)
    assert [e["text"] for e in kept.events][-2:] == ["theirs", "mine"] and len(kept.events) <= 4
    assert [e["text"] for e in kept.events].count("e3") <= 1 and kept.context == {"topic": "newer"}
    assert kept.turns == 6


def test_rate_limits_and_slack_deliveries_are_shared_by_replicas(redis_server):
    one, other = (SharedRedis(redis.Redis.from_url(redis_server.url), "blogbot:") for _ in range(2))
    limiters = [RateLimiter(per_minute=6, burst=2, shared=client) for client in (one, other)]
    assert limiters[0].check("web:1.2.3.4") == 0 and limiters[1].check("web:1.2.3.4") == 0
    assert limiters[0].check("web:1.2.3.4") > 0 and limiters[1].check("web:1.2.3.4") > 0   # the bucket is one
    assert limiters[1].check("web:5.6.7.8") == 0
    seen = [SeenEvents(shared=client) for client in (one, other)]
    assert seen[0].first_time("Ev123") is True
    assert seen[1].first_time("Ev123") is False


@pytest.fixture(autouse=True)
def _no_leftover_threads():
    """Lease renewals end with their turns."""
    before = {t for t in threading.enumerate() if t.name == "lease-renewal"}
    yield
    assert not {t for t in threading.enumerate() if t.name == "lease-renewal"} - before


def test_redis_refusing_writes_gives_the_apology_and_readyz_says_so(demo_assistant, settings, redis_server, tmp_path):
    """Out of memory (or read-only after a failover): not only unreachable Redis is a store that fails."""
    engine = replica(demo_assistant.engine, settings, redis_server.url, tmp_path)
    app = TestClient(create_app(engine, settings, demo_assistant.feedback))
    admin = redis.Redis.from_url(redis_server.url)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", "1")
    turn = engine.respond(sender(), "hello")
    assert turn.node == "store_unavailable"
    assert app.get("/readyz").status_code == 503
    admin.config_set("maxmemory", "0")
    assert engine.respond(sender(), "hello").node == "greeting"


def test_a_turn_the_reader_leaves_while_redis_is_away_ends_quietly(demo_engine, settings, redis_server, tmp_path):
    engine = replica(demo_engine, settings, redis_server.url, tmp_path)
    turn = engine.handle(sender(), "posts about kubernetes")
    next(turn)                                   # the turn has begun (it holds its lease)
    redis_server.stop()
    turn.close()                                 # the reader hung up: nothing raised, nothing hangs


def test_a_slow_redis_does_not_stall_the_server(demo_assistant, settings, tmp_path):
    """Redis calls of the web routes run off the event loop: /healthz answers at once while requests
    wait on a Redis that accepts connections and never replies."""
    import socket
    import time

    import httpx
    import uvicorn

    from helpers import free_port

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    engine = replica(demo_assistant.engine, settings, url, tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine, settings, demo_assistant.feedback), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        while not server.started:
            time.sleep(0.05)
        chats = [threading.Thread(target=lambda: httpx.post(f"{base}/api/chat", timeout=30,
                                                            json={"session_id": "abcdefgh12", "text": "hi"}))
                 for _ in range(4)]
        for chat in chats:
            chat.start()
        time.sleep(0.3)
        assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        assert all(chat.is_alive() for chat in chats)     # answered while they still wait on Redis
        for chat in chats:
            chat.join(timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        silent.close()
