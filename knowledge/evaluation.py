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


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else 0.0


def evaluate_answers(composer, questions: list[dict], progress=lambda done, total: None) -> dict:
    """Citation hit, keyword recall, abstention, support and latency of `composer` on `questions`."""
    from knowledge.chunking import split_sentences
    from knowledge.grounding import SourceSentence, SupportChecker, answer_sentences

    answerable = cited = 0
    recall_sum = abstained_ok = false_abstain = unanswerable = 0
    supported = sentences_total = 0
    first_token, total, per_question = [], [], []
    modes: dict[str, int] = {}
    for number, question in enumerate(questions, 1):
        answer = composer.answer(question["question"])
        modes[answer.mode] = modes.get(answer.mode, 0) + 1
        first_token.append(answer.timings.get("first_token_s", 0.0))
        total.append(answer.timings.get("total_s", 0.0))
        gold = {p.rstrip("/") for p in question.get("gold_permalinks") or []}
        record = {"id": question.get("id"), "mode": answer.mode, "answer": answer.text,
                  "cited": [c.permalink for c in answer.citations]}
        if not gold and not question.get("gold_posts"):
            unanswerable += 1
            abstained_ok += answer.abstained
        else:
            answerable += 1
            false_abstain += answer.abstained
            hit = any(c.permalink.rstrip("/") in gold for c in answer.citations)
            cited += hit
            keywords = question.get("answer_keywords") or []
            found = [k for k in keywords if k.lower() in answer.text.lower()]
            recall_sum += len(found) / len(keywords) if keywords else 1.0
            record.update(citation_hit=hit, keywords_found=found)
        if answer.mode not in ("abstained", "listed"):
            # Support: each answer sentence against the sentences of the passages it cites. A list of
            # posts is left out: its lines are the cited posts' titles.
            sources = [SourceSentence(text, c.number) for c in answer.citations for text in split_sentences(c.passage)]
            cfg = composer.settings.answer
            checker = SupportChecker(sources, composer.embedder.encode, cfg.support_threshold, cfg.support_word_coverage)
            sentences = answer_sentences(answer.body)
            supported += sum(checker.check(s) is not None for s in sentences)
            sentences_total += len(sentences)
        per_question.append(record)
        progress(number, len(questions))
    return {
        "questions": len(questions), "answerable": answerable, "unanswerable": unanswerable,
        "citation_hit_rate": round(cited / answerable, 3) if answerable else None,
        "keyword_recall": round(recall_sum / answerable, 3) if answerable else None,
        "abstention_rate_unanswerable": round(abstained_ok / unanswerable, 3) if unanswerable else None,
        "false_abstention_rate": round(false_abstain / answerable, 3) if answerable else None,
        "support_rate": round(supported / sentences_total, 3) if sentences_total else None,
        "first_token_s_p50": round(percentile(first_token, 0.5), 3),
        "first_token_s_p95": round(percentile(first_token, 0.95), 3),
        "total_s_p50": round(percentile(total, 0.5), 3),
        "total_s_p95": round(percentile(total, 0.95), 3),
        "modes": modes,
        "per_question": per_question,
    }
