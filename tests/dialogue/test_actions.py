"""The actions over the rasa-sdk protocol: a real `blogbot actions` server against in-process
actions, the raw webhook, failures of the action server, and `blogbot chat`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from bot.dialogue.action_client import HttpActionClient
from bot.assistant import build
from bot.dialogue.engine import DialogEngine
from bot.dialogue.config import load_dialog
from bot.dialogue.followups import load_followup_rules
from bot.dialogue.messages import BotMessage, Token, TurnResult
from bot.dialogue.tracker_store import MemoryTrackerStore
from helpers import BLOGBOT, REPO, TODAY, free_port
from knowledge.settings import load_settings

pytestmark = pytest.mark.slow     # a `blogbot actions` server as a process

TEKTON = "/article/tekton-pipelines/"
RAG_QUESTION = "what is retrieval augmented generation?"
APOLOGY = load_dialog().messages["action_failed"]
ACTIONS = {"action_answer_question", "action_feedback", "action_find_posts", "action_latest_posts",
           "action_posts_by_date", "action_list_topics", "action_summarize_post"}


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def shown(result: TurnResult) -> list[tuple]:
    """What the reader sees of a turn: each message's text, cited permalinks and buttons."""
    return [(m.text, [(c.title, c.url, c.permalink) for c in m.citations], [(b.title, b.payload) for b in m.buttons])
            for m in result.messages]


def texts(result: TurnResult) -> list[str]:
    return [m.text for m in result.messages]


def rasa_payload(action: str, text: str = "what's new?", intent: str = "latest_posts") -> dict:
    sender = new_sender()
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {"sender_id": sender, "slots": {},
                    "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"},
        "domain": {"version": "3.1", "intents": [intent], "entities": [], "slots": {}, "responses": {},
                   "actions": [action], "forms": {}},
        "version": "3.21.1",
    }


@pytest.fixture(scope="module")
def remote(demo_index, demo_engine, action_server):
    """The assistant with its actions on the `blogbot actions` server."""
    return build(demo_index, load_settings(), tracker_store="memory", action_endpoint=action_server,
                 today=TODAY).engine


def engine_on(demo_engine, endpoint: str, timeout_s: float, dialog=None) -> DialogEngine:
    """The demo dialog (or another) with its actions on `endpoint`, sharing the session's NLU."""
    settings = load_settings()
    settings.dialog.action_timeout_s = timeout_s
    return DialogEngine(dialog or load_dialog(), demo_engine.nlu, HttpActionClient(endpoint, timeout_s),
                        MemoryTrackerStore(), settings, load_followup_rules(), today=TODAY)


# -- the same results both ways ------------------------------------------------------------------

CONVERSATION = ["posts about tekton", "summarize the first one", "what are the latest posts?", "posts from 2021"]


def test_http_and_in_process_actions_give_the_same_conversation(demo_engine, remote):
    local_sender, remote_sender = new_sender(), new_sender()
    for text in CONVERSATION:
        local = demo_engine.respond(local_sender, text)
        over_http = remote.respond(remote_sender, text)
        assert local.messages and over_http.messages and local.messages[0].citations, text
        assert APOLOGY not in texts(over_http), text
        assert shown(over_http) == shown(local), text
        assert over_http.intent == local.intent and over_http.node == local.node, text
        assert (over_http.context.get("knowledge_base_listed_objects")
                == local.context.get("knowledge_base_listed_objects")), text
        if text == "posts about tekton":
            assert over_http.messages[0].citations[0].permalink == TEKTON
        if text == "summarize the first one":
            assert over_http.messages[0].text.startswith("Summary of “Tekton Pipelines")

    # The topic list: same heading and the same count for each topic (the order of ties is
    # another matter: see test_list_topics_is_the_same_in_every_process).
    local = demo_engine.respond(local_sender, "what topics do you write about?").messages[0]
    over_http = remote.respond(remote_sender, "what topics do you write about?").messages[0]
    local_lines, http_lines = local.text.splitlines(), over_http.text.splitlines()
    assert http_lines[0] == local_lines[0] == "The blog writes most about:"
    assert http_lines[1] == local_lines[1] == "- llm (6)"
    assert len(http_lines) == len(local_lines)
    counts = {}
    for line in local_lines[1:] + http_lines[1:]:
        topic, count = line[2:].rsplit(" (", 1)
        assert counts.setdefault(topic, count) == count, line
    assert len(over_http.buttons) == len(local.buttons) == 5
    assert all(b.payload == f'/find_posts{{"topic": "{b.title}"}}' for b in over_http.buttons)


