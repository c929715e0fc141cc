"""How much a better sentence scorer could add to the extractive answer, per question set.

For every answerable question that gets an extractive answer (the generator is off), the answer's keyword recall is set
beside that of runs the selector could have started (each the sentence and the ones after it, about
`answer.extractive_words` words, with the code they announce): the run it does start, the best of
the runs of its three best-scored sentences, and the best run of all candidate sentences of the top
posts' passages. `best_rank` is where the scorer puts the sentence that starts that best run (0: it
chose it). `in_passages` is the recall of all the passages' text: what no choice of sentences can beat.

Prints one JSON object per set. Usage:
  .venv/bin/python benchmarks/evidence.py QUESTIONS.jsonl@DATA_DIR [...]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(REPO))

from knowledge.answering import AnswerComposer  # noqa: E402
from knowledge.evaluation import has_gold, load_questions, parse_eval_set  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402


def recall(keywords: list[str], text: str) -> float:
    text = text.lower()
    return sum(k.lower() in text for k in keywords) / len(keywords)


def measure(composer: AnswerComposer, questions: list[dict]) -> dict:
    """The figures of one set (means over its extractive answers)."""
    cfg = composer.settings.answer
    rows = []
    for question in questions:
        keywords = question.get("answer_keywords") or []
        if not has_gold(question) or not keywords:
            continue
        answer = composer.answer(question["question"])
        if answer.mode != "extractive":
            continue
        kind = composer.prompts.question_kind(question["question"])
        hits = composer.retriever.search(question["question"], k=max(cfg.posts, cfg.coverage_posts))
        passages, _, selector, vector, prior = composer.evidence_selector(question["question"], hits, kind)
        ranked = selector.ranked(question["question"], vector, prior, cfg.sentence_context, cfg.lexical_weight)
        if not ranked:
            continue

        def run_recall(anchor: int) -> float:
            sources = [selector.sources[i] for i in selector.run(anchor, cfg.extractive_words)]
            return recall(keywords, " ".join(f"{s.text} {s.code}" for s in sources))

        runs = [run_recall(i) for i, _ in ranked]
        everything = " ".join(f"{s.text} {s.code}" for p in passages for s in p.sources)
        rows.append({"answer": recall(keywords, answer.text), "chosen_run": runs[0], "best_of_3": max(runs[:3]),
                     "best_run": max(runs), "best_rank": runs.index(max(runs)), "candidates": len(runs),
                     "in_passages": recall(keywords, everything)})
    if not rows:
        return {"questions": 0}
    figures = {key: round(statistics.mean(r[key] for r in rows), 3)
               for key in ("answer", "chosen_run", "best_of_3", "best_run", "in_passages")}
    figures.update(questions=len(rows), best_rank_median=statistics.median(r["best_rank"] for r in rows),
                   candidates_median=statistics.median(r["candidates"] for r in rows))
    return figures


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    settings = load_settings()
    settings.generator.backend = "none"   # the extractive answer is what is measured
    for spec in argv:
        eval_set = parse_eval_set(spec, Path(".blogbot"))
        retriever = Retriever(eval_set.data_dir, settings)
        try:
            composer = AnswerComposer(eval_set.data_dir, settings, retriever=retriever)
            figures = measure(composer, load_questions(eval_set.questions))
        finally:
            retriever.close()
        print(json.dumps({"set": eval_set.name, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
