"""Readers' questions grouped by meaning, for content gaps and top questions.

The questions (the same text asked again, in any case and with or without its final punctuation,
counts once more, not as another point) are embedded with
the packaged sentence embedder and grouped by agglomerative clustering (scikit-learn, average
linkage on cosine distance, cut at `analytics.cluster_distance`). Each group is labelled with its
most specific terms: words and word pairs frequent in the group and rare in the other groups
(class-based TF-IDF over scikit-learn's tokenizer and English stop words), and shown with the
questions nearest its centre.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Above this many distinct questions the pairwise distances (n² floats) and the linkage get slow:
# the most asked ones are grouped and each of the rest joins the group of its nearest grouped
# question when that is close enough (else it stays alone). 4,000 keeps the report of 10,000 turns
# within its time goal on 2 cores (benchmarks/report.py).
MAX_LINKED = 4000


@dataclass
class QuestionGroup:
    """Questions of one meaning: a short label, how often they were asked, typical examples."""

    label: str
    count: int
    examples: list[str]
    questions: list[str]

    def as_json(self) -> dict:
        """The group as the report's JSON has it."""
        return {"label": self.label, "count": self.count, "examples": self.examples}


def group_questions(texts: list[str], encode: Callable[[list[str]], np.ndarray], distance: float,
                    examples: int = 3) -> list[QuestionGroup]:
    """`texts` grouped by meaning, the most asked group first; `encode` gives unit vectors (it is
    given each question as it was most often written, whitespace collapsed)."""
    wordings: dict[str, Counter] = {}
    for text in texts:
        if text and text.strip():
            written = " ".join(text.split())
            wordings.setdefault(written.casefold().rstrip("?!.… "), Counter())[written] += 1
    if not wordings:
        return []
    counts = Counter({ways.most_common(1)[0][0]: sum(ways.values()) for ways in wordings.values()})
    distinct = [text for text, _ in counts.most_common()]
    vectors = np.asarray(encode(distinct), dtype=np.float32)
    labels = _cluster(vectors, distance)
    members: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(int(label), []).append(index)
    groups = []
    terms = _specific_terms([[distinct[i] for i in ids] for ids in members.values()],
                            [[counts[distinct[i]] for i in ids] for ids in members.values()])
    for (label, ids), label_terms in zip(members.items(), terms):
        centre = vectors[ids].mean(axis=0)
        typical = sorted(ids, key=lambda i: (-counts[distinct[i]], -float(vectors[i] @ centre)))
        groups.append(QuestionGroup(label=label_terms or distinct[typical[0]][:60],
                                    count=sum(counts[distinct[i]] for i in ids),
                                    examples=[distinct[i] for i in typical[:examples]],
                                    questions=[distinct[i] for i in ids]))
    groups.sort(key=lambda g: (-g.count, g.label))
    return groups


def _cluster(vectors: np.ndarray, distance: float) -> np.ndarray:
    """A group number per vector (rows are the distinct questions, most asked first)."""
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    linked = vectors[:MAX_LINKED]
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine",
                                    linkage="average")
    labels = model.fit_predict(linked) if len(linked) > 1 else np.zeros(1, dtype=int)
    if len(vectors) <= MAX_LINKED:
        return labels
    rest = vectors[MAX_LINKED:]
    nearest = np.empty(len(rest), dtype=int)
    closeness = np.empty(len(rest), dtype=np.float32)
    for start in range(0, len(rest), 1024):         # bounded memory: 1,024 × MAX_LINKED at a time
        similarity = rest[start:start + 1024] @ linked.T
        nearest[start:start + 1024] = similarity.argmax(axis=1)
        closeness[start:start + 1024] = similarity.max(axis=1)
    joined = np.where(1.0 - closeness <= distance, labels[nearest], -1)
    alone = np.flatnonzero(joined < 0)
    joined[alone] = labels.max() + 1 + np.arange(len(alone))
    return np.concatenate([labels, joined])


def _specific_terms(groups: list[list[str]], weights: list[list[int]], top: int = 3) -> list[str]:
    """Per group, its `top` most specific terms joined by " · " ("" when it has none)."""
    from sklearn.feature_extraction.text import CountVectorizer

    documents = [" ".join(" ".join([text] * w) for text, w in zip(texts, ws)) for texts, ws in zip(groups, weights)]
    try:
        vectorizer = CountVectorizer(stop_words="english", ngram_range=(1, 2), lowercase=True)
        matrix = vectorizer.fit_transform(documents)
    except ValueError:                   # nothing but stop words
        return [""] * len(groups)
    vocabulary = vectorizer.get_feature_names_out()
    per_term = np.asarray(matrix.sum(axis=0)).ravel()
    average = max(1.0, float(per_term.sum()) / len(groups))
    labels = []
    for row in range(matrix.shape[0]):
        counts = matrix.getrow(row)
        total = max(1, counts.sum())
        scored = sorted(((c / total) * math.log(1 + average / per_term[t]), vocabulary[t])
                        for t, c in zip(counts.indices, counts.data))
        chosen: list[str] = []
        for _, term in reversed(scored):
            if any(set(term.split()) & set(other.split()) for other in chosen):
                continue            # "tekton" or "run tekton" next to "tekton pipelines" say nothing new
            chosen.append(term)
            if len(chosen) == top:
                break
        labels.append(" · ".join(chosen))
    return labels
