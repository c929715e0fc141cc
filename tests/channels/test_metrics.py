"""`GET /metrics` of the server app (bot/channels/server.build_app) on the demo blog: what readers did
shows up in Prometheus's format, as prometheus-client's own parser reads it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

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


@pytest.fixture(scope="module")
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
