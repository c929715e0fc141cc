"""An imported Watson Assistant dialog skill: NLU parse and dialog turn latency, against blogbot's own
config measured in the same run (the baseline).

Imports ../shared/watson/bank_simple_workspace.json (99 intents, 380 nodes) into a temporary config
folder, builds the assistant on the demo blog's index with it and with the shipped config, and times
`Nlu.parse` and whole turns (`DialogEngine.respond`, no generator: the bank skill calls no action;
the blog's turns are ones that answer from the dialog alone). Prints one JSON object: p50 and p95 in
ms per config and the ratios of the skill's p50 to the baseline's. Usage:
  .venv/bin/python benchmarks/watson.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.assistant import build  # noqa: E402
from bot.watson.importer import import_skill  # noqa: E402
from knowledge.corpus.ingest import ingest  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402

BANK = REPO.parent / "shared" / "watson" / "bank_simple_workspace.json"
BANK_TURNS = ["hello", "what are your business hours", "I want to book an appointment", "tomorrow", "3pm", "10001",
              "2", "to open a savings account", "what is your phone number", "thanks"]
BLOG_TURNS = ["hello", "what can you do?", "thanks", "what are the latest posts?", "who writes this blog?",
              "goodbye", "help", "what topics do you write about?", "hi again", "bye"]


def timings(data_dir: Path, config_dir: Path | None, texts: list[str], rounds: int) -> dict:
    """p50/p95 (ms) of parse and of whole turns, `rounds` conversations over `texts`."""
    if config_dir is not None:
        os.environ["BLOGBOT_CONFIG_DIR"] = str(config_dir)
    else:
        os.environ.pop("BLOGBOT_CONFIG_DIR", None)
    engine = build(data_dir, load_settings(), tracker_store="memory", today=dt.date(2026, 12, 7)).engine
    parses, turns = [], []
    for round_number in range(rounds):
        for text in texts:
            started = time.perf_counter()
            engine.nlu.parse(text)
            parses.append(time.perf_counter() - started)
        sender = f"bench-{round_number}"
        engine.respond(sender, None)
        for text in texts:
            started = time.perf_counter()
            engine.respond(sender, text)
            turns.append(time.perf_counter() - started)
    return {"parse_ms": _percentiles(parses), "turn_ms": _percentiles(turns)}


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered) * 1000, 2), "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="conversations per config")
    args = parser.parse_args()
    if not BANK.is_file():
        raise SystemExit(f"{BANK} is absent")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, config_dir = Path(tmp) / "index", Path(tmp) / "bank"
        ingest(REPO / "demo" / "blog", data_dir, load_settings())
        report = import_skill(BANK, config_dir)
        baseline = timings(data_dir, None, BLOG_TURNS, args.rounds)
        skill = timings(data_dir, config_dir, BANK_TURNS, args.rounds)
    print(json.dumps({
        "skill": report.skill, "nodes": sum(v for k, v in report.counts.items() if k.endswith("nodes")),
        "rounds": args.rounds, "blogbot_config": baseline, "imported_skill": skill,
        "ratio_parse_p50": round(skill["parse_ms"]["p50"] / baseline["parse_ms"]["p50"], 2),
        "ratio_turn_p50": round(skill["turn_ms"]["p50"] / baseline["turn_ms"]["p50"], 2),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
