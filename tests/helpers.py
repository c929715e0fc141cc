"""What tests share that is not a fixture: paths, small blogs, the `blogbot` command as a process,
ports and servers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


# The date conversations in tests happen on, so "last year" and "this month" are fixed.
TODAY = __import__("datetime").date(2026, 11, 26)


def assert_usage_error(result, *words: str) -> str:
    """Exit code 2 and exactly one line on stderr, starting with 'error:'."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


# The reference deployment's launcher has the same needs: one copy of each (deploy/cluster.py).
sys.path.insert(0, str(REPO / "deploy"))
from cluster import free_port, wait_for  # noqa: E402,F401 - free_port is imported from here by the tests


def wait_until_up(url: str, alive, timeout_s: float = 120) -> None:
    """Poll `url` until it answers 200; fail early when `alive()` turns false (the server died)."""
    wait_for(url, alive, timeout_s, "the server")


def start_blogbot(args: list[str], health_url: str, env: dict | None = None):
    """`blogbot ARGS...` as a process, once `health_url` answers 200 (its output is in the error if not)."""
    process = subprocess.Popen([str(BLOGBOT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        wait_until_up(health_url, lambda: process.poll() is None)
    except RuntimeError:
        process.kill()
        raise RuntimeError(f"blogbot {args[0]} did not start: {process.stdout.read()[-3000:]}") from None
    return process


def stop_blogbot(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


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


def run_blogbot(*args: str, stdin: str | None = None, timeout: int = 300, cwd: Path = REPO,
                env: dict | None = None, config_dir: Path | None = None) -> subprocess.CompletedProcess:
    """`blogbot ARGS...` run to its end, offline, with no data dir from the environment and the config
    folder `config_dir` (default: the shipped one)."""
    env = dict(os.environ if env is None else env, HF_HUB_OFFLINE="1")
    env.pop("BLOGBOT_DATA_DIR", None)
    env.pop("BLOGBOT_CONFIG_DIR", None)
    if config_dir is not None:
        env["BLOGBOT_CONFIG_DIR"] = str(config_dir)
    return subprocess.run([str(BLOGBOT), *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd)


class RedisServer:
    """Debian's redis-server (scripts/install-services.sh) on a free port, nothing saved to disk;
    `stop()` and `start()` again on the same port (a Redis that goes away and comes back)."""

    def __init__(self, folder: Path):
        import shutil

        self.program = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.folder, self.port, self.process = folder, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        """Start it and wait until it answers, as this process (not another Redis on the port)."""
        import time

        import redis

        log = self.folder / f"redis-{self.port}.log"
        self.process = subprocess.Popen([self.program, "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", str(self.folder),
                                         "--logfile", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
            while True:
                try:
                    if int(client.info("server")["process_id"]) == self.process.pid:
                        return self
                    raise RuntimeError(f"another Redis answers on port {self.port}")
                except redis.exceptions.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        text = log.read_text() if log.exists() else ""
                        raise RuntimeError(f"redis-server did not start: {text[-1000:]}") from None
                    time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
