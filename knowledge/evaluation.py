"""Retrieval evaluation on a question file (the format of shared/eval/questions-dev.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.retrieval import MODES, Retriever


class QuestionFileError(ValueError):
    """The question file is missing or a line is not a valid question."""


def load_questions(path: str | Path) -> list[dict]:
    """Questions with `question`, `gold_permalinks` and/or `gold_posts`; errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise QuestionFileError(f"no such question file: {path}")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise QuestionFileError(f"{path}:{number}: needs a 'question' string")
        questions.append(item)
    if not questions:
        raise QuestionFileError(f"{path}: no questions")
    return questions


def _is_gold(hit, question: dict) -> bool:
    permalinks = {p.rstrip("/") for p in question.get("gold_permalinks") or []}
    files = {Path(f).name for f in question.get("gold_posts") or []}
    return hit.post.permalink.rstrip("/") in permalinks or Path(hit.post.source).name in files


def evaluate_retrieval(retriever: Retriever, questions: list[dict], modes=MODES) -> dict:
    """hit@1, hit@5, recall@5 and MRR@10 per mode, over questions that have gold posts."""
    answerable = [q for q in questions if q.get("gold_permalinks") or q.get("gold_posts")]
    results: dict = {"questions": len(answerable), "left_out_unanswerable": len(questions) - len(answerable)}
    for mode in modes:
        hit1 = hit5 = recall5 = mrr = 0.0
        misses = []
        for question in answerable:
            hits = retriever.search(question["question"], k=10, mode=mode)
            flags = [_is_gold(h, question) for h in hits]
            gold_count = max(len(question.get("gold_permalinks") or []), len(question.get("gold_posts") or []))
            hit1 += any(flags[:1])
            hit5 += any(flags[:5])
            recall5 += sum(flags[:5]) / gold_count
            first = next((i for i, flag in enumerate(flags) if flag), None)
            mrr += 1.0 / (first + 1) if first is not None else 0.0
            if not any(flags[:5]):
                misses.append(question.get("id") or question["question"])
        n = max(len(answerable), 1)
        results[mode] = {"hit@1": round(hit1 / n, 3), "hit@5": round(hit5 / n, 3),
                         "recall@5": round(recall5 / n, 3), "mrr@10": round(mrr / n, 3), "missed@5": misses}
    return results
