"""`GET /metrics` of the server app (bot/channels/server.build_app) on the demo blog: what readers did
shows up in Prometheus's format, as prometheus-client's own parser reads it."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.analytics.records import hashed
from bot.channels.server import build_app
from knowledge.settings import apply_overrides


def scrape(client: TestClient) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def server(demo_assistant):
    """The server app of the demo assistant, with a rate limit of 3 requests a client."""
    settings = apply_overrides(demo_assistant.settings, {"web": {"rate_limit_per_minute": 1, "rate_limit_burst": 3}})
    return TestClient(build_app(dataclasses.replace(demo_assistant, settings=settings), environ={}))


def test_metrics_count_requests_turns_answers_feedback_and_refusals(server):
    before = scrape(server)
    greeted = server.post("/api/chat", json={"text": "hello"}).json()
    streamed = server.post("/api/chat/stream", json={"text": "what is retrieval augmented generation?",
                                                     "session_id": greeted["session_id"]})
    answer = next(json.loads(line[len("data: "):]) for line in streamed.text.splitlines()
                  if line.startswith("data: ") and '"abstained": false' in line)
    feedback = server.post("/api/feedback", json={"session_id": greeted["session_id"], "message_id": answer["id"],
                                                   "rating": "down"})
    assert feedback.status_code == 201
    assert server.post("/api/chat", json={"text": "hi"}).status_code == 429     # the fourth request
    after = scrape(server)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("blogbot_http_requests_total", route="/api/chat", method="POST", status="200") == 1
    assert grew("blogbot_http_requests_total", route="/api/chat", method="POST", status="429") == 1
    assert grew("blogbot_turns_total", channel="web") == 2
    assert grew("blogbot_turn_seconds_count", channel="web") == 2
    assert grew("blogbot_intents_total", intent="greeting") == 1
    assert grew("blogbot_answers_total", channel="web") == 1
    assert grew("blogbot_feedback_total", channel="web", rating="down") == 1
    assert grew("blogbot_refused_total", channel="web", status="429") == 1
    assert value(after, "blogbot_posts_indexed") > 0
    assert value(after, "blogbot_index_loads_total") >= 1
    assert value(after, "blogbot_index_updated_timestamp_seconds") > 1.7e9
    assert value(after, "blogbot_queue_depth") == 0 and value(after, "blogbot_generations_in_flight") == 0
    assert grew("blogbot_first_token_seconds_count", channel="web") == 1     # the streamed answer


def test_the_turn_log_has_one_json_line_per_turn_without_the_readers_text(server, caplog):
    with caplog.at_level(logging.INFO, logger="blogbot.turns"):
        answered = server.post("/api/chat", json={"text": "hello there, swordfish"}).json()
        for _ in range(4):
            server.post("/api/chat", json={"text": "hi"})          # past the burst of 3: refused
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "blogbot.turns"]
    turn = next(line for line in lines if line["event"] == "turn")
    assert turn["channel"] == "web" and turn["intent"] == "greeting" and turn["refused"] is False
    assert turn["latency_s"] >= 0 and turn["answered"] is False and turn["abstained"] is False
    assert turn["sender"] == hashed(f"web:{answered['session_id']}") and len(turn["sender"]) == 16
    assert any(line["event"] == "refused" and line["status"] == 429 for line in lines)
    assert "swordfish" not in caplog.text and answered["session_id"] not in caplog.text


def test_unknown_methods_and_paths_do_not_grow_the_metrics(server):
    for method in ("FOO1", "BAR2", "ZZZ3"):
        server.request(method, "/api/chat")
    server.get(f"/no/such/{uuid.uuid4().hex}")
    samples = scrape(server)
    methods = {dict(labels).get("method") for name, labels in samples if name == "blogbot_http_requests_total"}
    routes = {dict(labels).get("route") for name, labels in samples if name == "blogbot_http_requests_total"}
    assert "other" in methods and not methods & {"FOO1", "BAR2", "ZZZ3"}
    assert "(no route)" in routes and not any(r.startswith("/no/such") for r in routes)
