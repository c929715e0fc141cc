"""The Slack app against a local fake Slack Web API, with events signed by the tests (the way
slack-bolt's own tests do): threaded answers with sources, DMs, follow-ups in a thread, buttons,
feedback, signatures, retries, rate limits and API errors; overload (the shared admission), readers'
markup echoed as text, malformed requests and text."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from bot.channels.admission import Admission, TurnPool
from bot.channels.slack.app import BUSY, UNREADABLE, create_slack_app
from bot.channels.slack.blocks import fallback_text, message_blocks, split_sections, to_mrkdwn
from bot.channels.slack.http import mount_slack
from bot.dialogue.messages import BotMessage, Button, Citation
from bot.channels.web.app import create_app
from knowledge.feedback import FeedbackStore
from knowledge.markup import escape_markdown
from knowledge.settings import load_settings
from slack_fake import FakeSlack

SECRET = "test-signing-secret"
BUSY_TEXT = re.compile(re.escape(BUSY).replace(re.escape("{seconds}"), r"[1-9][0-9]*") + "$")


@pytest.fixture(scope="module")
def slack(tmp_path_factory, demo_engine):
    feedback = FeedbackStore(tmp_path_factory.mktemp("slack-feedback"))
    with FakeSlack() as fake:
        web = create_app(demo_engine, load_settings(), feedback)
        mount_slack(web, create_slack_app(demo_engine, feedback, "xoxb-test", SECRET, fake.url, update_interval_s=0.2,
                                          admission=web.state.admission))     # Slack turns share the web's bounds
        with TestClient(web) as client:
            yield client, fake, feedback


@contextmanager
def slack_with(admission: Admission, demo_engine, tmp_path):
    """(client, fake Slack) of a web app whose Slack turns go through `admission`."""
    with FakeSlack() as fake:
        web = create_app(demo_engine, load_settings(), FeedbackStore(tmp_path))
        mount_slack(web, create_slack_app(demo_engine, FeedbackStore(tmp_path), "xoxb-test", SECRET, fake.url,
                                          admission=admission))
        with TestClient(web) as client:
            yield client, fake


def signed(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature,
            "Content-Type": "application/json"}


def event(kind: str, text: str, channel: str, ts: str | None = None, user: str | None = None,
          **fields) -> tuple[str, str]:
    """A signed-to-be event body and its ts; each event is from a new user unless `user` is given, so
    tests do not share a reader's admission share."""
    ts = ts or f"{time.time():.6f}"
    user = user or f"U{uuid.uuid4().hex[:8].upper()}"
    body = {"token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
            "event": {"type": kind, "user": user, "text": text, "ts": ts, "channel": channel, **fields}}
    return json.dumps(body), ts


def post_event(client, body: str, **headers):
    return client.post("/slack/events", content=body, headers={**signed(body), **headers})


def final_blocks(fake: FakeSlack, channel: str):
    """The blocks of the last chat.update (or chat.postMessage) with blocks in a channel."""
    def found(f):
        calls = [p for p in f.of("chat.update", channel=channel) + f.of("chat.postMessage", channel=channel)
                 if p.get("blocks")]
        return calls[-1] if calls else None
    return fake.wait_for(found)


def text_of(blocks: list[dict]) -> str:
    parts = []
    for block in blocks:
        if block.get("text"):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            parts.append(element.get("text", "") if isinstance(element.get("text"), str)
                         else element.get("text", {}).get("text", ""))
    return "\n".join(parts)


