"""Shared fixtures: settings, the demo-blog index (built once per session) and small tmp blogs."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from knowledge.ingest import ingest  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO_BLOG = REPO / "demo" / "blog"
DEMO_QUESTIONS = REPO / "demo" / "questions.jsonl"
# The real blog in ../shared (not ours: read from there, never copied into the repo).
CORPUS = REPO.parent / "shared" / "corpus" / "heidloff-blog" / "_posts"
BLOGBOT = Path(sys.executable).parent / "blogbot"


def write_blog(root: Path, posts: dict[str, str], config: str | None = "url: \"https://example.com\"\n"
               "permalink: /:year/:month/:day/:title/\n") -> Path:
    """A small Jekyll site at `root`: `_config.yml` (None: none) and `_posts/NAME` for each post.

    Post texts are dedented, so tests can write them as indented triple-quoted strings.
    Returns `root`.
    """
    posts_dir = root / "_posts"
    posts_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (root / "_config.yml").write_text(config, encoding="utf-8")
    for name, text in posts.items():
        (posts_dir / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def post_text(title: str, body: str, date: str | None = None, tags: list[str] | None = None, extra: str = "") -> str:
    """Front matter plus body of a simple post."""
    lines = ["---", f"title: \"{title}\""]
    if date:
        lines.append(f"date: {date}")
    if tags:
        lines.append("tags: [" + ", ".join(tags) + "]")
    if extra:
        lines.append(extra.strip("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n\n" + textwrap.dedent(body).strip() + "\n"


@pytest.fixture
def settings():
    """Fresh settings from config/settings.yml (tests may change them)."""
    return load_settings()


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


# The date conversations in tests happen on, so "last year" and "this month" are fixed.
TODAY = __import__("datetime").date(2026, 11, 26)


@pytest.fixture(scope="session")
def demo_engine(demo_index):
    """The assistant on the demo blog: in-process actions, conversations in memory. Shared by
    the whole session: tests use their own sender ids so conversations stay apart."""
    from bot.assistant import load_assistant

    return load_assistant(demo_index, load_settings(), tracker_store="memory", today=TODAY)


def assert_usage_error(result, *words: str) -> str:
    """Exit code 2 and exactly one line on stderr, starting with 'error:'."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def wait_until_up(url: str, alive, timeout_s: float = 120) -> None:
    """Poll `url` until it answers 200; fail early when `alive()` turns false (the server died)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if not alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.2)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_blogbot(args: list[str], health_url: str, env: dict | None = None):
    """`blogbot ARGS...` as a process, once `health_url` answers 200 (its output is in the error if not)."""
    import subprocess

    process = subprocess.Popen([str(BLOGBOT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        wait_until_up(health_url, lambda: process.poll() is None)
    except RuntimeError:
        process.kill()
        raise RuntimeError(f"blogbot {args[0]} did not start: {process.stdout.read()[-3000:]}") from None
    return process


def stop_blogbot(process) -> None:
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


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


def count_model_steps(generator, on_step):
    """Calls `on_step()` at every step of the generator's model (transformers: each forward pass;
    llama.cpp: each eval). Returns a function that stops counting."""
    model = generator.model
    if hasattr(model, "register_forward_hook"):
        return model.register_forward_hook(lambda *args: on_step()).remove
    original = model.eval

    def counting_eval(tokens):
        on_step()
        return original(tokens)

    model.eval = counting_eval
    return lambda: delattr(model, "eval")
