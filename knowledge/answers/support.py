"""The support check: a sentence of an answer stands only when a sentence of the cited passages says
the same (close in meaning, and its passage holds most of its words and all of its numbers). Also
how answers are cut into sentences, streamed or whole."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.corpus.chunking import split_sentences
from knowledge.words import content_words

_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_SENTENCE_DONE = re.compile(r"[.!?](?:[\"')\]]*)\s+(?=\S)|\n+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MIN_WORDS = 3


@dataclass
class SourceSentence:
    """A sentence of a prompt passage, with the passage's number in the prompt."""

    text: str
    passage: int
    block: int = 0      # the block of text it comes from: extractive runs stay within one
    follows: bool = False   # from the passage after a best one: may continue a run, never start one
    code: str = ""          # the code block that comes right after it in the post, if any
    in_item: bool = False   # it goes on a list item's line (the item's second sentence or later)


@dataclass
class SupportedSentence:
    """A sentence of an answer that stands, with the passage that supports it and how closely."""

    text: str
    passage: int        # the passage that supports it best
    similarity: float
    code: str = ""      # in an extractive answer: the code block shown after it ("Run this:")
    in_item: bool = False   # in an extractive answer: it goes on the list item line before it


def strip_markers(text: str) -> str:
    """The text without its citation markers ("[1]", "[2, 3]")."""
    return _MARKER.sub("", text).strip()


# A sentence that ends inside a quotation ('…today.” [1] Next') ends after the quotation marks.
_QUOTED_END = re.compile(r"([.!?][”\"’)]+)\s+")


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer, citation markers removed, fragments dropped."""
    sentences = [s.strip() for s in split_sentences(_QUOTED_END.sub("\\1\n", strip_markers(text)))]
    return [s for s in sentences if len(s.split()) >= MIN_WORDS]


def complete_sentences(buffer: str) -> tuple[list[str], str]:
    """Split streamed text into the sentences already finished and the unfinished rest."""
    done, start = [], 0
    for match in _SENTENCE_DONE.finditer(buffer):
        done.append(buffer[start:match.end()].strip())
        start = match.end()
    return [s for s in done if s], buffer[start:]


class SupportChecker:
    """A sentence is supported when a source sentence is close in meaning (cosine of embeddings)
    and its passage contains most of the sentence's content words. The second test catches
    fluent sentences that mix the passage's topic with invented claims."""

    def __init__(self, sources: list[SourceSentence], encode, threshold: float, word_coverage: float = 0.75,
                 vectors: np.ndarray | None = None, given: list[str] = ()):
        """`vectors`: the sources' embeddings when the caller has them already. `given`: phrases the
        answer's voice adds (knowledge/answers/voice.py), left out of a sentence before it is checked."""
        phrases = sorted({p.strip() for p in given if p.strip()}, key=len, reverse=True)
        self.given = re.compile("|".join(rf"{re.escape(p)}(?:'s)?" for p in phrases)) if phrases else None
        self.sources = sources
        self.encode = encode
        self.threshold = threshold
        self.word_coverage = word_coverage
        if vectors is None:
            vectors = encode([s.text for s in sources]) if sources else np.zeros((0, 1), dtype=np.float32)
        self.vectors = vectors
        self.passage_words: dict[int, set[str]] = {}
        self.passage_numbers: dict[int, set[str]] = {}
        for source in sources:
            self.passage_words.setdefault(source.passage, set()).update(content_words(source.text))
            self.passage_numbers.setdefault(source.passage, set()).update(_NUMBER.findall(source.text))
        self._seen: set[str] = set()

    def coverage(self, text: str, passage: int) -> float:
        """Share of the sentence's content words found in the passage; 0 when it states a number
        the passage does not contain (small models like to invent sizes and years)."""
        if not set(_NUMBER.findall(text)) <= self.passage_numbers.get(passage, set()):
            return 0.0
        words = content_words(text)
        return len(words & self.passage_words.get(passage, set())) / len(words) if words else 0.0

    def _without_given(self, text: str) -> str:
        """The sentence as checked: without the given phrases and the quotation marks around what is
        left ("Niklas Heidloff writes: “I've changed…”" -> "I've changed…")."""
        if self.given is None:
            return text
        text = " ".join(self.given.sub(" ", text).split())
        return re.sub(r"^[\W_]+", "", text).rstrip("”\"’ ")

    def check(self, sentence: str, question_vector: np.ndarray | None = None,
              min_question_similarity: float = 0.0) -> SupportedSentence | None:
        """The sentence with its best source passage, or None when unsupported, a fragment or a repeat,
        or (given the question's vector) less similar to the question than `min_question_similarity`."""
        text = strip_markers(sentence)
        if len(text.split()) < MIN_WORDS or not self.sources or text.lower() in self._seen:
            return None
        compared = self._without_given(text)
        vector = self.encode([compared])[0]
        if question_vector is not None and float(vector @ question_vector) < min_question_similarity:
            return None
        similarity = self.vectors @ vector
        best = int(np.argmax(similarity))
        if similarity[best] < self.threshold or self.coverage(compared, self.sources[best].passage) < self.word_coverage:
            return None
        self._seen.add(text.lower())
        return SupportedSentence(text, self.sources[best].passage, float(similarity[best]))
