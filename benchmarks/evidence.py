"""How much a better sentence scorer could add to the extractive answer, per question set.

For every answerable question that gets an extractive answer (the generator is off), the answer's
keyword recall is set beside that of first runs the selector could have started (the sentence and
the ones after it, about `answer.extractive_words` words, with the code a first run shows): the run
it does start, the best of the runs of its three best-scored sentences, and the best run of all
candidate sentences of the top posts' passages (for "when" questions, of the post the answer must
start in). `best_rank` is where the scorer puts the sentence that starts that best run (0: it chose
it), over the questions where some run holds a keyword. `in_passages` is the recall of all the
passages' text and code: what no choice of sentences can beat. `measured` is the number of
questions behind the figures.

Prints one JSON object per set. Usage:
  .venv/bin/python benchmarks/evidence.py QUESTIONS.jsonl[@DATA_DIR] [...] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(REPO))

from knowledge.answers.composer import AnswerComposer  # noqa: E402
from knowledge.evaluation import QuestionFileError, has_gold, load_questions, parse_eval_set  # noqa: E402
from knowledge.corpus.index import IndexUnavailable  # noqa: E402
from knowledge.search.retrieval import Retriever  # noqa: E402
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
        hits = composer.search(question["question"])
        passages, _, selector, vector, prior, anchor_passage = composer.evidence_selector(question["question"], hits, kind)
        ranked = [i for i, _ in selector.ranked(question["question"], vector, prior, cfg.sentence_context,
                                                lexical_weight=cfg.lexical_weight)]
        if not ranked:
            continue
        chosen = selector.first_start(ranked, anchor_passage)
        starts = [i for i in ranked if anchor_passage is None or selector.sources[i].passage == anchor_passage] or [chosen]
        runs = [recall(keywords, selector.first_run_text(i, cfg.extractive_words)) for i in starts]
        everything = " ".join(f"{s.text} {s.code}" for p in passages for s in p.sources)
        rows.append({"answer": recall(keywords, answer.text), "chosen_run": runs[starts.index(chosen)],
                     "best_of_3": max(runs[:3]), "best_run": max(runs),
                     "best_rank": runs.index(max(runs)) if max(runs) > 0 else None, "candidates": len(runs),
                     "in_passages": recall(keywords, everything)})
    if not rows:
        return {"measured": 0}
    figures = {key: round(statistics.mean(r[key] for r in rows), 3)
               for key in ("answer", "chosen_run", "best_of_3", "best_run", "in_passages")}
    ranks = [r["best_rank"] for r in rows if r["best_rank"] is not None]
    figures.update(measured=len(rows), best_rank_median=statistics.median(ranks) if ranks else None,
                   candidates_median=statistics.median(r["candidates"] for r in rows))
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", metavar="QUESTIONS[@DATA_DIR]")
    parser.add_argument("--data-dir", help="the index of sets without @DATA_DIR (default: $BLOGBOT_DATA_DIR or ./.blogbot)")
    args = parser.parse_args(argv)
    default_dir = Path(args.data_dir or os.environ.get("BLOGBOT_DATA_DIR") or ".blogbot")
    settings = load_settings()
    settings.generator.backend = "none"   # the extractive answer is what is measured
    failed = 0
    for spec in args.sets:
        eval_set = parse_eval_set(spec, default_dir)
        try:
            questions = load_questions(eval_set.questions)
            retriever = Retriever(eval_set.data_dir, settings)
        except (QuestionFileError, IndexUnavailable) as exc:
            print(f"error: {eval_set.name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        try:
            figures = measure(AnswerComposer(eval_set.data_dir, settings, retriever=retriever), questions)
        finally:
            retriever.close()
        print(json.dumps({"set": eval_set.name, **figures}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
