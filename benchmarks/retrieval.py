"""Retrieval benchmark on the real corpus in ../shared: ingest times, peak memory, search latency, quality.

Prints one JSON object. Usage: .venv/bin/python benchmarks/retrieval.py [--corpus DIR] [--questions FILE]
Timings are medians over repeats; the baseline measured in the same run is BM25-only search and,
for ingest, the cold ingest itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BLOGBOT = [sys.executable, "-m", "bot.cli"]


def run_ingest(corpus: Path, data_dir: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*BLOGBOT, "ingest", str(corpus), "--data-dir", str(data_dir), "--quiet"],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0:
        sys.exit(f"ingest failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(SHARED / "corpus" / "heidloff-blog" / "_posts"))
    parser.add_argument("--questions", default=str(SHARED / "eval" / "questions-dev.jsonl"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="blogbot-bench-"))
    try:
        corpus = work / "_posts"
        shutil.copytree(args.corpus, corpus)   # a private copy, so one post can be changed
        data_dir = work / "data"
        cold_s, cold_summary = run_ingest(corpus, data_dir)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        unchanged = [run_ingest(corpus, data_dir)[0] for _ in range(args.repeats)]
        changed = []
        victim = sorted(corpus.glob("*.md"))[len(list(corpus.glob("*.md"))) // 2]
        for round_ in range(args.repeats):
            with victim.open("a", encoding="utf-8") as handle:
                handle.write(f"\n\nAn added closing paragraph, revision {round_}.\n")
            changed.append(run_ingest(corpus, data_dir)[0])

        sys.path.insert(0, str(REPO))
        os.environ["HF_HUB_OFFLINE"] = "1"
        from knowledge.evaluation import evaluate_retrieval, load_questions, percentile
        from knowledge.search.retrieval import Retriever
        from knowledge.settings import load_settings

        retriever = Retriever(data_dir, load_settings())
        questions = load_questions(args.questions)
        retriever.search("warm up the embedder", k=5)
        latency: dict[str, list[float]] = {"hybrid": [], "bm25": [], "dense": []}
        for _ in range(args.repeats):
            for question in questions:
                for mode in latency:
                    started = time.perf_counter()
                    retriever.search(question["question"], k=5, mode=mode)
                    latency[mode].append((time.perf_counter() - started) * 1000)
        quality = evaluate_retrieval(retriever, questions)
        for mode in ("hybrid", "bm25", "dense"):
            quality[mode].pop("missed@5", None)
        hybrid_p50 = statistics.median(latency["hybrid"])
        print(json.dumps({
            "corpus_posts": len(list(corpus.glob("*.md"))),
            "cold_ingest": {"seconds": round(cold_s, 1), "summary": cold_summary, "peak_rss_mb": round(peak_mb)},
            "reingest_unchanged_s": {"median": round(statistics.median(unchanged), 2),
                                     "ratio_to_cold": round(statistics.median(unchanged) / cold_s, 4)},
            "reingest_one_changed_s": {"median": round(statistics.median(changed), 2),
                                       "ratio_to_cold": round(statistics.median(changed) / cold_s, 4)},
            "search_latency_ms": {
                mode: {"p50": round(statistics.median(v), 1), "p95": round(percentile(v, 0.95), 1)}
                for mode, v in latency.items()},
            "hybrid_latency_ratio_to_bm25": round(hybrid_p50 / statistics.median(latency["bm25"]), 2),
            "quality": quality,
        }, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
