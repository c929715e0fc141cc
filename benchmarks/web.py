"""Web chat under load: concurrent streaming sessions against a real `blogbot serve` on loopback.

For 1, 5 and 20 concurrent clients (each asks questions about the demo blog one after another,
for a bounded time), reports time to the first streamed token, time to the whole answer, HTTP
statuses (503 from the full queue is expected and retried after Retry-After; any other 5xx is a
failure), and the server's peak memory. Prints one JSON object. Usage:
  .venv/bin/python benchmarks/web.py [--data-dir DIR] [--seconds 60] [--levels 1,5,20]
The per-client limits (rate, turns in flight) are off for the run: all clients share one address.

`--burst 50` instead sends 50 readers at once, each with one question, retrying after Retry-After
whenever refused, and reports how many requests were refused, the most tries a reader needed and
when the answers came. `--code DIR` runs the server from another checkout of blogbot (with its own
config/), e.g. the previous commit in a `git worktree`, so before and after are measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["question"] for line in (REPO / "demo" / "questions.jsonl").read_text().splitlines()
             if line.strip() and json.loads(line).get("gold_posts")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, config_dir: Path, code: Path = REPO) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BLOGBOT_CONFIG_DIR": str(config_dir), "PYTHONPATH": str(code)}
    process = subprocess.Popen([str(Path(sys.executable).parent / "blogbot"), "serve", "--data-dir", str(data_dir),
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.5)
        if process.poll() is not None:
            sys.exit(f"blogbot serve failed: {process.stderr.read()[-2000:]}")
    process.kill()
    sys.exit("blogbot serve did not start")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def ask(client: httpx.AsyncClient, base: str, question: str, stats: dict) -> None:
    """One question, streamed; a 503 is retried after its Retry-After."""
    while True:
        started = time.perf_counter()
        first = None
        async with client.stream("POST", base + "/api/chat/stream", json={"text": question}) as response:
            stats["status"][response.status_code] += 1
            if response.status_code in (429, 503):
                stats["refused"] += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code != 200:
                stats["failed"] += 1
                return
            answered = False
            async for line in response.aiter_lines():
                if line.startswith("event: ") and first is None and line[7:] in ("token", "message"):
                    first = time.perf_counter() - started
                if line == "event: message":
                    answered = True
                if line == "event: error":
                    stats["errors"] += 1
            if answered:
                stats["ttft"].append(first)
                stats["total"].append(time.perf_counter() - started)
                stats["answered"] += 1
            else:
                stats["unanswered"] += 1
            return


async def load(base: str, clients: int, seconds: float) -> dict:
    stats = {"status": Counter(), "ttft": [], "total": [], "answered": 0, "refused": 0, "failed": 0,
             "unanswered": 0, "errors": 0}
    deadline = time.monotonic() + seconds

    async def client_loop(number: int) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0)) as client:
            index = number
            while time.monotonic() < deadline:
                await ask(client, base, QUESTIONS[index % len(QUESTIONS)], stats)
                index += clients

    await asyncio.gather(*(client_loop(n) for n in range(clients)))

    def ms(values):
        if not values:
            return None
        ordered = sorted(values)
        return {"p50": round(statistics.median(ordered), 2),
                "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)}

    return {"clients": clients, "answered": stats["answered"], "refused_then_retried": stats["refused"],
            "other_failures": stats["failed"] + stats["unanswered"] + stats["errors"],
            "statuses": {str(k): v for k, v in sorted(stats["status"].items())},
            "first_token_s": ms(stats["ttft"]), "answer_s": ms(stats["total"])}


async def burst(base: str, readers: int) -> dict:
    """`readers` readers at once, one question each, each retrying after Retry-After until answered."""
    refused, tries, answer_s, waits = 0, [], [], Counter()
    started = time.perf_counter()

    async def reader(number: int) -> None:
        nonlocal refused
        async with httpx.AsyncClient(timeout=httpx.Timeout(300.0)) as client:
            for attempt in range(1, 200):
                async with client.stream("POST", base + "/api/chat/stream",
                                         json={"text": QUESTIONS[number % len(QUESTIONS)]}) as response:
                    if response.status_code in (429, 503):
                        refused += 1
                        wait = response.headers.get("Retry-After", "1")
                        waits[wait] += 1
                        await asyncio.sleep(float(wait))
                        continue
                    async for _line in response.aiter_lines():
                        pass
                    tries.append(attempt)
                    answer_s.append(time.perf_counter() - started)
                    return

    await asyncio.gather(*(reader(n) for n in range(readers)))
    ordered = sorted(answer_s)
    return {"readers": readers, "answered": len(answer_s), "refused_requests": refused,
            "most_tries": max(tries) if tries else None,
            "answered_after_s": {"p50": round(statistics.median(ordered), 1),
                                 "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
                                 "last": round(ordered[-1], 1)} if ordered else None,
            "distinct_retry_after_values": len(waits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--levels", default="1,5,20")
    parser.add_argument("--burst", type=int, help="readers at once, one question each, retrying when refused")
    parser.add_argument("--code", type=Path, default=REPO, help="the blogbot checkout the server runs from")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="blogbot-web-bench-"))
    data_dir = args.data_dir
    if data_dir is None:
        data_dir = work / "data"
        subprocess.run([str(Path(sys.executable).parent / "blogbot"), "ingest", str(REPO / "demo" / "blog"),
                        "--data-dir", str(data_dir), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    config_dir = work / "config"
    shutil.copytree(args.code / "config", config_dir)
    settings_file = config_dir / "settings.yml"
    settings = yaml.safe_load(settings_file.read_text()) or {}
    settings.setdefault("web", {})["rate_limit_per_minute"] = 0       # one address for every client
    settings["web"]["turns_per_client"] = 0
    settings.setdefault("dialog", {})["tracker_store"] = "memory"
    settings_file.write_text(yaml.safe_dump(settings))

    server, base = start_server(data_dir, config_dir, args.code)
    try:
        if args.burst:
            figures = {"burst": asyncio.run(burst(base, args.burst))}
        else:
            figures = {"seconds_per_level": args.seconds,
                       "levels": [asyncio.run(load(base, int(c), args.seconds)) for c in args.levels.split(",")]}
        peak = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(json.dumps({"data_dir": str(data_dir), "code": str(args.code), **figures, "server_peak_rss_mb": peak},
                     indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
