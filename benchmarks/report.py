"""How long `blogbot report` takes on many recorded turns (goal: 10,000 turns in under 10 s on 2 cores).

Writes `--turns` synthetic turn records over 60 days into a fresh SQLite record (bot.analytics):
questions drawn with a long tail (a few asked often) from every question set and the intents'
examples, most of them reworded a little so that about two thirds are distinct texts, as readers'
are; a quarter not covered; a rating on one turn in 50; each text's embedding recorded as
`blogbot serve`'s recorder does. Then times, in the same run, three times each: the whole report
(`report_of` + the HTML page); the same with no embedding recorded (every question embedded at
report time); and without grouping questions (the baseline: reading and counting only). Then the
whole command once, as a blogger runs it: `blogbot report --out page.html` in a new process (start,
imports, the embedder loaded). Prints one JSON object:
  .venv/bin/python benchmarks/report.py [--turns 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.analytics.page import render_page  # noqa: E402
from bot.analytics.records import SqliteTurnStore, TurnRecord, TurnRecorder  # noqa: E402
from bot.analytics.report import report_of  # noqa: E402
from knowledge.feedback import FeedbackStore  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402

SHARED = REPO.parent / "shared"


def question_pool() -> list[str]:
    files = list((SHARED / "eval").glob("*.jsonl")) + list((REPO / "benchmarks" / "questions").glob("*.jsonl"))
    texts = [json.loads(line)["question"] for f in files for line in f.read_text().splitlines() if line.strip()]
    intents = yaml.safe_load((REPO / "config" / "intents.yml").read_text())["intents"]
    texts += [e for spec in intents.values() for e in (spec.get("examples") or [])]
    return sorted(set(texts))


# Benchmark data only: what makes a question a reader's own wording of a common one.
_REWORDINGS = ("", " Thanks!", " (asking for a project at work)", " on Ubuntu", " in 2026?", " for a beginner",
               " with Python", " Any pointers?", " on a laptop", " quickly", " step by step", " in production")


def record(store: SqliteTurnStore, feedback: FeedbackStore, turns: int, recorder: TurnRecorder | None,
           seed: int = 7) -> dict:
    rng = random.Random(seed)
    pool = question_pool()
    rng.shuffle(pool)
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(pool))]     # a long tail: Zipf-like
    now = time.time()
    batch, ratings = [], 0
    for n in range(turns):
        text = rng.choices(pool, weights)[0]
        if rng.random() < 0.7:
            text = f"{text}{rng.choice(_REWORDINGS)}{rng.choice(_REWORDINGS)}".strip()
        abstained = rng.random() < 0.25
        ts = now - rng.random() * 60 * 86_400
        post = f"https://blog.example.com/post-{rng.randrange(200)}/"
        batch.append(TurnRecord(ts=ts, channel=rng.choice(("web", "web", "slack")), sender=f"{rng.randrange(3000):016x}",
                                intent="ask_question", confidence=0.8, answered=True, abstained=abstained,
                                latency_s=rng.uniform(0.2, 3), first_token_s=rng.uniform(0.1, 1),
                                cited=[] if abstained else [{"title": post, "url": post}], message_ids=[f"m{n}"],
                                text=text, answer=None if abstained else "An answer."))
        if rng.random() < 0.02:
            feedback.record(f"s{n}", rng.choice(("up", "down")), message_id=f"m{n}", comment="a comment")
            ratings += 1
        if len(batch) == 1000:
            if recorder is not None:
                recorder.embed(batch)
            store.add(batch)
            batch = []
    if recorder is not None:
        recorder.embed(batch)
    store.add(batch)
    return {"distinct_questions_in_pool": len(pool), "ratings": ratings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    from knowledge.corpus.embedder import get_embedder

    encode = get_embedder(settings.embedder).encode
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as bare:
        store, feedback = SqliteTurnStore(folder), FeedbackStore(folder)
        started = time.perf_counter()
        made = record(store, feedback, args.turns, TurnRecorder(store, feedback, settings, encode))
        recording_s = time.perf_counter() - started
        unembedded, bare_feedback = SqliteTurnStore(bare), FeedbackStore(bare)
        record(unembedded, bare_feedback, args.turns, None)
        timings: dict[str, list[float]] = {"whole": [], "cold": [], "counting": []}
        for _ in range(args.repeat):
            for name, turn_store, ratings, group in (("whole", store, feedback, True),
                                                     ("cold", unembedded, bare_feedback, True),
                                                     ("counting", store, feedback, False)):
                started = time.perf_counter()
                report = report_of(turn_store, ratings, settings, group=group)
                render_page(report)
                timings[name].append(time.perf_counter() - started)
        report = report_of(store, feedback, settings)
        distinct = len({t.text for t in store.between()})
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("blogbot")), "report", "--data-dir", folder, "--out",
                        str(Path(folder) / "report.html")], check=True, capture_output=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1", "BLOGBOT_DIALOG__TRACKER_STORE": "sqlite"})
        command_s = time.perf_counter() - started
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(json.dumps({"turns": args.turns, **made, "distinct_questions_asked": distinct,
                      "recording_with_embeddings_s": round(recording_s, 1),
                      "report_s_median": round(median["whole"], 2),
                      "report_without_recorded_embeddings_s_median": round(median["cold"], 2),
                      "counting_only_s_median": round(median["counting"], 2),
                      "blogbot_report_command_s": round(command_s, 2),
                      "ratio_to_counting": round(median["whole"] / median["counting"], 1),
                      "content_gaps": len(report["content_gaps"]), "top_gap": report["content_gaps"][0]["label"]
                      if report["content_gaps"] else None}, indent=1))


if __name__ == "__main__":
    main()
