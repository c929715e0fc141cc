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
from bot.dialogue.redis_store import GRACE_S, PREFIX
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
    assert chat.status_code in (200, 503)
    if chat.status_code == 200:
        assert chat.json()["messages"][0]["text"] == engine.config.messages["store_unavailable"]
    redis_server.start()             # same port, empty: the client reconnects by itself
    assert app.get("/readyz").status_code == 200
    back = engine.respond(reader, "hello")
    assert back.node == "greeting" and back.new_session is True


def test_conversations_expire_a_day_after_the_session_timeout(demo_engine, settings, redis_server, tmp_path):
    engine = replica(demo_engine, settings, redis_server.url, tmp_path)
    reader = sender()
    engine.respond(reader, "hello")
    ttl = redis.Redis.from_url(redis_server.url).ttl(f"{PREFIX}conversation:{reader}")
    assert settings.dialog.session_timeout_minutes * 60 + GRACE_S - 5 <= ttl <= settings.dialog.session_timeout_minutes * 60 + GRACE_S


def test_a_turn_that_lost_its_lease_adds_its_events_to_what_the_other_replica_wrote(settings, redis_server, tmp_path):
    first, second = (open_tracker_store(redis_server.url, tmp_path, settings.dialog) for _ in range(2))
    reader = sender()
    with first.lease(reader):
        mine = Conversation(reader, events=[{"event": "user", "text": "mine", "timestamp": 1.0}], turns=1)
        first.client.delete(f"{PREFIX}lease:{reader}")          # the lease lapsed (a long pause)
        with second.lease(reader):
            second.save(Conversation(reader, events=[{"event": "user", "text": "theirs", "timestamp": 2.0}], turns=1))
        first.save(mine)
    kept = second.load(reader)
    assert [e["text"] for e in kept.events] == ["theirs", "mine"]


def test_rate_limits_and_slack_deliveries_are_shared_by_replicas(redis_server):
    one, other = (redis.Redis.from_url(redis_server.url) for _ in range(2))
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
