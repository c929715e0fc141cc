"""Dialogue benchmark: NLU quality and latency, and the latency of turns that do not generate,
in-process and over HTTP to a `blogbot actions` server measured in the same run.

Prints one JSON object. Usage:
  .venv/bin/python benchmarks/dialogue.py [--data-dir DIR] [--utterances FILE] [--repeats N]
Without --data-dir the demo blog is ingested into a temporary folder first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(REPO))

from bot.assistant import build  # noqa: E402
from bot.nlu.evaluation import cross_validate, evaluate_nlu, load_utterances  # noqa: E402
from knowledge.corpus.ingest import ingest  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402

# Turns that do not generate: a response-only node, and nodes whose action lists posts.
TURNS = ["hello there", "what are the latest posts?", "do you have posts about kubernetes?",
         "posts from 2021", "what topics do you write about?"]


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered) * 1000, 1),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1)}


def start_action_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    blogbot = Path(sys.executable).parent / "blogbot"
    process = subprocess.Popen([str(blogbot), "actions", "--data-dir", str(data_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}/webhook"
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    sys.exit("blogbot actions did not start")


def turn_latencies(engine, repeats: int) -> dict:
    """Seconds per turn kind, each turn in a fresh conversation after one warm-up round."""
    timings: dict[str, list[float]] = {text: [] for text in TURNS}
    for round_number in range(repeats + 1):
        for text in TURNS:
            sender = f"bench-{round_number}-{text}"
            started = time.perf_counter()
            result = engine.respond(sender, text)
            elapsed = time.perf_counter() - started
            if not result.messages:
                sys.exit(f"no answer to {text!r}")
            if round_number:
                timings[text].append(elapsed)
    every = [t for values in timings.values() for t in values]
    return {"all_ms": percentiles(every), "per_turn_ms": {text: percentiles(v) for text, v in timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--utterances", type=Path, default=REPO / "tests" / "nlu" / "heldout.jsonl")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings()
    data_dir = args.data_dir
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="blogbot-bench-"))
        ingest(REPO / "demo" / "blog", data_dir, settings)

    started = time.perf_counter()
    assistant = build(data_dir, settings, tracker_store="memory", action_endpoint="", today=dt.date.today())
    engine = assistant.engine
    load_s = time.perf_counter() - started
    posts = len(assistant.retriever.current_posts())

    utterances = load_utterances(args.utterances)
    held_out = evaluate_nlu(engine.nlu, utterances)
    nlu_times = []
    for _ in range(3):
        for item in utterances:
            t = time.perf_counter()
            engine.nlu.parse(item["text"])
            nlu_times.append(time.perf_counter() - t)
    oos = held_out["per_intent"].get("out_of_scope", {})

    in_process = turn_latencies(engine, args.repeats)
    server, endpoint = start_action_server(data_dir)
    try:
        http_engine = build(data_dir, settings, tracker_store="memory", action_endpoint=endpoint,
                            today=dt.date.today()).engine
        over_http = turn_latencies(http_engine, args.repeats)
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(json.dumps({
        "data_dir": str(data_dir),
        "posts": posts,
        "assistant_load_s": round(load_s, 2),
        "nlu": {
            "held_out_utterances": held_out["utterances"],
            "intent_accuracy": held_out["accuracy"],
            "intent_accuracy_top1": held_out["accuracy_top1"],
            "below_threshold": held_out["below_threshold"],
            "out_of_scope_precision": oos.get("precision"),
            "out_of_scope_recall": oos.get("recall"),
            "cross_validation_accuracy": cross_validate(engine.nlu)["accuracy"],
            "parse_ms": percentiles(nlu_times),
        },
        "turns_without_generation": {
            "in_process": in_process,
            "http_actions": over_http,
            "ratio_http_to_in_process_p50": round(over_http["all_ms"]["p50"] / in_process["all_ms"]["p50"], 2),
        },
    }, indent=1))


if __name__ == "__main__":
    main()
