"""The answer figures on question sets made from each blog (`blogbot eval synth`), one set per half of
the blog's posts: half 1 is the one to look at while tuning, half 2 is only reported. Besides the
`blogbot eval sets` row, abstention is broken down by the kind of not-covered question (a name the
blog lacks, a name it mentions only in passing) and by how it is written (capitals as usual, or all
lower case), and false abstention likewise.

Prints one JSON object. Usage:
  .venv/bin/python benchmarks/synthetic.py [--blog NAME ...] [--count 100] [--data NAME=DIR ...]
`--data` uses an existing index of that blog (read only) instead of ingesting it into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"
BLOGS = {"heidloff": SHARED / "corpus" / "heidloff-blog", "rust": SHARED / "corpus" / "rust-blog",
         "kubernetes": SHARED / "corpus" / "kubernetes-blog", "demo": REPO / "demo" / "blog"}


def measure(data_dir: Path, count: int) -> dict:
    from knowledge.answers.composer import AnswerComposer
    from knowledge.corpus.embedder import get_embedder
    from knowledge.evaluation import evaluate_answers, evaluate_retrieval
    from knowledge.search.retrieval import Retriever
    from knowledge.settings import load_settings
    from knowledge.synthetic import synthesize

    settings = load_settings()
    retriever = Retriever(data_dir, settings)
    composer = AnswerComposer(data_dir, settings, retriever=retriever)
    encode = get_embedder(settings.embedder).encode
    out = {}
    try:
        for half in (1, 2):
            questions = synthesize(retriever, encode, count, seed=0, rare_share=settings.answer.name_posts_share,
                                   half=half)
            search = evaluate_retrieval(retriever, questions, modes=("hybrid",))
            scored = evaluate_answers(composer, questions)
            kinds: Counter = Counter()
            for question, result in zip(questions, scored["per_question"]):
                key = f"{question['type']}/{'lowercase' if question['lowercase'] else 'capitals'}"
                kinds[key + " questions"] += 1
                kinds[key + " declined"] += result["mode"] == "abstained"
            out[f"half{half}"] = {
                "questions": len(questions), "hit@5": search["hybrid"]["hit@5"], "mrr@10": search["hybrid"]["mrr@10"],
                **{k: scored[k] for k in ("citation_hit_rate", "keyword_recall", "abstention_rate_unanswerable",
                                          "false_abstention_rate", "support_rate", "first_token_s_p50", "total_s_p50")},
                "declined_by_kind": dict(sorted(kinds.items()))}
    finally:
        retriever.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blog", nargs="+", choices=sorted(BLOGS), default=sorted(BLOGS))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--data", nargs="*", default=[], metavar="NAME=DIR")
    args = parser.parse_args()
    existing = dict(item.split("=", 1) for item in args.data)
    results = {}
    for blog in args.blog:
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(existing.get(blog) or scratch)
            if blog not in existing:
                subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(BLOGS[blog]), "--data-dir",
                                str(data_dir), "--quiet"], cwd=REPO, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
            results[blog] = measure(data_dir, args.count)
        print(f"… {blog} done", file=sys.stderr, flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
