"""Evaluation on question files (the format of shared/eval/*.jsonl): retrieval, answers, and a table
of both over several question sets and indexes at once.

A question's gold posts may be given as `gold_permalinks` (the post's path on the site), `gold_urls`
(its public address) or `gold_posts` (its file, as a path under the blog folder or a file name);
`resolve_gold` turns them into the permalinks of posts in the index, and reports gold posts that are
not in it (a wrong address or a post that was not read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from knowledge.search.retrieval import MODES, Retriever

if TYPE_CHECKING:
    from knowledge.answers.composer import Answer, AnswerComposer
    from knowledge.corpus.index import PostRecord
    from knowledge.settings import Settings


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


def has_gold(question: dict) -> bool:
    """Whether the blog covers the question (it names gold posts)."""
    return bool(question.get("gold_permalinks") or question.get("gold_urls") or question.get("gold_posts"))


def _address(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/").lower()


def _same_file(source: str, gold: str) -> bool:
    """`gold` (a path under the blog folder, or a file name) names the post read from `source`."""
    source_parts, gold_parts = Path(source).parts, Path(gold).parts
    return len(gold_parts) <= len(source_parts) and source_parts[-len(gold_parts):] == gold_parts


def resolve_gold(question: dict, posts: list[PostRecord]) -> tuple[set[str], list[str]]:
    """(permalinks of the question's gold posts among `posts`, gold entries matching no post)."""
    found: set[str] = set()
    missing = []
    for kind in ("gold_permalinks", "gold_urls", "gold_posts"):
        for gold in question.get(kind) or []:
            if kind == "gold_permalinks":
                matches = [p for p in posts if p.permalink.rstrip("/") == gold.rstrip("/")]
            elif kind == "gold_urls":
                matches = [p for p in posts if _address(p.url) == _address(gold)]
            else:
                matches = [p for p in posts if _same_file(p.source, gold)]
            found.update(p.permalink for p in matches)
            if not matches:
                missing.append(gold)
    return found, missing


def evaluate_retrieval(retriever: Retriever, questions: list[dict], modes: Iterable[str] = MODES) -> dict:
    """hit@1, hit@5, recall@5 and MRR@10 per mode, over questions that have gold posts."""
    answerable = [q for q in questions if has_gold(q)]
    posts = list(retriever.current_posts().values())
    results: dict = {"questions": len(answerable), "left_out_unanswerable": len(questions) - len(answerable)}
    for mode in modes:
        hit1 = hit5 = recall5 = mrr = 0.0
        misses = []
        for question in answerable:
            gold, _ = resolve_gold(question, posts)
            hits = retriever.search(question["question"], k=10, mode=mode)
            flags = [h.post.permalink in gold for h in hits]
            gold_count = max(1, len(gold))
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


def evaluate_answers(composer: AnswerComposer, questions: list[dict],
                     progress: Callable[[int, int], None] = lambda done, total: None) -> dict:
    """Citation hit, keyword recall, abstention, support and latency of `composer` on `questions`."""
    posts = list(composer.retriever.current_posts().values())
    by_permalink = {p.permalink: p for p in posts}
    site_author = composer.retriever.meta().get("blog_author") or ""
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
        gold, _ = resolve_gold(question, posts)
        record = {"id": question.get("id"), "mode": answer.mode, "answer": answer.text,
                  "cited": [c.permalink for c in answer.citations]}
        if not has_gold(question):
            unanswerable += 1
            abstained_ok += answer.abstained
        else:
            answerable += 1
            false_abstain += answer.abstained
            hit = any(c.permalink in gold for c in answer.citations)
            cited += hit
            keywords = question.get("answer_keywords") or []
            found = [k for k in keywords if k.lower() in answer.text.lower()]
            recall_sum += len(found) / len(keywords) if keywords else 1.0
            record.update(citation_hit=hit, keywords_found=found)
        if answer.mode not in ("abstained", "listed"):
            # A list of posts is left out: its lines are the cited posts' titles.
            answer_supported, answer_total = _support(composer, answer, by_permalink, site_author)
            supported += answer_supported
            sentences_total += answer_total
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


def _support(composer: AnswerComposer, answer: Answer, by_permalink: dict[str, PostRecord],
             site_author: str) -> tuple[int, int]:
    """(supported sentences, sentences) of an answer: each sentence checked against the sentences of
    the passages it cites."""
    from knowledge.corpus.chunking import split_sentences
    from knowledge.answers.support import SourceSentence, SupportChecker, answer_sentences

    sources = [SourceSentence(text, c.number) for c in answer.citations for text in split_sentences(c.passage)]
    cfg = composer.settings.answer
    # The answer names a post's author where the post says "I" (knowledge/answers/voice.py).
    given = [phrase for c in answer.citations for phrase in composer.voice().added_phrases(
        by_permalink[c.permalink].authors if c.permalink in by_permalink else [], site_author)]
    checker = SupportChecker(sources, composer.embedder.encode, cfg.support_threshold, cfg.support_word_coverage,
                             given=given)
    sentences = answer_sentences(answer.body)
    return sum(checker.check(s) is not None for s in sentences), len(sentences)


@dataclass
class EvalSet:
    """A question file scored on an index."""

    name: str
    questions: Path
    data_dir: Path


def parse_eval_set(spec: str, default_data_dir: Path) -> EvalSet:
    """`QUESTIONS.jsonl[@DATA_DIR]`: the set is named after the file."""
    questions, _, data_dir = spec.partition("@")
    return EvalSet(Path(questions).stem, Path(questions), Path(data_dir) if data_dir else default_data_dir)


def evaluate_sets(sets: list[EvalSet], settings: Settings, answers: bool = True,
                  progress: Callable[[str], None] = lambda message: None) -> list[dict]:
    """One row per set: retrieval (hybrid) and, unless `answers` is False, answer figures."""
    from knowledge.answers.composer import AnswerComposer

    rows = []
    for eval_set in sets:
        questions = load_questions(eval_set.questions)
        retriever = Retriever(eval_set.data_dir, settings)
        try:
            posts = list(retriever.current_posts().values())
            missing = sorted({m for q in questions for m in resolve_gold(q, posts)[1]})
            retrieval = evaluate_retrieval(retriever, questions, modes=("hybrid",))
            row = {"set": eval_set.name, "questions": len(questions), "answerable": retrieval["questions"],
                   "hit@5": retrieval["hybrid"]["hit@5"] if retrieval["questions"] else None,
                   "mrr@10": retrieval["hybrid"]["mrr@10"] if retrieval["questions"] else None,
                   "gold_not_in_index": missing}
            if answers:
                composer = AnswerComposer(eval_set.data_dir, settings, retriever=retriever)
                scored = evaluate_answers(composer, questions, progress=lambda n, total: progress(
                    f"{eval_set.name}: answered {n}/{total}") if not n % 10 else None)
                row.update({"cited_gold": scored["citation_hit_rate"], "keyword_recall": scored["keyword_recall"],
                            "abstention": scored["abstention_rate_unanswerable"],
                            "false_abstention": scored["false_abstention_rate"], "support": scored["support_rate"],
                            "first_token_s_p50": scored["first_token_s_p50"], "total_s_p50": scored["total_s_p50"],
                            "modes": scored["modes"]})
        finally:
            retriever.close()
        rows.append(row)
    return rows


TABLE_COLUMNS = ["hit@5", "mrr@10", "cited_gold", "keyword_recall", "abstention", "false_abstention", "support",
                 "first_token_s_p50", "total_s_p50"]


def format_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (the README's format); figures not measured are shown as –."""
    headers = ["set", "questions"] + TABLE_COLUMNS
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [row["set"], str(row["questions"])]
        cells += ["–" if row.get(column) is None else f"{row[column]:.3f}"
                  if isinstance(row[column], float) else str(row[column]) for column in TABLE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
