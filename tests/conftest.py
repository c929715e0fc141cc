"""Shared fixtures: settings, the demo-blog index (built once per session) and small tmp blogs."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
for _name in [n for n in os.environ if n.startswith("BLOGBOT_") and "__" in n]:
    del os.environ[_name]        # settings overrides of the developer's shell stay out of the tests
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from helpers import (CORPUS, DEMO_BLOG, TODAY, RedisServer, free_port, start_blogbot, stop_blogbot,  # noqa: E402
                     write_blog)
from knowledge.corpus.ingest import ingest  # noqa: E402
from knowledge.search.retrieval import Retriever  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402


@pytest.fixture
def settings():
    """Fresh settings from config/settings.yml (tests may change them)."""
    return load_settings()


@pytest.fixture
def redis_server(tmp_path):
    """A real Redis of this test's own on a free port (stopped at the end)."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def make_blog(tmp_path):
    """Factory: make_blog({name: text}, config=...) writes a Jekyll site under tmp_path and returns its root."""

    def make(posts: dict[str, str], name: str = "blog", **kwargs) -> Path:
        return write_blog(tmp_path / name, posts, **kwargs)

    return make


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory) -> Path:
    """A data folder holding the demo blog's index, built once for the whole session."""
    data_dir = tmp_path_factory.mktemp("demo-index")
    report = ingest(DEMO_BLOG, data_dir, load_settings())
    assert report.indexed == 15 and report.skipped == 0, report.summary()
    return data_dir


@pytest.fixture(scope="session")
def retriever(demo_index) -> Retriever:
    """A retriever over the demo index, shared by the tests that only read it."""
    searcher = Retriever(demo_index, load_settings())
    yield searcher
    searcher.close()


@pytest.fixture(scope="session")
def demo_assistant(demo_index):
    """The assistant on the demo blog: in-process actions, conversations in memory. Shared by
    the whole session: tests use their own sender ids so conversations stay apart."""
    from bot.assistant import build

    return build(demo_index, load_settings(), tracker_store="memory", today=TODAY)


@pytest.fixture(scope="session")
def demo_engine(demo_assistant):
    """The demo assistant's dialog engine."""
    return demo_assistant.engine


@pytest.fixture(scope="session")
def action_server(demo_index):
    """A real `blogbot actions` server on the demo index; yields its webhook URL."""
    port = free_port()
    process = start_blogbot(["actions", "--data-dir", str(demo_index), "--port", str(port)],
                            f"http://127.0.0.1:{port}/health")
    yield f"http://127.0.0.1:{port}/webhook"
    stop_blogbot(process)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    """(data dir, ingest report) of the real corpus in ../shared, ingested once (about 90 s)."""
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS} (the shared/ checkout next to the repo is absent)")
    data_dir = tmp_path_factory.mktemp("real-index")
    report = ingest(CORPUS, data_dir, load_settings())
    return data_dir, report
