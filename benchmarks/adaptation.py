"""What `blogbot adapt` costs and gains on each blog in ../shared (or the demo blog): training and re-embedding time,
peak memory, and hybrid search hit@5 / MRR@10 before (the baseline, measured in the same run) and
after, for several shares of the adapted model in the dense score (`retrieval.adapted_weight`).

Prints one JSON object. Usage:
  .venv/bin/python benchmarks/adaptation.py [--blog NAME ...] [--weights 0.5 1.0] [--data NAME=DIR ...]
`--data` starts from an existing index of that blog (copied, never changed) instead of ingesting it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BLOGBOT = [sys.executable, "-m", "bot.cli"]
QUESTIONS = REPO / "benchmarks" / "questions"
BLOGS = {
    "heidloff": (SHARED / "corpus" / "heidloff-blog", [SHARED / "eval" / "questions-dev.jsonl",
                                                       QUESTIONS / "heidloff-heldout.jsonl"]),
    "rust": (SHARED / "corpus" / "rust-blog", [SHARED / "eval" / "questions-rust-dev.jsonl",
                                               QUESTIONS / "rust-heldout.jsonl"]),
    "kubernetes": (SHARED / "corpus" / "kubernetes-blog", [QUESTIONS / "kubernetes-dev.jsonl",
                                                           QUESTIONS / "kubernetes-heldout.jsonl"]),
    "demo": (REPO / "demo" / "blog", [REPO / "demo" / "questions.jsonl"]),
}


def blogbot(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*BLOGBOT, *args, "--quiet"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0:
        sys.exit(f"blogbot {args[0]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout.strip()


def quality(data_dir: Path, question_files: list[Path], weight: float | None) -> dict:
    """hit@5 and MRR@10 of hybrid search per question file; `weight`: the adapted model's share."""
    from knowledge.evaluation import evaluate_retrieval, load_questions
    from knowledge.search.retrieval import Retriever
    from knowledge.settings import load_settings

    settings = load_settings()
    if weight is not None:
        settings = dataclasses.replace(settings, retrieval=dataclasses.replace(settings.retrieval, adapted_weight=weight))
    retriever = Retriever(data_dir, settings)
    try:
        out = {}
        for path in question_files:
            result = evaluate_retrieval(retriever, load_questions(path), modes=("hybrid",))["hybrid"]
            out[path.stem] = {"hit@5": result["hit@5"], "mrr@10": result["mrr@10"]}
        return out
    finally:
        retriever.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blog", action="append", choices=sorted(BLOGS), help="default: the three blogs in ../shared")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--data", action="append", default=[], help="NAME=DIR: an existing index of blog NAME")
    args = parser.parse_args()
    existing = dict(item.split("=", 1) for item in args.data)
    sys.path.insert(0, str(REPO))
    os.environ["HF_HUB_OFFLINE"] = "1"

    work = Path(tempfile.mkdtemp(prefix="blogbot-adapt-bench-"))
    report: dict = {"cores": len(os.sched_getaffinity(0))}
    try:
        for name in args.blog or ["heidloff", "kubernetes", "rust"]:
            corpus, question_files = BLOGS[name]
            data_dir = work / name
            if name in existing:
                shutil.copytree(existing[name], data_dir)
            else:
                blogbot("ingest", str(corpus), "--data-dir", str(data_dir))
            before = quality(data_dir, question_files, None)
            seconds, summary = blogbot("adapt", "--data-dir", str(data_dir))
            numbers = re.search(r"trained on (\d+) pairs in (\d+) steps \((\d+) s.*\((\d+) s\)", summary)
            report[name] = {
                "adapt_s": round(seconds, 1), "summary": summary,
                "pairs": int(numbers.group(1)) if numbers else None,
                "steps": int(numbers.group(2)) if numbers else None,
                "train_s": int(numbers.group(3)) if numbers else None,
                "reembed_s": int(numbers.group(4)) if numbers else None,
                "peak_rss_mb_so_far": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                "baseline": before,
                "adapted": {str(w): quality(data_dir, question_files, w) for w in args.weights},
            }
            print(json.dumps({name: report[name]}), file=sys.stderr, flush=True)
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