def test_a_mention_is_answered_in_its_thread_with_a_sources_block(slack):
    client, fake, _ = slack
    body, ts = event("app_mention", "<@UBOT> what is retrieval augmented generation?", "C-MENTION")
    response = post_event(client, body)
    assert response.status_code == 200                                   # acked at once
    reply = final_blocks(fake, "C-MENTION")
    placeholder = fake.of("chat.postMessage", channel="C-MENTION")[0]
    assert placeholder["thread_ts"] == ts                               # under the mention
    assert fake.of("reactions.add", channel="C-MENTION", timestamp=ts, name="eyes")
    assert reply.get("ts") and len(fake.of("chat.postMessage", channel="C-MENTION")) == 1   # the placeholder, updated
    drafts = [p for p in fake.of("chat.update", channel="C-MENTION") if not p.get("blocks")]
    assert drafts and drafts[0]["text"].startswith("From ") and drafts[0]["text"].endswith(" …")  # streamed first
    sources = [b for b in reply["blocks"] if b["type"] == "context"]
    assert sources and "https://blog.example.com/article/rag-basics/" in text_of(sources)
    assert any(b["type"] == "section" for b in reply["blocks"])
    feedback = [b for b in reply["blocks"] if b.get("block_id", "").startswith("feedback-")]
    assert [e["text"]["text"] for e in feedback[0]["elements"]] == ["👍", "👎"]


def test_a_direct_message_is_answered_in_the_dm(slack):
    client, fake, _ = slack
    body, _ = event("message", "do you have posts about tekton?", "D-DM", channel_type="im")
    assert post_event(client, body).status_code == 200
    reply = final_blocks(fake, "D-DM")
    assert "https://blog.example.com/article/tekton-pipelines/" in text_of(reply["blocks"])
    assert all(not p.get("thread_ts") for p in fake.of("chat.postMessage", channel="D-DM"))


def test_a_reply_in_the_thread_continues_the_conversation(slack):
    client, fake, _ = slack
    body, ts = event("app_mention", "<@UBOT> do you have posts about tekton?", "C-THREAD")
    post_event(client, body)
    fake.wait_for(lambda f: any("tekton-pipelines" in text_of(p.get("blocks") or [])
                                for p in f.of("chat.update", channel="C-THREAD")))
    follow, _ = event("message", "summarize the first one", "C-THREAD", thread_ts=ts, channel_type="channel")
    post_event(client, follow)
    summary = fake.wait_for(lambda f: [p for p in f.of("chat.update", channel="C-THREAD")
                                       if "Summary of" in text_of(p.get("blocks") or [])])
    assert "Tekton" in text_of(summary[0]["blocks"])
    assert all(p.get("thread_ts") == ts for p in fake.of("chat.postMessage", channel="C-THREAD"))


def test_a_thread_the_assistant_is_not_part_of_is_left_alone(slack):
    client, fake, _ = slack
    body, _ = event("message", "what is RAG?", "C-OTHER", thread_ts="1600000000.000100", channel_type="channel")
    post_event(client, body)
    time.sleep(1.5)
    assert not fake.of("chat.postMessage", channel="C-OTHER")


def test_pressing_a_button_continues_and_feedback_is_recorded(slack):
    client, fake, feedback = slack
    body, ts = event("app_mention", "<@UBOT> do you have posts about tekton?", "C-BUTTON")
    post_event(client, body)
    listing = fake.wait_for(lambda f: [p for p in f.of("chat.update", channel="C-BUTTON") if p.get("blocks")])[0]
    choices = [b for b in listing["blocks"] if b.get("block_id", "").startswith("choices-")][0]["elements"]
    assert choices[0]["text"]["text"] == "Summarize #1"
    action = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "channel": {"id": "C-BUTTON"},
              "message": {"ts": listing["ts"], "thread_ts": ts, "text": "Posts about tekton"},
              "actions": [{"action_id": choices[0]["action_id"], "block_id": "choices-x", "type": "button",
                           "value": choices[0]["value"]}]}
    form = "payload=" + urllib.parse.quote(json.dumps(action))
    headers = {**signed(form), "Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/slack/events", content=form, headers=headers).status_code == 200
    summary = fake.wait_for(lambda f: [p for p in f.of("chat.update", channel="C-BUTTON")
                                       if "Summary of" in text_of(p.get("blocks") or [])])
    rate = [b for b in summary[0]["blocks"] if b.get("block_id", "").startswith("feedback-")][0]["elements"][0]
    action["actions"] = [{"action_id": rate["action_id"], "block_id": "feedback-x", "type": "button",
                          "value": rate["value"]}]
    form = "payload=" + urllib.parse.quote(json.dumps(action))
    headers = {**signed(form), "Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/slack/events", content=form, headers=headers).status_code == 200
    fake.wait_for(lambda f: f.of("chat.postEphemeral", channel="C-BUTTON"))
    ratings = [r for r in feedback.all() if r["message_id"] == json.loads(rate["value"])["message_id"]]
    assert [r["rating"] for r in ratings] == ["up"]
    assert ratings[0]["session_id"] == f"slack:T1:C-BUTTON:{ts}"          # the conversation it belongs to


