"""Answers with citations: real index (demo blog), real embedder, real local generator, fake remote endpoint."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time

import pytest

from knowledge.answering import AnswerComposer, Final, Token
from knowledge.evaluation import evaluate_answers, load_questions
from knowledge.generator import get_generator
from knowledge.settings import load_settings
from openai_fake import FakeOpenAI
from conftest import BLOGBOT, DEMO_QUESTIONS

PGVECTOR = "pgvector is an extension that adds a vector column type to PostgreSQL."


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def remote_settings(url: str, **changes):
    settings = load_settings()
    settings.generator.backend = "remote"
    settings.generator.remote.url = url
    settings.generator.remote.model = "fake"
    for key, value in changes.items():
        setattr(settings.generator, key, value)
    return settings


@pytest.fixture(scope="session")
def local_composer(demo_index):
    """The default configuration: local SmolLM2 (converted once into the session's data folder)."""
    return AnswerComposer(demo_index, load_settings())


@pytest.fixture(scope="session")
def offline_composer(demo_index):
    """A composer whose remote generator cannot be reached: every answer is extractive, fast."""
    return AnswerComposer(demo_index, remote_settings(f"http://127.0.0.1:{_closed_port()}/v1"))


@pytest.mark.parametrize("question, permalink", [
    ("How can I fine-tune a 7B model on a 12 GB graphics card?", "/article/lora-qlora-small-gpu/"),
    ("How do I read the logs of a Tekton pipeline run?", "/article/tekton-pipelines/"),
    ("Which vector store is an extension of PostgreSQL?", "/article/vector-databases-compared/"),
])
def test_local_model_answers_cite_the_right_post(local_composer, question, permalink):
    answer = local_composer.answer(question)
    assert not answer.abstained
    assert permalink in [c.permalink for c in answer.citations]
    assert "[1]" in answer.text
    assert answer.mode in ("generated", "extractive")
    assert "generation_s" in answer.timings     # the generator really ran


def test_uncovered_question_abstains_without_generating(local_composer):
    answer = local_composer.answer("How often should I feed my sourdough starter?")
    assert answer.abstained and answer.mode == "abstained"
    assert answer.citations == []
    assert "couldn't find" in answer.text
    assert "generation_s" not in answer.timings


def test_local_generator_streams_pieces_as_it_generates(local_composer):
    generator = local_composer.generator()
    messages = [{"role": "user", "content": "Write three sentences about Kubernetes."}]
    arrivals = []
    for piece in generator.stream(messages):
        arrivals.append((time.perf_counter(), piece))
    assert len(arrivals) >= 5
    assert arrivals[-1][0] - arrivals[0][0] > 0.1   # the first piece came well before the last
    assert "".join(p for _, p in arrivals).strip()


def test_broken_generator_configuration_falls_back_to_extractive(demo_index, caplog):
    settings = load_settings()
    settings.generator.model = "/nonexistent/model.gguf"
    composer = AnswerComposer(demo_index, settings)
    with caplog.at_level(logging.WARNING):
        answer = composer.answer("How do I read the logs of a Tekton pipeline run?")
    assert answer.mode == "extractive" and not answer.abstained
    assert "/article/tekton-pipelines/" in [c.permalink for c in answer.citations]
    assert answer.text.strip()
    assert any("generator unavailable" in r.getMessage() for r in caplog.records)


def test_citations_never_point_outside_the_retrieved_passages(offline_composer):
    for question in load_questions(DEMO_QUESTIONS):
        answer = offline_composer.answer(question["question"])
        retrieved = {h.post.permalink: h for h in offline_composer.retriever.search(question["question"], k=3)}
        for citation in answer.citations:
            assert citation.permalink in retrieved
            assert citation.passage in " ".join(
                " ".join(p.prose.split()) for p in retrieved[citation.permalink].passages) or citation.passage
        numbers = [c.number for c in answer.citations]
        assert numbers == list(range(1, len(numbers) + 1))
        for number in numbers:
            assert f"[{number}]" in answer.text
        if not answer.abstained:
            assert answer.citations, question["question"]


def test_remote_backend_streams_a_supported_answer():
    with FakeOpenAI() as fake:
        fake.reply = PGVECTOR + " It has nothing to do with the moon landing in 1969."
        fake.delay_s = 0.05
        settings = remote_settings(fake.url)
        import os
        os.environ["BLOGBOT_GENERATOR_API_KEY"] = "test-key"
        try:
            composer = AnswerComposer(_demo_dir(), settings)
            events = []
            for event in composer.stream_answer("Which vector store is an extension of PostgreSQL?"):
                events.append((time.perf_counter(), event))
        finally:
            del os.environ["BLOGBOT_GENERATOR_API_KEY"]
    tokens = [(t, e) for t, e in events if isinstance(e, Token)]
    final = events[-1][1]
    assert isinstance(final, Final)
    answer = final.answer
    assert answer.mode == "generated"
    assert "pgvector is an extension that adds a vector column type to PostgreSQL [1]." in answer.text
    assert "moon" not in answer.text                       # the unsupported sentence was dropped
    assert answer.citations[0].permalink == "/article/vector-databases-compared/"
    assert "".join(e.text for _, e in tokens) == answer.text
    assert tokens[0][0] < fake.sent_at[-1]                 # streamed before the server finished
    request = fake.requests[0]
    assert request["body"]["stream"] is True and request["auth"] == "Bearer test-key"
    assert "PostgreSQL" in request["body"]["messages"][-1]["content"]


_DEMO_DIR = {}


def _demo_dir():
    return _DEMO_DIR["path"]


@pytest.fixture(autouse=True)
def _remember_demo_dir(demo_index):
    _DEMO_DIR["path"] = demo_index


@pytest.mark.parametrize("status, delay, budget", [(500, 0.0, 10.0), (200, 0.5, 0.5)])
def test_remote_failure_or_timeout_gives_the_extractive_answer(demo_index, status, delay, budget, caplog):
    with FakeOpenAI() as fake:
        fake.status, fake.delay_s = status, delay
        fake.reply = "one two three four five six seven"
        composer = AnswerComposer(demo_index, remote_settings(fake.url, time_budget_s=budget))
        with caplog.at_level(logging.WARNING):
            answer = composer.answer("Which vector store is an extension of PostgreSQL?")
    assert answer.mode == "extractive"
    assert answer.citations and answer.text
    assert any("generation failed" in r.getMessage() for r in caplog.records)


def test_remote_backend_without_url_is_a_clear_error(demo_index):
    settings = load_settings()
    settings.generator.backend = "remote"
    with pytest.raises(Exception, match="remote.url"):
        get_generator(settings.generator, demo_index / "models")


def test_eval_answers_reports_every_figure(offline_composer):
    results = evaluate_answers(offline_composer, load_questions(DEMO_QUESTIONS))
    for key in ("citation_hit_rate", "keyword_recall", "abstention_rate_unanswerable", "false_abstention_rate",
                "support_rate", "first_token_s_p50", "first_token_s_p95", "total_s_p50", "total_s_p95"):
        assert key in results
    assert results["citation_hit_rate"] >= 0.8
    assert results["abstention_rate_unanswerable"] == 1.0
    assert results["false_abstention_rate"] == 0.0
    assert results["support_rate"] == 1.0      # extractive sentences are the passages' own


def test_cli_ask_json_and_jsonl(demo_index, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yml").write_text(
        f"generator:\n  backend: remote\n  remote:\n    url: http://127.0.0.1:{_closed_port()}/v1\n", encoding="utf-8")
    import shutil
    from conftest import REPO
    shutil.copy(REPO / "config" / "prompts.yml", config / "prompts.yml")
    env = {**__import__("os").environ, "BLOGBOT_CONFIG_DIR": str(config)}
    done = subprocess.run([str(BLOGBOT), "ask", "What constant k does reciprocal rank fusion use?", "--json",
                           "--data-dir", str(demo_index)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) >= {"question", "answer", "citations", "abstained", "timings"}
    assert answer["citations"][0]["permalink"] == "/article/hybrid-search-rrf/"
    assert set(answer["citations"][0]) == {"title", "url", "permalink"}
    assert {"first_token_s", "total_s"} <= set(answer["timings"])
    done = subprocess.run([str(BLOGBOT), "ask", "--jsonl", "--data-dir", str(demo_index)], env=env, timeout=300,
                          input="What is QLoRA?\n\nHow do I bake sourdough bread?\n", capture_output=True, text=True)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["abstained"] for line in lines] == [False, True]
    done = subprocess.run([str(BLOGBOT), "ask", "--data-dir", str(demo_index)], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stderr.startswith("error:")
