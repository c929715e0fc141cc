"""NLU quality: accuracy, per-intent precision and recall, confusions (`blogbot eval nlu`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.nlu.parser import Nlu

NO_INTENT = "(none)"   # below the confidence threshold, or a counterexample: the anything_else node takes the turn


class UtteranceFileError(ValueError):
    """An utterance file that cannot be read or is malformed; the message says where."""


def load_utterances(path: str | Path) -> list[dict]:
    """Lines of {"text", "intent"}; a bad line is an error naming its number."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UtteranceFileError(f"{path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise UtteranceFileError(f"{path}:{number}: not JSON") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not isinstance(item.get("intent"), str):
            raise UtteranceFileError(f'{path}:{number}: needs "text" and "intent" strings')
        items.append(item)
    if not items:
        raise UtteranceFileError(f"{path}: no utterances")
    return items


def score(pairs: list[tuple[str, str]]) -> dict:
    """Metrics of (gold, predicted) intent pairs."""
    gold_counts = Counter(g for g, _ in pairs)
    predicted_counts = Counter(p for _, p in pairs)
    right = Counter(g for g, p in pairs if g == p)
    per_intent = {}
    for intent in sorted(set(gold_counts) | (set(predicted_counts) - {NO_INTENT})):
        per_intent[intent] = {
            "precision": round(right[intent] / predicted_counts[intent], 3) if predicted_counts[intent] else None,
            "recall": round(right[intent] / gold_counts[intent], 3) if gold_counts[intent] else None,
            "support": gold_counts[intent]}
    confusions = Counter((g, p) for g, p in pairs if g != p)
    return {"utterances": len(pairs), "accuracy": round(sum(right.values()) / len(pairs), 4),
            "per_intent": per_intent,
            "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common()]}


def evaluate_nlu(nlu: Nlu, utterances: list[dict]) -> dict:
    """Score the NLU on held-out utterances: with the threshold (what the dialog sees) and top-1."""
    parses = [nlu.parse(u["text"]) for u in utterances]
    with_threshold = score([(u["intent"], p.intent or NO_INTENT) for u, p in zip(utterances, parses)])
    top1 = score([(u["intent"], p.intent_ranking[0][0]) for u, p in zip(utterances, parses)])
    with_threshold["accuracy_top1"] = top1["accuracy"]
    with_threshold["below_threshold"] = sum(1 for p in parses if p.intent is None)
    with_threshold["errors"] = [{"text": u["text"], "gold": u["intent"], "predicted": p.intent or NO_INTENT,
                                 "confidence": round(p.confidence, 3)}
                                for u, p in zip(utterances, parses) if (p.intent or NO_INTENT) != u["intent"]]
    return with_threshold


def cross_validate(nlu: Nlu, folds: int = 5) -> dict:
    """k-fold cross-validation over the configured examples (top-1, no threshold; an example the
    counterexamples win counts as NO_INTENT)."""
    from bot.nlu.intents import COUNTEREXAMPLES      # scikit-learn: only when needed

    results = nlu.classifier.cross_validate(folds)
    scored = score([(gold, NO_INTENT if predicted == COUNTEREXAMPLES else predicted) for _, gold, predicted, _ in results])
    scored["folds"] = folds
    return scored
