"""Checks that answer sentences are supported by the prompt's passages, and extractive answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import split_sentences

_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_SENTENCE_DONE = re.compile(r"[.!?](?:[\"')\]]*)\s+(?=\S)|\n+")
MIN_WORDS = 3


@dataclass
class SourceSentence:
    """A sentence of a prompt passage, with the passage's number in the prompt."""

    text: str
    passage: int


@dataclass
class SupportedSentence:
    text: str
    passage: int        # the passage that supports it best
    similarity: float


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text).strip()


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer, citation markers removed, fragments dropped."""
    sentences = [strip_markers(s) for s in split_sentences(text)]
    return [s for s in sentences if len(s.split()) >= MIN_WORDS]


def complete_sentences(buffer: str) -> tuple[list[str], str]:
    """Split streamed text into the sentences already finished and the unfinished rest."""
    done, start = [], 0
    for match in _SENTENCE_DONE.finditer(buffer):
        done.append(buffer[start:match.end()].strip())
        start = match.end()
    return [s for s in done if s], buffer[start:]


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORDS = re.compile(r"[a-z0-9][a-z0-9+#.-]*[a-z0-9+#]|[a-z0-9]")
_COMMON = frozenset("""the a an and or but of to in on for with by from as at is are was were be been being this that
these those it its you your we our they their he his she her i my me can could should would will may might
must do does did done has have had not no so than then there here also just more most very into about over
using use used via how what when where which who why all any each one two some such only own same too""".split())


def content_words(text: str) -> set[str]:
    """Lowercased words that carry meaning, cut to 6 letters so "quantize" meets "quantized"."""
    return {w[:6] for w in _WORDS.findall(text.lower()) if w not in _COMMON and len(w) > 2}


LEXICAL_WEIGHT = 0.3
MIN_RELATIVE_SCORE = 0.75


def relevance(question: str, sentences: list[str], similarities) -> np.ndarray:
    """How well each sentence answers the question: cosine similarity plus a share of the
    question's content words it contains (names and numbers matter to readers, embeddings blur them)."""
    wanted = content_words(question)
    overlap = np.array([len(wanted & content_words(s)) / len(wanted) if wanted else 0.0 for s in sentences])
    return np.asarray(similarities) + LEXICAL_WEIGHT * overlap


class SupportChecker:
    """A sentence is supported when a source sentence is close in meaning (cosine of embeddings)
    and its passage contains most of the sentence's content words. The second test catches
    fluent sentences that mix the passage's topic with invented claims."""

    def __init__(self, sources: list[SourceSentence], encode, threshold: float, word_coverage: float = 0.75,
                 vectors: np.ndarray | None = None):
        """`vectors`: the sources' embeddings when the caller has them already."""
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

    def check(self, sentence: str) -> SupportedSentence | None:
        """The sentence with its best source passage, or None when unsupported, a fragment or a repeat."""
        text = strip_markers(sentence)
        if len(text.split()) < MIN_WORDS or not self.sources or text.lower() in self._seen:
            return None
        similarity = self.vectors @ self.encode([text])[0]
        best = int(np.argmax(similarity))
        if similarity[best] < self.threshold or self.coverage(text, self.sources[best].passage) < self.word_coverage:
            return None
        self._seen.add(text.lower())
        return SupportedSentence(text, self.sources[best].passage, float(similarity[best]))

    def extractive(self, question: str, count: int, question_vector: np.ndarray | None = None) -> list[SupportedSentence]:
        """The `count` source sentences closest to the question, in reading order. The first
        comes from the top-ranked passage: retrieval ranked its post best on more evidence
        than one sentence's similarity."""
        candidates = [i for i, s in enumerate(self.sources) if len(s.text.split()) >= 4]
        if not candidates:
            return []
        if question_vector is None:
            question_vector = self.encode([question])[0]
        scores = relevance(question, [self.sources[i].text for i in candidates], self.vectors[candidates] @ question_vector)
        order = np.argsort(-scores)
        ranked = [candidates[i] for i in order]
        score_of = {candidates[i]: float(scores[i]) for i in order}
        top_passage = min(self.sources[i].passage for i in candidates)
        first = next(i for i in ranked if self.sources[i].passage == top_passage)
        # Further sentences only when they answer nearly as well as the best one: a short answer
        # beats one padded with loosely related sentences.
        floor = MIN_RELATIVE_SCORE * score_of[ranked[0]]
        chosen = [first] + [i for i in ranked if i != first and score_of[i] >= floor][:max(count - 1, 0)]
        return [SupportedSentence(self.sources[i].text, self.sources[i].passage, 1.0) for i in sorted(chosen)]
