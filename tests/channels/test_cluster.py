"""The reference deployment (deploy/cluster.py: Redis, two `blogbot serve` replicas, nginx in front)
driven through nginx as readers would: a web conversation goes on across replicas and after one is
killed, Slack thread follow-ups and button clicks land on either replica, a retried Slack event is
answered once, and the replicas believe the client address only from nginx."""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.signature import SignatureVerifier

from helpers import REPO
from slack_fake import FakeSlack

sys.path.insert(0, str(REPO / "deploy"))
from cluster import Cluster  # noqa: E402

pytestmark = pytest.mark.slow
SECRET = "cluster-signing-secret"


@pytest.fixture(scope="module")
def cluster(demo_index):
    with FakeSlack() as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.url}
        with Cluster(demo_index, replicas=2, env=env) as running:
            yield running, slack


def web_turns(cluster: Cluster) -> list[float]:
    """Each live replica's count of web turns (its own /metrics, not through nginx)."""
    counts = []
    for port, process in zip(cluster.replica_ports, cluster.replicas):
        if process is None:
            continue
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        counts.append(sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                          if s.name == "blogbot_turns_total" and s.labels.get("channel") == "web"))
    return counts


def chat(cluster: Cluster, session: str | None, text: str) -> dict:
    response = httpx.post(f"{cluster.url}/api/chat", json={"session_id": session, "text": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def signed(body: str) -> dict:
    timestamp = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)}


def post_slack(cluster: Cluster, body: str, form: bool = False) -> httpx.Response:
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    return httpx.post(f"{cluster.url}/slack/events", content=body, timeout=30,
                      headers={**signed(body), "Content-Type": kind})


def slack_event(kind: str, text: str, channel: str, **fields) -> tuple[str, str]:
    ts = f"{time.time():.6f}"
    body = {"token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
            "event": {"type": kind, "user": f"U{uuid.uuid4().hex[:8].upper()}", "text": text, "ts": ts,
                      "channel": channel, **fields}}
    return json.dumps(body), ts


def blocks_text(call: dict) -> str:
    return json.dumps(call.get("blocks") or [])


def test_a_web_conversation_goes_on_across_replicas_and_after_one_dies(cluster):
    running, _ = cluster
    before = web_turns(running)
    listing = chat(running, None, "posts about kubernetes")
    session = listing["session_id"]
    second = listing["messages"][-1]["citations"][1]["permalink"]
    summary = chat(running, session, "summarize the second one")          # the other replica (round robin)
    assert summary["new_session"] is False
    assert [c["permalink"] for c in summary["messages"][-1]["citations"]] == [second]
    after = web_turns(running)
    assert all(now > then for now, then in zip(after, before)), (before, after)    # both replicas answered
    running.kill_replica(0)
    for text in ("summarize the first one", "hello"):          # nginx skips the dead replica
        turn = chat(running, session, text)
        assert turn["new_session"] is False
    assert turn["intent"] == "greeting"
    running.start_replica(0)


def test_slack_follow_ups_and_buttons_land_on_either_replica_and_a_retry_is_answered_once(cluster):
    running, slack = cluster
    body, ts = slack_event("app_mention", "<@UBOT> do you have posts about tekton?", "C-CLUSTER")
    assert post_slack(running, body).status_code == 200
    assert post_slack(running, body).status_code == 200          # Slack's retry, to the other replica
    listing = slack.wait_for(lambda f: [p for p in f.of("chat.update", channel="C-CLUSTER") if p.get("blocks")])[0]
    time.sleep(1.0)
    assert len(slack.of("chat.postMessage", channel="C-CLUSTER")) == 1           # one placeholder: answered once
    for _ in range(2):                 # two follow-ups in the thread: one per replica
        follow, _ = slack_event("message", "summarize the first one", "C-CLUSTER", thread_ts=ts, channel_type="channel")
        assert post_slack(running, follow).status_code == 200
        slack.wait_for(lambda f: len([p for p in f.of("chat.update", channel="C-CLUSTER")
                                      if "Summary of" in blocks_text(p)]) >= 1)
    summaries = slack.wait_for(lambda f: (lambda s: s if len(s) >= 2 else None)(
        [p for p in f.of("chat.update", channel="C-CLUSTER") if "Summary of" in blocks_text(p)]))
    assert all("Tekton" in blocks_text(s) for s in summaries)
    choices = [b for b in listing["blocks"] if b.get("block_id", "").startswith("choices-")][0]["elements"]
    action = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "channel": {"id": "C-CLUSTER"},
              "message": {"ts": listing["ts"], "thread_ts": ts, "text": "Posts about tekton"},
              "actions": [{"action_id": choices[0]["action_id"], "block_id": "choices-x", "type": "button",
                           "value": choices[0]["value"]}]}
    form = "payload=" + urllib.parse.quote(json.dumps(action))
    assert post_slack(running, form, form=True).status_code == 200
    slack.wait_for(lambda f: (lambda s: s if len(s) >= 3 else None)(
        [p for p in f.of("chat.update", channel="C-CLUSTER") if "Summary of" in blocks_text(p)]))


def test_replicas_believe_the_client_address_from_nginx_only(cluster):
    """A reader cannot dodge the rate limit by sending their own X-Forwarded-For: nginx replaces it."""
    running, _ = cluster
    statuses = [httpx.post(f"{running.url}/api/chat", json={"text": "hi"}, timeout=30,
                           headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(40)]
    assert 429 in statuses           # one client (127.0.0.1 as nginx saw it), past web.rate_limit_burst


def test_the_compose_files_nginx_configuration_is_valid(tmp_path):
    """deploy/compose.yml is not run here (no container engine): its nginx configuration is checked by
    nginx itself, with the compose services' names pointed at this machine."""
    import shutil
    import subprocess

    text = (REPO / "deploy" / "nginx.compose.conf").read_text()
    for service in ("blogbot-1", "blogbot-2"):
        text = text.replace(f"{service}:8000", "127.0.0.1:8000")
    text = text.replace("worker_processes 1;", f"worker_processes 1;\npid {tmp_path}/nginx.pid;")
    (tmp_path / "nginx.conf").write_text(text)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
