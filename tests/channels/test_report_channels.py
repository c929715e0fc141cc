"""What readers asked, recorded from real conversations through the web API and Slack (a local fake
Slack Web API, signed events) and read back by /admin, `blogbot report` and the Slack digest, on
SQLite and on a real Redis: a content gap of differently worded questions, a rated-down answer, the
token that guards /admin, text not kept when the setting says so, an empty report."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from bot.analytics.records import (RedisFeedbackStore, RedisTurnStore, SqliteTurnStore, TurnRecorder,
                                   open_feedback_store)
from bot.channels.metrics import Metrics
from bot.channels.slack.app import create_slack_app
from bot.channels.slack.http import mount_slack
from bot.channels.web.app import create_app
from bot.dialogue.redis_store import connect
from helpers import run_blogbot
from knowledge.corpus.embedder import get_embedder
from knowledge.feedback import FeedbackStore
from knowledge.settings import load_settings
from slack_fake import FakeSlack
from test_slack import SECRET, event, final_blocks, post_event

TOKEN = "admin-token-for-tests-0123456789abcdef"
ORIGIN = "https://blog.example.com"
# One topic the demo blog does not cover, worded four ways (the blog abstains: no post names Terraform).
GAP = ["How do I keep Terraform state in an S3 bucket?", "Where should my terraform state file live?",
       "terraform remote state locking, how?", "Can several people share one Terraform state safely?"]
COVERED = "How do I start a Tekton pipeline and follow the logs of the latest run?"


def settings_with(**analytics):
    settings = load_settings()
    web = dataclasses.replace(settings.web, rate_limit_per_minute=10_000, rate_limit_burst=10_000, turns_per_client=0,
                              allowed_origins=[ORIGIN])
    return dataclasses.replace(settings, web=web, analytics=dataclasses.replace(settings.analytics, **analytics))


def served(engine, settings, recorder, admin_token=TOKEN, fake=None):
    """A TestClient of the web app (and Slack, with `fake`) recording turns with `recorder`."""
    metrics = Metrics(recorder=recorder)
    app = create_app(engine, settings, recorder.feedback, metrics=metrics, admin_token=admin_token)
    if fake is not None:
        mount_slack(app, create_slack_app(engine, recorder.feedback, "xoxb-test", SECRET, fake.url, update_interval_s=0.2,
                                          admission=app.state.admission, metrics=metrics))
    return TestClient(app)


def converse(client: TestClient) -> str:
    """The gap questions in one web conversation, the covered question in another, rated down; the
    id of the rated-down message."""
    session = None
    for question in GAP:
        reply = client.post("/api/chat", json={"text": question, "session_id": session}).json()
        session = reply["session_id"]
        assert reply["messages"], question
    reply = client.post("/api/chat", json={"text": COVERED}).json()
    answer = [m for m in reply["messages"] if m["citations"]][0]
    rated = client.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": answer["id"],
                                               "rating": "down", "comment": "the terraform part is missing"})
    assert rated.status_code == 201
    return answer["id"]


def wait_for_records(store, count: int) -> None:
    """Until `count` turns are recorded (a channel records a turn after its reader has the answer)."""
    deadline = time.monotonic() + 30
    while len(store.between()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(store.between()) == count


@pytest.fixture(scope="module")
def recorded(demo_engine, tmp_path_factory):
    """A web app and Slack recording to SQLite as `blogbot serve` does (each question's embedding
    kept), after the conversations and one Slack question."""
    data_dir = tmp_path_factory.mktemp("analytics")
    settings = settings_with()
    recorder = TurnRecorder(SqliteTurnStore(data_dir), FeedbackStore(data_dir), settings,
                            get_embedder(settings.embedder).encode)
    with FakeSlack() as fake:
        with served(demo_engine, settings, recorder, fake=fake) as client:
            converse(client)
            body, _ = event("app_mention", "<@UBOT> what is the best way to store terraform state?", "C-GAP")
            assert post_event(client, body).status_code == 200
            final_blocks(fake, "C-GAP")
            wait_for_records(recorder.store, 6)
            assert all(t.vector for t in recorder.store.between())
            yield client, data_dir, recorder


def test_differently_worded_questions_on_an_uncovered_topic_form_one_gap(recorded):
    client, _, _ = recorded
    report = client.get("/admin/report.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    gaps = report["content_gaps"]
    assert gaps and "terraform" in gaps[0]["label"].lower()
    assert gaps[0]["count"] == 5                     # four from the web, one from Slack
    assert all("terraform" in e.lower() for e in gaps[0]["examples"])
    assert report["per_channel"]["web"]["conversations"] == 2 and report["per_channel"]["slack"]["messages"] == 1
    assert report["coverage"]["questions"] == 6 and report["coverage"]["answered"] == 1
    assert report["containment_rate"] == 0.0        # every conversation had a gap or a rated-down answer
    assert report["latency"]["turn_s"]["p50"] > 0


def test_a_rated_down_answer_shows_with_its_post_and_comment(recorded):
    client, _, _ = recorded
    report = client.get("/admin/report.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    feedback = report["feedback"]
    assert feedback["down"] == 1 and feedback["up"] == 0
    assert any("tekton" in p["url"] for p in feedback["rated_down_posts"])
    assert feedback["rated_down_answers"][0]["question"] == COVERED
    assert feedback["comments"][0]["comment"] == "the terraform part is missing"
    assert any("tekton" in p["url"] for p in report["cited_posts"])


def test_the_admin_page_needs_the_token(recorded):
    client, _, _ = recorded
    refused = client.get("/admin")
    assert refused.status_code == 401 and "<form" in refused.text and "terraform" not in refused.text.lower()
    assert client.get("/admin", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/admin/report.json").status_code == 401
    assert client.get("/admin/turns.csv", headers={"Authorization": "Basic " + TOKEN}).status_code == 401
    page = client.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200 and "<svg" in page.text and "Terraform" in page.text
    assert page.headers["cache-control"] == "no-store" and "script" not in page.text.lower()


def test_the_login_form_sets_an_http_only_cookie_that_is_not_the_token(demo_engine, tmp_path):
    settings = settings_with()
    recorder = TurnRecorder(SqliteTurnStore(tmp_path), FeedbackStore(tmp_path), settings)
    with served(demo_engine, settings, recorder) as client:
        wrong = client.post("/admin/login", data={"token": "guess"}, follow_redirects=False)
        assert wrong.status_code == 401 and "not the admin token" in wrong.text
        signed_in = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and TOKEN not in cookie
        page = client.get("/admin")                 # the client keeps the cookie
        assert page.status_code == 200 and "Content gaps" in page.text
        client.post("/admin/logout", follow_redirects=False)
        assert client.get("/admin").status_code == 401


def test_the_widget_origins_cannot_read_admin(recorded):
    client, _, _ = recorded
    preflight = client.options("/admin/report.json", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    page = client.get("/admin/report.json", headers={"Origin": ORIGIN, "Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200 and "access-control-allow-origin" not in page.headers
    chat = client.options("/api/chat", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert chat.headers.get("access-control-allow-origin") == ORIGIN      # the widget still may


def test_a_short_admin_token_is_refused_at_start(demo_engine, tmp_path):
    settings = settings_with()
    recorder = TurnRecorder(SqliteTurnStore(tmp_path), FeedbackStore(tmp_path), settings)
    with pytest.raises(ValueError, match="at least 32 characters"):
        served(demo_engine, settings, recorder, admin_token="secret")


def test_wrong_tokens_meet_the_rate_limit(demo_engine, tmp_path):
    settings = settings_with()
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, rate_limit_per_minute=6,
                                                                     rate_limit_burst=3))
    recorder = TurnRecorder(SqliteTurnStore(tmp_path), FeedbackStore(tmp_path), settings)
    with served(demo_engine, settings, recorder) as client:
        statuses = [client.get("/admin", headers={"Authorization": f"Bearer guess-{n}"}).status_code for n in range(5)]
        assert statuses[:3] == [401] * 3 and statuses[-1] == 429
        assert client.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        client.cookies.set("blogbot_admin", "1.deadbeef", path="/admin")
        forged = client.get("/admin")
        assert forged.status_code in (401, 429) and "Content gaps" not in forged.text


def test_without_an_admin_token_there_is_no_admin_page(demo_engine, tmp_path):
    settings = settings_with()
    recorder = TurnRecorder(SqliteTurnStore(tmp_path), FeedbackStore(tmp_path), settings)
    with served(demo_engine, settings, recorder, admin_token=None) as client:
        assert client.get("/admin", headers={"Authorization": "Bearer "}).status_code == 404
        assert client.post("/admin/login", data={"token": ""}).status_code in (404, 405)


def test_blogbot_report_reads_what_serve_recorded(recorded, tmp_path):
    _, data_dir, _ = recorded
    result = run_blogbot("report", "--json", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "terraform" in report["content_gaps"][0]["label"].lower() and report["feedback"]["down"] == 1
    page = tmp_path / "report.html"
    csv_file = tmp_path / "turns.csv"
    result = run_blogbot("report", "--out", str(page), "--csv", str(csv_file), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "<svg" in page.read_text() and "http" not in page.read_text().split("<body>")[0]   # nothing fetched
    rows = csv_file.read_text().splitlines()
    assert rows[0].startswith("time,channel,sender") and len(rows) == 1 + 6     # six questions, one row each
    assert run_blogbot("report", "--since", "2026-13-01", "--data-dir", str(data_dir)).returncode == 2
    assert run_blogbot("report", "--until", "9999-12-31", "--data-dir", str(data_dir)).returncode == 2
    assert run_blogbot("report", "--data-dir", str(tmp_path / "typo")).returncode == 2
    to_stdout = run_blogbot("report", "--csv", "-", "--data-dir", str(data_dir))
    assert to_stdout.returncode == 0 and to_stdout.stdout.count("\n") == 7 and not to_stdout.stderr
    future = run_blogbot("report", "--json", "--since", "2100-01-01", "--data-dir", str(data_dir))
    assert json.loads(future.stdout)["messages"] == 0


def test_with_store_text_off_no_text_is_kept(demo_engine, tmp_path):
    settings = settings_with(store_text=False)
    recorder = TurnRecorder(SqliteTurnStore(tmp_path), open_feedback_store(tmp_path, settings), settings)
    with served(demo_engine, settings, recorder) as client:
        converse(client)
        recorder.flush()
        report = client.get("/admin/report.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert report["coverage"]["questions"] == 5 and report["feedback"]["down"] == 1     # figures stay
    assert report["content_gaps"] == [] and report["texts_kept"] is False
    for name in ("analytics.sqlite3", "feedback.sqlite3"):
        with sqlite3.connect(tmp_path / name) as conn:
            dumped = "\n".join(conn.iterdump()).lower()
        assert not any(text.lower().rstrip("?") in dumped for text in GAP + [COVERED]), name
        assert "the terraform part is missing" not in dumped, name


def test_an_empty_record_gives_an_empty_report(tmp_path):
    result = run_blogbot("report", "--json", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["conversations"] == 0 and report["messages"] == 0 and report["content_gaps"] == []
    assert report["coverage"]["rate"] is None and report["containment_rate"] is None
    assert run_blogbot("report", "--out", str(tmp_path / "r.html"), "--data-dir", str(tmp_path)).returncode == 0
    assert "None in this period" in (tmp_path / "r.html").read_text()


def test_the_report_and_digest_from_redis(demo_engine, redis_server, tmp_path):
    """Two replicas' worth of records in one Redis: the CLI reads them; the digest goes to Slack."""
    settings = settings_with()
    client_redis = connect(redis_server.url)
    recorder = TurnRecorder(RedisTurnStore(client_redis, "bb:"), RedisFeedbackStore(client_redis, "bb:"), settings)
    with served(demo_engine, settings, recorder) as client:
        converse(client)
        recorder.flush()
    env = {**os.environ, "BLOGBOT_DIALOG__TRACKER_STORE": redis_server.url, "BLOGBOT_DIALOG__REDIS_PREFIX": "bb:"}
    result = run_blogbot("report", "--json", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["content_gaps"][0]["count"] == 4 and report["feedback"]["down"] == 1
    assert not (tmp_path / "analytics.sqlite3").exists()
    with FakeSlack() as fake:
        result = run_blogbot("report", "--slack-channel", "C-DIGEST", "--data-dir", str(tmp_path),
                             env={**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url})
        assert result.returncode == 0, result.stderr
        posted = fake.of("chat.postMessage", channel="C-DIGEST")
    assert len(posted) == 1
    text = json.dumps(posted[0]["blocks"]).lower()
    assert "terraform" in text and "rated down" in text and "coverage 20%" in text   # the last 7 days by default
    assert all(b["text"].get("verbatim") for b in posted[0]["blocks"] if b["type"] == "section")
    assert run_blogbot("report", "--slack-channel", "C1", "--data-dir", str(tmp_path),
                       env={**env, "SLACK_BOT_TOKEN": ""}).returncode == 2
