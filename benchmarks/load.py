"""Load: concurrent readers against one `blogbot serve` and against two replicas behind nginx (with
Redis, deploy/cluster.py), on this machine, measured in the same run.

Each reader streams questions about the demo blog one after another for `--seconds` per level
(1, 5, 20, 50 readers); a refusal (503 or 429, with Retry-After) is waited out and asked again. For
each topology and level: time to the first event (the response starting: an answer's headers, or a
refusal), to the first token and to the whole answer (p50/p95), the longest wait for a first event,
answers a second, the share of requests refused, other errors, and each replica's peak RSS.
`--threads` compares thread budgets per turn worker (web.threads_per_worker: 0 = cores / workers,
the default; 2 = every worker may use both cores, the behaviour before). `--record` is the
generator's keep record each topology starts with (knowledge/answers/keep_rate.py): `filled` (the
default) = a full window of dropped tries, a server that has run before with the packaged model;
`fresh` = none, the first minutes of a new install. Prints one JSON object:
  .venv/bin/python benchmarks/load.py [--seconds 40] [--levels 1,5,20,50] [--topologies one,two]
                                      [--threads 0,2] [--record filled|fresh] [--data-dir DIR]
Per-client limits are off for the run (every reader comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy"))
from cluster import Cluster, free_port, wait_for  # noqa: E402

QUESTIONS = [json.loads(line)["question"] for line in (REPO / "demo" / "questions.jsonl").read_text().splitlines()
             if line.strip() and json.loads(line).get("gold_posts")]
BLOGBOT = Path(sys.executable).with_name("blogbot")


def percentiles(values: list[float]) -> dict | None:
    if not values:
        return None
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 2), "p95": round(ordered[min(len(ordered) - 1,
                                                                                  int(0.95 * len(ordered)))], 2)}


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def reader(client: httpx.AsyncClient, base: str, number: int, readers: int, deadline: float,
                 stats: dict) -> None:
    """Ask questions until the deadline; a refused one is waited out (Retry-After) and asked again."""
    index = number
    while time.monotonic() < deadline:
        question = QUESTIONS[index % len(QUESTIONS)]
        started = time.perf_counter()
        try:
            async with client.stream("POST", base + "/api/chat/stream", json={"text": question}) as response:
                first_event = time.perf_counter() - started
                stats["first_event"].append(first_event)
                stats["status"][response.status_code] += 1
                if response.status_code in (429, 503):
                    stats["refused"] += 1
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                if response.status_code != 200:
                    stats["errors"] += 1
                    index += readers
                    continue
                first_token, answered = None, False
                async for line in response.aiter_lines():
                    if line in ("event: token", "event: message") and first_token is None:
                        first_token = time.perf_counter() - started
                    answered = answered or line == "event: message"
                    if line == "event: error":
                        stats["errors"] += 1
                if answered:
                    stats["first_token"].append(first_token)
                    stats["answer"].append(time.perf_counter() - started)
                    stats["answered"] += 1
        except httpx.HTTPError:
            stats["errors"] += 1
        index += readers


async def level(base: str, readers: int, seconds: float) -> dict:
    stats = {"status": Counter(), "first_event": [], "first_token": [], "answer": [], "answered": 0, "refused": 0,
             "errors": 0}
    started = time.monotonic()
    deadline = started + seconds
    async with httpx.AsyncClient(timeout=httpx.Timeout(300.0), limits=httpx.Limits(max_connections=200)) as client:
        await asyncio.gather(*(reader(client, base, n, readers, deadline, stats) for n in range(readers)))
    elapsed = time.monotonic() - started
    requests = sum(stats["status"].values())
    return {"readers": readers, "seconds": round(elapsed, 1), "answered": stats["answered"],
            "answers_per_s": round(stats["answered"] / elapsed, 3),
            "refused_share": round(stats["refused"] / requests, 3) if requests else None,
            "errors": stats["errors"], "statuses": {str(k): v for k, v in sorted(stats["status"].items())},
            "first_event_s": percentiles(stats["first_event"]),
            "longest_first_event_s": round(max(stats["first_event"]), 1) if stats["first_event"] else None,
            "first_token_s": percentiles(stats["first_token"]), "answer_s": percentiles(stats["answer"])}


class OneReplica:
    """One `blogbot serve`, conversations in memory."""

    def __init__(self, data_dir: Path, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "BLOGBOT_DIALOG__TRACKER_STORE": "memory", **env}
        self.data_dir = data_dir

    def __enter__(self) -> "OneReplica":
        self.process = subprocess.Popen([str(BLOGBOT), "serve", "--data-dir", str(self.data_dir), "--port",
                                         str(self.port)], env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for(self.url + "/readyz", lambda: self.process.poll() is None, 300, "blogbot serve")
        return self

    def pids(self) -> list[int]:
        return [self.process.pid]

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


class TwoBehindNginx(Cluster):
    """deploy/cluster.py's topology: Redis, two replicas, nginx."""

    def __init__(self, data_dir: Path, env: dict):
        super().__init__(data_dir, replicas=2, env=env)

    def pids(self) -> list[int]:
        return [p.pid for p in self.replicas if p is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--levels", default="1,5,20,50")
    parser.add_argument("--topologies", default="one,two")
    parser.add_argument("--threads", default="0", help="web.threads_per_worker values to compare")
    parser.add_argument("--record", choices=("filled", "fresh"), default="filled",
                        help="the generator keep record each topology starts with")
    args = parser.parse_args()
    data_dir = args.data_dir
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="blogbot-load-")) / "data"
        subprocess.run([str(BLOGBOT), "ingest", str(REPO / "demo" / "blog"), "--data-dir", str(data_dir), "--quiet"],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    kinds = {"one": OneReplica, "two": TwoBehindNginx}
    runs = []
    for threads in args.threads.split(","):
        for topology in args.topologies.split(","):
            env = {"BLOGBOT_WEB__RATE_LIMIT_PER_MINUTE": "0", "BLOGBOT_WEB__TURNS_PER_CLIENT": "0",
                   "BLOGBOT_WEB__THREADS_PER_WORKER": threads, "BLOGBOT_WEB__TURN_LOG": "false"}
            start_record(data_dir, args.record)
            with kinds[topology](data_dir, env) as servers:
                levels = [asyncio.run(level(servers.url, int(n), args.seconds)) for n in args.levels.split(",")]
                peaks = [peak_rss_mb(pid) for pid in servers.pids()]
            runs.append({"topology": topology, "threads_per_worker": int(threads), "levels": levels,
                         "peak_rss_mb_per_replica": peaks})
            print(f"load: {topology} threads={threads} done", file=sys.stderr, flush=True)
    print(json.dumps({"cores": len(os.sched_getaffinity(0)), "questions": len(QUESTIONS),
                      "seconds_per_level": args.seconds, "record": args.record, "runs": runs}, indent=1))


def start_record(data_dir: Path, record: str) -> None:
    """Leave the generator's keep record as `--record` says (no record, or a window of dropped tries)."""
    sys.path.insert(0, str(REPO))
    from knowledge.answers.keep_rate import KeepRate, generator_identity
    from knowledge.settings import load_settings

    path = data_dir / "generator-keep-record.json"
    path.unlink(missing_ok=True)
    if record == "filled":
        generator = load_settings().generator
        filled = KeepRate(generator.keep_window, generator.min_keep_rate, generator.explore_every, path,
                          generator_identity(generator))
        for _ in range(generator.keep_window):
            filled.record(False)


if __name__ == "__main__":
    main()