@pytest.mark.parametrize("headers", [
    lambda body: {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64},
    lambda body: signed(body, timestamp=int(time.time()) - 6 * 60),
    lambda body: signed(body, secret="another-secret"),
    lambda body: {"Content-Type": "application/json"},
    lambda body: {**signed(body), "X-Slack-Request-Timestamp": "soon"},
    lambda body: {**signed(body), "X-Slack-Request-Timestamp": "1e9"},
    lambda body: {k: v for k, v in signed(body).items() if k != "X-Slack-Request-Timestamp"},
], ids=["bad signature", "stale timestamp", "wrong secret", "unsigned", "non-numeric timestamp",
        "exponent timestamp", "missing timestamp"])
def test_unverified_requests_get_401_and_no_answer(slack, headers):
    client, fake, _ = slack
    channel = f"C-AUTH-{uuid.uuid4().hex[:6]}"
    body, _ = event("app_mention", "<@UBOT> hi", channel)
    assert client.post("/slack/events", content=body, headers=headers(body)).status_code == 401
    time.sleep(0.5)
    assert not fake.of("chat.postMessage", channel=channel)


def test_a_retried_event_is_answered_once(slack):
    client, fake, _ = slack
    body, _ = event("app_mention", "<@UBOT> hello", "C-RETRY")
    post_event(client, body)
    post_event(client, body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    post_event(client, body, **{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})
    final_blocks(fake, "C-RETRY")
    time.sleep(1.0)
    assert len(fake.of("chat.postMessage", channel="C-RETRY")) == 1


def test_bot_messages_and_edits_are_ignored(slack):
    client, fake, _ = slack
    for fields in ({"bot_id": "B2"}, {"subtype": "message_changed"}, {"subtype": "bot_message"}):
        body, _ = event("message", "posts about tekton", "D-IGNORED", channel_type="im", **fields)
        post_event(client, body)
    own, _ = event("message", "posts about tekton", "D-IGNORED", channel_type="im")
    own_body = json.loads(own)
    own_body["event"]["user"] = "UBOT"
    post_event(client, json.dumps(own_body))
    time.sleep(1.5)
    assert not fake.of("chat.postMessage", channel="D-IGNORED")


def test_a_rate_limited_call_is_retried_after_retry_after(slack):
    client, fake, _ = slack
    fake.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    body, _ = event("app_mention", "<@UBOT> hello", "C-429")
    started = time.monotonic()
    post_event(client, body)
    fake.wait_for(lambda f: len(f.of("chat.postMessage", channel="C-429")) >= 2)
    assert time.monotonic() - started >= 1.0                           # it waited as told
    assert final_blocks(fake, "C-429")


def test_slack_api_errors_are_logged_and_the_server_goes_on(slack, caplog):
    client, fake, _ = slack
    fake.fail_next("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
    body, _ = event("app_mention", "<@UBOT> hello", "C-GONE")
    post_event(client, body)
    fake.wait_for(lambda f: f.of("chat.postMessage", channel="C-GONE"))
    deadline = time.monotonic() + 30
    while "channel_not_found" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "channel_not_found" in caplog.text
    again, _ = event("app_mention", "<@UBOT> hello", "C-AFTER")
    assert post_event(client, again).status_code == 200
    assert final_blocks(fake, "C-AFTER")


def test_block_kit_rendering():
    message = BotMessage("**Bold** and [a post](https://blog.example.com/a/) <b>\n- one\n- two",
                         citations=[Citation("A <post>", "https://blog.example.com/a/", "/a/", 1),
                                    Citation("B", "https://blog.example.com/b/", "/b/", 2)],
                         buttons=[Button("None of the above", "/anything_else")], abstained=False)
    blocks = message_blocks(message)
    assert blocks[0]["text"]["text"] == "*Bold* and <https://blog.example.com/a/|a post> &lt;b&gt;\n• one\n• two"
    assert "<https://blog.example.com/b/|[2] B>" in blocks[1]["elements"][0]["text"]
    assert json.loads(blocks[2]["elements"][0]["value"])["payload"] == "/anything_else"
    with_sender = message_blocks(message, sender="slack:T1:C1:123.4")
    assert json.loads(with_sender[2]["elements"][0]["value"])["sender"] == "slack:T1:C1:123.4"
    long = split_sections(to_mrkdwn("word " * 2000))
    assert len(long) >= 4 and all(len(piece) <= 3000 for piece in long)


def test_not_configured_slack_endpoint_says_so(demo_index):
    from bot.assistant import build
    from bot.channels.server import build_app

    client = TestClient(build_app(build(demo_index, load_settings(), tracker_store="memory"), environ={}))
    response = client.post("/slack/events", content="{}")
    assert response.status_code == 404 and "SLACK_BOT_TOKEN" in response.json()["error"]


def test_socket_mode_without_tokens_is_a_clear_usage_error(tmp_path, demo_index):
    import os
    import subprocess

    from helpers import BLOGBOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    done = subprocess.run([str(BLOGBOT), "slack", "--socket", "--data-dir", str(demo_index)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "SLACK_APP_TOKEN" in done.stderr
    done = subprocess.run([str(BLOGBOT), "slack", "--data-dir", str(demo_index)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "/slack/events" in done.stderr


def test_when_every_worker_is_busy_slack_is_told_to_ask_again(tmp_path, demo_engine):
    pool = TurnPool(workers=1, queue_size=0)
    release = threading.Event()
    holder = pool.submit(release.wait, 60)                         # the only worker, held
    try:
        with slack_with(Admission(pool, 30, 10, 2), demo_engine, tmp_path) as (client, fake):
            body, ts = event("app_mention", "<@UBOT> hello", "C-BUSY")
            assert post_event(client, body).status_code == 200
            busy = fake.wait_for(lambda f: f.of("chat.postMessage", channel="C-BUSY"))
            assert BUSY_TEXT.match(busy[0]["text"]) and busy[0]["thread_ts"] == ts
    finally:
        release.set()
    holder.result()


def test_a_burst_of_mentions_is_bounded_and_each_is_seen_at_once(tmp_path, demo_engine):
    """12 readers mention the bot at once while the only worker is busy: every mention gets 👀 at
    once, 4 wait in the queue, the other 8 are told when to ask again; the 4 are answered later."""
    pool = TurnPool(workers=1, queue_size=4)
    release = threading.Event()
    holder = pool.submit(release.wait, 60)                         # the only worker, held
    try:
        with slack_with(Admission(pool, 30, 10, 2), demo_engine, tmp_path) as (client, fake):
            mentions = [event("app_mention", "<@UBOT> hello", "C-BURST", ts=f"1700000{n:03d}.000100")
                        for n in range(12)]
            posts = [threading.Thread(target=post_event, args=(client, body)) for body, _ in mentions]
            for post in posts:
                post.start()
            for post in posts:
                post.join()
            # Taken at once: the reactions do not wait for a worker (bolt's threads never wait for one).
            fake.wait_for(lambda f: len(f.of("reactions.add", channel="C-BURST", name="eyes")) == 12, timeout=15)
            busy = fake.wait_for(lambda f: len(f.of("chat.postMessage", channel="C-BURST")) >= 8 and
                                 f.of("chat.postMessage", channel="C-BURST"), timeout=15)
            assert len(busy) == 8 and all(BUSY_TEXT.match(p["text"]) for p in busy)
            assert pool.pending == 5                               # the holder and the 4 queued
            queued = {ts for _, ts in mentions} - {p["thread_ts"] for p in busy}
            assert len(queued) == 4
            release.set()
            fake.wait_for(lambda f: {p["thread_ts"] for p in f.of("chat.postMessage", channel="C-BURST")
                                     if p.get("text", "").startswith("_Looking")} == queued)
            fake.wait_for(lambda f: len([p for p in f.of("chat.update", channel="C-BURST") if p.get("blocks")]) == 4)
    finally:
        release.set()
    holder.result()


def test_one_slack_user_cannot_fill_the_queue(tmp_path, demo_engine):
    """A reader's two messages may wait; a third is refused at once though the queue has room, and
    another reader is still queued."""
    pool = TurnPool(workers=1, queue_size=8)
    release = threading.Event()
    holder = pool.submit(release.wait, 60)                         # the only worker, held
    try:
        with slack_with(Admission(pool, 30, 10, 2), demo_engine, tmp_path) as (client, fake):
            sent = []
            for n in range(3):
                body, ts = event("app_mention", "<@UBOT> hello", "C-SHARE", user="U-GREEDY")
                post_event(client, body)
                sent.append(ts)
                if n < 2:
                    fake.wait_for(lambda f: pool.pending == n + 2, timeout=15)
            refused = fake.wait_for(lambda f: f.of("chat.postMessage", channel="C-SHARE", thread_ts=sent[2]),
                                    timeout=15)
            assert BUSY_TEXT.match(refused[0]["text"]) and pool.pending == 3
            other, other_ts = event("app_mention", "<@UBOT> hello", "C-SHARE", user="U-OTHER")
            post_event(client, other)
            fake.wait_for(lambda f: pool.pending == 4, timeout=15)
            release.set()
            fake.wait_for(lambda f: len([p for p in f.of("chat.update", channel="C-SHARE") if p.get("blocks")]) == 3)
            answered = {p["thread_ts"] for p in fake.of("chat.postMessage", channel="C-SHARE")
                        if p["text"].startswith("_Looking")}
            assert answered == {sent[0], sent[1], other_ts}
    finally:
        release.set()
    holder.result()


def test_a_readers_links_and_mentions_are_echoed_as_text(slack):
    client, fake, _ = slack
    # As Slack delivers what the reader typed: `<b>` escaped by Slack, @channel as <!channel>, a
    # link made with Slack's formatting bar as <url|text>.
    topic = "[win a GPU](https://evil.example/phish) &lt;b&gt;x&lt;/b&gt; <!channel> <https://evil.example/x|free GPU>"
    body, ts = event("app_mention", f'<@UBOT> posts about "{topic}"', "C-HOSTILE")
    post_event(client, body)
    reply = final_blocks(fake, "C-HOSTILE")
    shown = text_of(reply["blocks"])
    assert "[win a GPU](https://evil.example/phish) &lt;b&gt;x&lt;/b&gt; &lt;!channel&gt; " \
           "&lt;https://evil.example/x|free GPU&gt;" in shown                      # as typed
    assert "[win a GPU](https://evil.example/phish) &lt;b&gt;x&lt;/b&gt; &lt;!channel&gt;" in reply["text"]
    assert "<" not in reply["text"] and "\\" not in reply["text"]            # plain notification text
    for call in fake.of("chat.postMessage", channel="C-HOSTILE") + fake.of("chat.update", channel="C-HOSTILE"):
        sent = json.dumps(call, ensure_ascii=False)
        assert "<https://evil.example" not in sent and "<!channel" not in sent
        assert "\\" not in call.get("text", "") + text_of(call.get("blocks") or [])   # escapes dropped


def test_block_kit_rendering_of_escaped_reader_text():
    hostile = "[win a GPU](https://evil.example/phish) <b>x</b> <!channel> **loud** <@U123> R&D"
    message = BotMessage(f"Posts about {escape_markdown(hostile)}:\n1. [A post](https://blog.example.com/a/?x=1&y=2) "
                         "**new** <!here>",
                         buttons=[Button(f"Summarize {escape_markdown('#1 <b>')}", "/summarize")])
    blocks = message_blocks(message)
    assert blocks[0]["text"]["text"] == (
        "Posts about [win a GPU](https://evil.example/phish) &lt;b&gt;x&lt;/b&gt; &lt;!channel&gt; **loud** "
        "&lt;@U123&gt; R&amp;D:\n1. <https://blog.example.com/a/?x=1&amp;y=2|A post> *new* &lt;!here&gt;")
    assert blocks[1]["elements"][0]["text"]["text"] == "Summarize #1 <b>"       # plain_text: no escapes
    assert fallback_text(message) == (
        "Posts about [win a GPU](https://evil.example/phish) &lt;b&gt;x&lt;/b&gt; &lt;!channel&gt; **loud** "
        "&lt;@U123&gt; R&amp;D: 1. A post new &lt;!here&gt;")
    assert to_mrkdwn("\\\\[a](https://blog.example.com/a/) \\*\\*b\\*\\* C:\\dir") == \
        "\\<https://blog.example.com/a/|a> **b** C:\\dir"
    # A filled-in $variable is escaped (escape_markdown); a link's address is read without the escapes.
    assert to_mrkdwn("[about](https://blog.example.com/my\\_page/)") == "<https://blog.example.com/my_page/|about>"


def test_a_malformed_body_gets_400_not_500(slack):
    client, fake, _ = slack
    for body in (b"\xff\xfe{", b"{not json", b"[1, 2]", b"null"):
        headers = {**signed(body.decode("latin-1")), "Content-Type": "application/json"}
        assert client.post("/slack/events", content=body, headers=headers).status_code in (400, 401)


def test_a_message_that_is_not_valid_unicode_is_answered_plainly(slack, caplog):
    client, fake, _ = slack
    body, ts = event("message", "posts about \ud800 tekton", "D-SURROGATE", channel_type="im")
    assert "\\ud800" in body                                                # as JSON can carry it
    assert post_event(client, body).status_code == 200
    reply = fake.wait_for(lambda f: f.of("chat.postMessage", channel="D-SURROGATE"))
    assert reply[0]["text"] == UNREADABLE
    assert fake.of("reactions.add", channel="D-SURROGATE", timestamp=ts)
    time.sleep(0.5)
    assert len(fake.of("chat.postMessage", channel="D-SURROGATE")) == 1 and "failed" not in caplog.text


def test_socket_mode_takes_events_through_its_own_admission(tmp_path, demo_engine):
    """Without the web server (`blogbot slack --socket`) the app bounds its turns with an Admission of
    its own, from the web settings."""
    from slack_bolt import BoltRequest

    with FakeSlack() as fake:
        app = create_slack_app(demo_engine, FeedbackStore(tmp_path), "xoxb-test", None, fake.url)
        body, ts = event("app_mention", "<@UBOT> hello", "C-SOCKET")
        app.dispatch(BoltRequest(body=json.loads(body), mode="socket_mode"))
        assert final_blocks(fake, "C-SOCKET")
        assert fake.of("reactions.add", channel="C-SOCKET", timestamp=ts, name="eyes")
