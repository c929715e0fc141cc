"""What the thread hops of a streamed answer cost: from the composer writing a piece to the channel's
event loop having it.

A streamed answer runs, with the actions in-process (the default): the generator's thread (model.generate)
-> the composer on the action's worker thread -> the actions' event loop (`knowledge.threads.in_thread`)
-> the turn's thread (the action client's queue) -> the channel's event loop (`ThreadToLoop`). This
runs real turns on the demo blog (real models, real engine) the way the web channel does, stamps
each Token when the composer yields it and again when it reaches the channel's loop, and prints one
JSON object: the median and 95th percentile of that delay per piece, the median time between two
pieces (what the generator takes), and their ratio. Usage:
  .venv/bin/python benchmarks/stream_hops.py [--data-dir DIR] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.assistant import build  # noqa: E402
from knowledge.answers.composer import AnswerComposer  # noqa: E402
from knowledge.answers.output import Token  # noqa: E402
from knowledge.corpus.ingest import ingest  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402
from knowledge.threads import ThreadToLoop  # noqa: E402

QUESTIONS = [json.loads(line)["question"] for line in (REPO / "demo" / "questions.jsonl").read_text().splitlines()
             if line.strip() and json.loads(line).get("gold_posts")]


def stamp_composer(written: list[float]) -> None:
    """Record when the composer yields each Token (on the action's worker thread)."""
    original = AnswerComposer.stream_answer

    def stream_answer(self, question, cancel=None):
        for event in original(self, question, cancel):
            if isinstance(event, Token) and event.text:
                written.append(time.perf_counter())
            yield event
    AnswerComposer.stream_answer = stream_answer


async def one_turn(engine, sender: str, question: str) -> list[float]:
    """Run a turn as the web channel does; the times Tokens reach this loop."""
    cancel = threading.Event()
    turn = ThreadToLoop(engine.handle(sender, question, cancel), cancel)
    threading.Thread(target=turn.work, name="turn", daemon=True).start()
    arrived = []
    async for event in turn.items():
        if isinstance(event, Token) and event.text:
            arrived.append(time.perf_counter())
    return arrived


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="an index of the demo blog (default: ingest one into a temporary folder)")
    parser.add_argument("--rounds", type=int, default=2, help="how many times to ask each demo question")
    args = parser.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(args.data_dir or tmp)
        if not args.data_dir:
            ingest(REPO / "demo" / "blog", data_dir, settings)
        assistant = build(data_dir, settings, tracker_store="memory")
        written: list[float] = []
        stamp_composer(written)
        delays, gaps, pieces = [], [], 0
        for round_number in range(args.rounds):
            for number, question in enumerate(QUESTIONS):
                written.clear()
                arrived = asyncio.run(one_turn(assistant.engine, f"hops-{round_number}-{number}", question))
                if len(arrived) != len(written):     # every piece must arrive, once
                    raise SystemExit(f"{question!r}: {len(written)} pieces written, {len(arrived)} arrived")
                delays += [a - w for w, a in zip(written, arrived)]
                gaps += [b - a for a, b in zip(written, written[1:])]
                pieces += len(arrived)
    delays.sort()
    median_delay, median_gap = statistics.median(delays), statistics.median(gaps) if gaps else 0.0
    print(json.dumps({
        "turns": args.rounds * len(QUESTIONS), "pieces": pieces,
        "hop_delay_ms": {"median": round(median_delay * 1000, 3),
                         "p95": round(delays[int(0.95 * (len(delays) - 1))] * 1000, 3)},
        "gap_between_pieces_ms": {"median": round(median_gap * 1000, 3)},
        "delay_over_gap": round(median_delay / median_gap, 4) if median_gap else None,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
