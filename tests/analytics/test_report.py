"""The report's figures from turn records (bot.analytics): grouping by meaning with the packaged
embedder, containment and coverage, conversations, the page's escaping, the digest, retention."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.analytics.clusters import group_questions
from bot.channels.slack.digest import digest_blocks
from bot.analytics.page import render_page
from bot.analytics.records import SqliteTurnStore, TurnRecord, TurnRecorder
from bot.analytics.report import build_report, conversations_of
from bot.dialogue.messages import BotMessage, TurnResult
from knowledge.answers.output import Citation
from knowledge.corpus.embedder import get_embedder
from knowledge.feedback import FeedbackStore

DAY = 86_400.0
T0 = 1_780_000_000.0        # 2026-05-28


@pytest.fixture(scope="module")
def encode(settings_module):
    return get_embedder(settings_module.embedder).encode


@pytest.fixture(scope="module")
def settings_module():
    from knowledge.settings import load_settings

    return load_settings()


def turn(text: str, ts: float = T0, sender: str = "a", abstained: bool | None = None, handoff: bool = False,
         cited: list[str] = (), channel: str = "web", message_id: str | None = None) -> TurnRecord:
    return TurnRecord(ts=ts, channel=channel, sender=sender, intent="ask_question", confidence=0.8,
                      answered=abstained is not None, abstained=bool(abstained), handoff=handoff, latency_s=0.5,
                      cited=[{"title": u, "url": u} for u in cited], message_ids=[message_id or f"m-{ts}-{sender}"],
                      text=text)


def test_differently_worded_questions_group_together_and_apart_from_others(encode, settings_module):
    questions = ["How do I bake sourdough bread at home?", "What's a good sourdough starter recipe?",
                 "sourdough: how long should the dough proof?", "how do I bake sourdough bread at home",
                 "How do I roll back a Kubernetes deployment?", "kubectl rollout undo: how does it work?",
                 "What is the capital of Australia?"]
    groups = group_questions(questions, encode, settings_module.analytics.cluster_distance)
    assert groups[0].count == 4 and "sourdough" in groups[0].label     # the repeated one counts twice
    assert groups[0].examples[0] == "How do I bake sourdough bread at home?"
    rollback = [g for g in groups if any("rollout" in q or "roll back" in q for q in g.questions)]
    assert len(rollback) == 1 and rollback[0].count == 2
    assert not any("sourdough" in q for g in groups[1:] for q in g.questions)


def test_containment_and_coverage(settings_module):
    turns = [turn("q1", sender="a", abstained=False, cited=["/p1"]),                  # contained
             turn("q2", sender="b", abstained=True),                                    # a gap
             turn("q3", sender="c", abstained=False, cited=["/p2"], message_id="down"),  # rated down
             turn("agent please", sender="d", handoff=True),                            # handed to a person
             turn("q5", ts=T0 + 8 * DAY, sender="a", abstained=False, cited=["/p1"])]   # another week
    ratings = [{"rating": "down", "message_id": "down", "comment": None, "created_at": T0},
               {"rating": "up", "message_id": "m-x", "comment": "great", "created_at": T0}]
    report = build_report(turns, ratings, settings_module, None)
    assert report["conversations"] == 5 and report["messages"] == 5
    assert report["containment_rate"] == 0.4
    assert report["coverage"]["rate"] == 0.75 and [w["rate"] for w in report["coverage"]["per_week"]] == [0.667, 1.0]
    assert report["cited_posts"][0] == {"title": "/p1", "url": "/p1", "count": 2}
    assert report["feedback"]["rated_down_posts"] == [{"title": "/p2", "url": "/p2", "count": 1}]
    assert report["feedback"]["up"] == 1 and report["feedback"]["comments"][0]["comment"] == "great"


def test_a_pause_longer_than_the_session_timeout_starts_a_new_conversation():
    turns = [turn("a", ts=T0), turn("b", ts=T0 + 60), turn("c", ts=T0 + 60 + 3601), turn("d", ts=T0, channel="slack")]
    assert [len(c) for c in conversations_of(turns, 3600)] == [2, 1, 1]


def test_an_empty_report_renders(settings_module):
    report = build_report([], [], settings_module, None)
    assert report["conversations"] == 0 and report["coverage"]["rate"] is None and report["period"]["since"] is None
    page = render_page(report)
    assert "None in this period" in page and "<svg" not in page
    blocks, text = digest_blocks(report)
    assert "0 conversations" in text and blocks[0]["type"] == "header"


def test_readers_text_is_escaped_on_the_page_and_in_the_digest(encode, settings_module):
    evil = "<script>alert(1)</script> <@U123> how do I bake sourdough?"
    report = build_report([turn(evil, abstained=True)], [], settings_module, encode)
    page = render_page(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
    blocks, _ = digest_blocks(report)
    assert "<@U123>" not in str(blocks) and "&lt;@U123&gt;" in str(blocks)


def test_a_turn_record_keeps_text_only_when_asked():
    message = BotMessage("From my post: use tkn.", citations=[Citation("Tekton", "https://b/tekton/", "/tekton/")],
                         abstained=False)
    result = TurnResult("reader-1", "how do I start tekton?", "ask_question", 0.9, [], [message], {}, "answer")
    kept = TurnRecord.of_turn("web", result, 1.2, 0.3, store_text=True)
    dropped = TurnRecord.of_turn("web", result, 1.2, 0.3, store_text=False)
    assert kept.text == "how do I start tekton?" and "tkn" in kept.answer
    assert dropped.text is None and dropped.answer is None and dropped.cited == kept.cited
    assert kept.sender != "reader-1" and len(kept.sender) == 16


def test_the_recorder_drops_what_is_older_than_the_retention(tmp_path, settings_module):
    settings = dataclasses.replace(settings_module, analytics=dataclasses.replace(settings_module.analytics,
                                                                                 retention_days=30))
    store, feedback = SqliteTurnStore(tmp_path), FeedbackStore(tmp_path)
    store.add([turn("old", ts=time.time() - 31 * DAY), turn("recent", ts=time.time() - 29 * DAY)])
    recorder = TurnRecorder(store, feedback, settings)
    result = TurnResult("r", "new question", None, 0.0, [], [], {}, None)
    recorder.turn("web", result, 0.1)
    recorder.flush()
    assert [t.text for t in store.between()] == ["recent", "new question"]
    recorder.close()


def test_a_readers_last_rating_of_an_answer_counts_once(settings_module):
    turns = [turn("q", abstained=False, cited=["/p"], message_id="m1")]
    ratings = [{"id": 1, "session_id": "s", "message_id": "m1", "rating": "down", "comment": None, "created_at": T0},
               {"id": 2, "session_id": "s", "message_id": "m1", "rating": "down", "comment": None, "created_at": T0 + 1},
               {"id": 3, "session_id": "s", "message_id": "m1", "rating": "up", "comment": None, "created_at": T0 + 2}]
    report = build_report(turns, ratings, settings_module, None)
    assert (report["feedback"]["up"], report["feedback"]["down"]) == (1, 0) and report["containment_rate"] == 1.0
    report = build_report(turns, ratings[:2], settings_module, None)
    assert report["feedback"]["down"] == 1 and report["feedback"]["rated_down_posts"][0]["count"] == 1


def test_csv_cells_are_never_formulas():
    from bot.analytics.report import csv_rows

    rows = list(csv_rows([turn("=HYPERLINK(\"http://x\")"), turn("@SUM(A1)"), turn("how do I -1?")]))
    assert rows[0][3] == "from_reader"
    assert [r[-1] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "how do I -1?"]


def test_a_question_with_dollar_signs_draws(encode, settings_module):
    report = build_report([turn("$\\a$ what is $x$", abstained=True)], [], settings_module, encode)
    assert "<svg" in render_page(report)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_stores_return_a_period_from_since_to_before_until(kind, tmp_path, request):
    from bot.analytics.records import RedisFeedbackStore, RedisTurnStore
    from bot.dialogue.redis_store import connect

    if kind == "sqlite":
        store, feedback = SqliteTurnStore(tmp_path), FeedbackStore(tmp_path, keep_text=False)
    else:
        client = connect(request.getfixturevalue("redis_server").url)
        store, feedback = RedisTurnStore(client, "t:"), RedisFeedbackStore(client, "t:", keep_text=False)
    store.add([turn("first", ts=T0), turn("second", ts=T0 + 10), turn("third", ts=T0 + 20)])
    assert [t.text for t in store.between(T0, T0 + 20)] == ["first", "second"]
    assert [t.text for t in store.between(T0 + 10)] == ["second", "third"]
    assert store.prune(T0 + 10) == 1 and [t.text for t in store.between()] == ["second", "third"]
    feedback.record("s", "down", "m1", comment="secret words", question="q", answer="a")
    assert feedback.between()[0]["comment"] is None and feedback.between()[0]["rating"] == "down"
    assert feedback.between(until=T0) == []