TOPICS_SCRIPT = """
import asyncio, sys
from actions import build_executor
from bot.assistant import build_knowledge
from knowledge.settings import load_settings
executor = build_executor(build_knowledge(sys.argv[1], load_settings()))
payload = {"next_action": "action_list_topics", "sender_id": "t", "version": "3.21.1", "domain": {},
           "tracker": {"sender_id": "t", "slots": {}, "events": [], "paused": False, "followup_action": None,
                       "active_loop": {}, "latest_action_name": "action_listen",
                       "latest_message": {"text": "topics?", "intent": {"name": "list_topics"}, "entities": []}}}
print(asyncio.run(executor.run(payload)).model_dump()["responses"][0]["text"])
"""


def test_list_topics_is_the_same_in_every_process(demo_index):
    runs = [subprocess.Popen([sys.executable, "-c", TOPICS_SCRIPT, str(demo_index)], cwd=REPO, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONHASHSEED=seed))
            for seed in ("0", "2")]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=180)
        assert run.returncode == 0, err[-2000:]
        outputs.append(out.strip())
    assert all(o.startswith("The blog writes most about:") for o in outputs), outputs
    assert outputs[0] == outputs[1], "the topic list depends on the process:\n" + "\n---\n".join(outputs)


def test_generated_answer_streams_over_http(demo_engine, remote):
    events = list(remote.handle(new_sender(), RAG_QUESTION))
    tokens = [e for e in events if isinstance(e, Token)]
    messages = [e for e in events if isinstance(e, BotMessage)]
    assert tokens, "no Token events arrived over /webhook/stream"
    assert events.index(tokens[-1]) < events.index(messages[-1])
    local = demo_engine.respond(new_sender(), RAG_QUESTION)
    assert [c.permalink for c in messages[-1].citations] == [c.permalink for c in local.messages[-1].citations]
    assert messages[-1].citations and messages[-1].abstained is False


# -- the raw protocol ----------------------------------------------------------------------------

