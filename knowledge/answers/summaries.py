"""Extractive summaries of a post: its most central sentences, in reading order.

A passage is central when its vector is close to the mean of all the post's passage vectors;
the summary takes the leading sentences of the most central passages. Nothing is generated, so
every sentence of a summary is the post's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from knowledge.corpus.chunking import split_sentences

if TYPE_CHECKING:
    from knowledge.search.retrieval import Retriever


INTRO_BONUS = 0.1


@dataclass
class Summary:
    """A post's summary: the post and its chosen sentences, in reading order."""

    post: object          # PostRecord
    sentences: list[str]

    @property
    def text(self) -> str:
        """The summary's sentences as one paragraph."""
        return " ".join(self.sentences)


def summarize_post(retriever: Retriever, post_id: int, sentences: int = 3, max_chars: int = 700) -> Summary:
    """The `sentences` most representative sentences of a post (at most `max_chars`)."""
    post = retriever.current_posts()[post_id]
    passages = [(p, v) for p, v in retriever.post_passages(post_id) if p.prose.strip()]
    if not passages:
        return Summary(post, [])
    vectors = np.stack([v for _, v in passages]).astype(np.float32)
    centre = vectors.mean(axis=0)
    centrality = vectors @ (centre / max(np.linalg.norm(centre), 1e-12))
    centrality[0] += INTRO_BONUS      # a post's opening usually says what it is about
    chosen: list[tuple[int, int, str]] = []     # (passage order, sentence order, sentence)
    for order in np.argsort(-centrality):
        candidates = [s for s in split_sentences(passages[order][0].prose) if _readable(s)]
        for position, sentence in enumerate(candidates[:2]):
            chosen.append((int(order), position, sentence))
            if len(chosen) >= sentences:
                break
        if len(chosen) >= sentences:
            break
    chosen.sort()
    kept, size = [], 0
    for _, _, sentence in chosen:
        if kept and size + len(sentence) > max_chars:
            break
        kept.append(sentence)
        size += len(sentence) + 1
    return Summary(post, kept)


def _readable(sentence: str) -> bool:
    """A whole sentence of prose: capitalized, ended, six words or more."""
    return len(sentence.split()) >= 6 and sentence[0].isupper() and sentence[-1] in ".!?" and not sentence.endswith(":")
