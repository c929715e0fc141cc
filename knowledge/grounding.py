"""Checks that answer sentences are supported by the prompt's passages, and extractive answers."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import split_sentences

_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_SENTENCE_DONE = re.compile(r"[.!?](?:[\"')\]]*)\s+(?=\S)|\n+")
MIN_WORDS = 3
MAX_LIST_ITEMS = 8
LIST_WORDS = 2      # a list an extractive run enters may take it to this many times its word budget
SHORT_CODE_LINES = 4
OVERSHOOT = 1.3     # an extractive run may end this far past its word budget to finish a sentence
LIST_ITEM = re.compile(r"\s*([-*\u2022]|\d+[.)])\s")
_ENDS_SENTENCE = re.compile(r"[.!?:][\"'\u201d\u2019)\]]*\s*$")


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
    text: str
    passage: int        # the passage that supports it best
    similarity: float
    code: str = ""      # in an extractive answer: the code block shown after it ("Run this:")
    in_item: bool = False   # in an extractive answer: it goes on the list item line before it


def strip_markers(text: str) -> str:
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
                 vectors: np.ndarray | None = None, pointer: re.Pattern | None = None, given: list[str] = ()):
        """`vectors`: the sources' embeddings when the caller has them already. `pointer` matches the
        sentences that only send the reader elsewhere; extractive answers leave them out. `given`:
        phrases the answer's voice adds (knowledge/voice.py), left out of a sentence before it is checked."""
        self.pointer = pointer
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

    def evidence(self, question: str, question_vector: np.ndarray, max_words: int, other_posts_score: float,
                 anchor_passage: int | None = None, prior: dict[int, float] | None = None,
                 context: int = 1, second_run_score: float = 0.0,
                 second_run_words: int = 0) -> list[list[SupportedSentence]]:
        """The extractive answer, as runs of consecutive sentences of one passage each.

        The first run starts at the sentence that best answers the question and goes on in reading
        order, within its block of text, until about `max_words` words: authors name the subject in
        one sentence and explain it in the next ones, or in the list that follows a colon. The best
        sentence of another block of text (of any post) starts a second run of about
        `second_run_words` words when it scores at least `second_run_score` times the first one
        (0: never): two places answer about equally well, and the scores cannot tell which one is
        right. Each other passage adds its best sentence when it scores at least `other_posts_score`
        times the first one. `anchor_passage` keeps the first run in that passage, and then there is
        no second run; `prior` adds a score per passage to its sentences when choosing the first one
        (how well retrieval ranked the post).
        `context`: a sentence's similarity to the question is that of the text made of it and the
        sentences after it in its block, this many in all. A sentence that only restates the question
        scores lower then than one followed by the answer.
        """
        candidates = [i for i, s in enumerate(self.sources) if not s.follows and len(s.text.split()) >= 4
                      and _reads_as_sentence(s.text) and not self._points_elsewhere(i)]
        if not candidates:
            return []
        similarities = (self.vectors[candidates] if context <= 1
                        else self.encode([self._reading(i, context) for i in candidates])) @ question_vector
        scores = relevance(question, [self.sources[i].text for i in candidates], similarities)
        if prior:
            scores = scores + np.array([prior.get(self.sources[i].passage, 0.0) for i in candidates])
        ranked = [candidates[i] for i in np.argsort(-scores)]
        score_of = {candidates[i]: float(scores[i]) for i in range(len(candidates))}
        anchor = next((i for i in ranked if anchor_passage is None or self.sources[i].passage == anchor_passage), ranked[0])
        run = self._run(anchor, max_words)
        runs = [run]
        used = {self.sources[i].text for i in run}
        if anchor_passage is None and second_run_score > 0:
            second = next((i for i in ranked if self.sources[i].block != self.sources[anchor].block), None)
            if second is not None and score_of[second] >= second_run_score * score_of[anchor]:
                # Posts that open with the same words as the first run: the second run reads on after them.
                second_run = list(itertools.dropwhile(lambda i: self.sources[i].text in used,
                                                      self._run(second, second_run_words)))
                if second_run:
                    runs.append(second_run)
                    used.update(self.sources[i].text for i in second_run)
        for passage in dict.fromkeys(self.sources[i].passage for i in ranked):
            if passage == self.sources[anchor].passage:
                continue
            best = next(i for i in ranked if self.sources[i].passage == passage)
            if score_of[best] >= other_posts_score * score_of[anchor] and self.sources[best].text not in used:
                runs.append([best])
                used.add(self.sources[best].text)
        seen: set[str] = set()
        result = []
        for r in runs:   # runs show the code their sentences announce; the first one also the code after its end
            sentences = [SupportedSentence(self.sources[i].text, self.sources[i].passage, 1.0,
                                           self.sources[i].code if self._announces_code(i) or (r is run and i == r[-1])
                                           else "",
                                           in_item=self.sources[i].in_item and i - 1 in r)
                         for i in r if not (self.sources[i].text in seen or seen.add(self.sources[i].text))]
            piece: list[SupportedSentence] = []
            for sentence in sentences:   # a run goes on after code as a new piece, with a marker of its own
                piece.append(sentence)
                if sentence.code:
                    result.append(piece)
                    piece = []
            if piece:
                result.append(piece)
        return result

    def _run(self, anchor: int, max_words: int) -> list[int]:
        """The sentences from `anchor` on, in reading order within its block, up to about `max_words`
        words, the words of the code they announce included ("First install the OLM:", its command,
        "Next the bundle is created:", …). A list it enters is shown whole; it stops before a sentence
        that only points elsewhere."""
        def words_of(i: int) -> int:
            return len(self.sources[i].text.split()) + (len(self.sources[i].code.split()) if self._announces_code(i) else 0)

        run, words = [anchor], words_of(anchor)
        following = anchor + 1

        def same_block(i: int) -> bool:
            return i < len(self.sources) and self.sources[i].block == self.sources[anchor].block

        def in_list(i: int) -> bool:   # a list item's line, or a later sentence on it
            return bool(LIST_ITEM.match(self.sources[i].text)) or self.sources[i].in_item

        # A list the run has entered is shown whole, up to MAX_LIST_ITEMS items and LIST_WORDS x budget.
        def list_goes_on() -> bool:
            items = [i for i in run if LIST_ITEM.match(self.sources[i].text)]
            return (bool(items) and in_list(run[-1]) and in_list(following) and words < LIST_WORDS * max_words
                    and (self.sources[following].in_item or len(items) < MAX_LIST_ITEMS))

        def fits() -> bool:   # below the budget, and no long sentence that overshoots it by far
            return words < max_words and words + len(self.sources[following].text.split()) <= OVERSHOOT * max_words

        while same_block(following) and not self._points_elsewhere(following) and (fits() or list_goes_on()):
            run.append(following)
            words += words_of(following)
            following += 1
        # A run that stops at "…as follows:" takes the list or code it announces, or ends before it.
        if len(run) > 1 and self.sources[run[-1]].text.rstrip().endswith(":") and not self._announces_code(run[-1]):
            items = 0
            while same_block(following) and in_list(following) and words < LIST_WORDS * max_words \
                    and (self.sources[following].in_item or items < MAX_LIST_ITEMS):
                items += not self.sources[following].in_item
                run.append(following)
                words += words_of(following)
                following += 1
            if not items:
                run.pop()
        return run

    def _reading(self, index: int, count: int) -> str:
        """The sentence at `index` and the ones after it in its block, `count` sentences at most. It
        ends at a sentence that announces code: the code explains that sentence, and what comes after
        the code is the next step ("First the OLM needs to be installed." is read without "Next the
        bundle is created…")."""
        sentences = [self.sources[index].text]
        for following in range(index + 1, min(index + count, len(self.sources))):
            if self.sources[following].block != self.sources[index].block or self._announces_code(following - 1):
                break
            sentences.append(self.sources[following].text)
        return " ".join(sentences)

    def _points_elsewhere(self, index: int) -> bool:
        """Whether the sentence only sends the reader elsewhere ("To find out more, check out the
        documentation."): the links are not in the answer, so it says nothing there."""
        return bool(self.pointer and self.pointer.search(self.sources[index].text))

    def _announces_code(self, index: int) -> bool:
        """Whether the sentence introduces the code block after it: it ends with a colon ("Run this
        command:"), or the code is a few lines, like the commands after "First install the modules."."""
        source = self.sources[index]
        return bool(source.code) and (source.text.rstrip().endswith(":") or source.code.count("\n") < SHORT_CODE_LINES)


def _reads_as_sentence(text: str) -> bool:
    """A sentence or a list item, not a bare heading or caption line."""
    return bool(LIST_ITEM.match(text) or _ENDS_SENTENCE.search(text))