def test_webhook_runs_latest_posts(action_server):
    response = httpx.post(action_server, json=rasa_payload("action_latest_posts"), timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert len(body["responses"]) == 1
    reply = body["responses"][0]
    assert reply["text"].startswith("The newest posts:")
    assert [b["payload"] for b in reply["buttons"]] == [f'/summarize_post{{"mention": "{n}"}}' for n in range(1, 6)]
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert slots["knowledge_base_listed_objects"] == [c["permalink"] for c in reply["custom"]["citations"]]
    assert slots["knowledge_base_listed_objects"][0] == "/2026/01/20/ai-agents-tool-calling/"
    # rasa-sdk's convention: after a list of several, no single post is "the last one"
    assert slots["knowledge_base_last_object"] is None


def test_actions_endpoint_lists_the_seven_actions(action_server):
    base = action_server.rsplit("/webhook", 1)[0]
    assert httpx.get(f"{base}/health", timeout=10).status_code == 200
    response = httpx.get(f"{base}/actions", timeout=10)
    assert response.status_code == 200
    assert {a["name"] for a in response.json()} == ACTIONS


@pytest.mark.parametrize("path", ["", "/stream"])
def test_unknown_action_is_404(action_server, path):
    response = httpx.post(action_server + path, json=rasa_payload("action_does_not_exist"), timeout=30)
    assert response.status_code == 404
    assert "action_does_not_exist" in response.text


def test_unknown_action_does_not_stop_streaming(demo_engine, action_server, tmp_path):
    path = tmp_path / "dialog.yml"
    path.write_text(yaml.safe_dump({"nodes": [
        {"id": "greeting", "condition": "#greeting", "action": "action_does_not_exist"},
        {"id": "ask_question", "condition": "anything_else", "action": "action_answer_question"}]}), encoding="utf-8")
    engine = engine_on(demo_engine, action_server, 60, load_dialog(path))
    sender = new_sender()
    assert texts(engine.respond(sender, "hi")) == [APOLOGY]
    events = list(engine.handle(sender, RAG_QUESTION))
    assert [e for e in events if isinstance(e, BotMessage)][-1].citations
    assert any(isinstance(e, Token) for e in events), "the answer came whole: no Token events after the 404"


# -- failures ------------------------------------------------------------------------------------

def test_closed_port_apologizes_and_the_next_turn_works(demo_index, demo_engine):
    settings = load_settings()
    settings.dialog.action_endpoint = f"http://127.0.0.1:{free_port()}/webhook"
    settings.dialog.action_timeout_s = 5
    engine = build(demo_index, settings, tracker_store="memory", today=TODAY).engine
    sender = new_sender()
    failed = engine.respond(sender, "posts about tekton")
    assert failed.intent == "find_posts"
    assert texts(failed) == [APOLOGY]
    assert texts(engine.respond(sender, "hi")) == ["Hello! Ask me anything about the blog, or ask for posts on a topic."]


class _Server:
    """A tiny HTTP server in a thread, answering every POST with `handle(handler)`."""

    def __init__(self, handle):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                handle(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/webhook"

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _slow(handler):
    time.sleep(3)
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"events": [], "responses": [{"text": "too late"}]}')
    except OSError:
        pass      # the client gave up


def _error(handler):
    handler.send_response(500)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b'{"error": "boom"}')


@pytest.mark.parametrize("handle", [_slow, _error], ids=["slower-than-the-timeout", "answers-500"])
def test_failing_action_server_apologizes(demo_engine, handle):
    with _Server(handle) as endpoint:
        engine = engine_on(demo_engine, endpoint, timeout_s=1)
        sender = new_sender()
        failed = engine.respond(sender, "posts about tekton")
        assert texts(failed) == [APOLOGY]
        assert "too late" not in " ".join(texts(failed))
        assert engine.respond(sender, "help").node == "help"


# -- blogbot chat --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chat_output(demo_index, tmp_path_factory):
    """`blogbot chat` on the demo index, fed "hi", "posts about tekton", "1"; conversations in memory."""
    config = tmp_path_factory.mktemp("chat-config")
    for source in (REPO / "config").iterdir():
        if source.is_file():
            (config / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    settings = yaml.safe_load((config / "settings.yml").read_text(encoding="utf-8"))
    settings["dialog"]["tracker_store"] = "memory"
    (config / "settings.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", BLOGBOT_CONFIG_DIR=str(config))
    result = subprocess.run([str(BLOGBOT), "chat", "--data-dir", str(demo_index), "--sender", new_sender()],
                            input="hi\nposts about tekton\n1\n", capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_chat_lists_sources_and_presses_a_button(chat_output):
    out = chat_output
    title = "Tekton Pipelines on Kubernetes: Tasks, Pipelines and PipelineRuns"
    url = "https://blog.example.com/article/tekton-pipelines/"
    assert "bot> Hello! Ask me anything about the blog" in out
    assert "bot> Posts about tekton:" in out
    sources = out.split("Sources:", 1)
    assert len(sources) == 2, out
    assert f"[1] {title} — {url}" in sources[1]
    assert "(1) Summarize #1" in out
    assert f"bot> Summary of “{title}”" in out     # "1" pressed the Summarize #1 button


def test_chat_opens_with_the_welcome(chat_output):
    first = chat_output.lstrip().splitlines()[0]
    assert first.startswith("bot> Hi! I answer questions about this blog"), f"first line: {first!r}"
