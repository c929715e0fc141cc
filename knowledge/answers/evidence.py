"""Evidence selection: the passages of the top posts as sentences in reading order, and the
extractive answer chosen from them (the sentence that best answers the question and the ones after
it, in runs of one block of text each)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from knowledge.corpus.chunking import split_sentences
from knowledge.search.retrieval import Hit, Retriever
from knowledge.answers.support import SourceSentence, SupportedSentence
from knowledge.words import content_words

if TYPE_CHECKING:
    from knowledge.search.retrieval import Passage

Encode = Callable[[list[str]], np.ndarray]   # texts -> unit vectors, one row each

MAX_LIST_ITEMS = 8
LIST_WORDS = 2      # a list an extractive run enters may take it to this many times its word budget
SHORT_CODE_LINES = 4
OVERSHOOT = 1.3     # an extractive run may end this far past its word budget to finish a sentence
MAX_CODE_LINES = 12
LIST_ITEM = re.compile(r"\s*([-*\u2022]|\d+[.)])\s")
_ENDS_SENTENCE = re.compile(r"[.!?:][\"'\u201d\u2019)\]]*\s*$")


@dataclass
class PromptPassage:
    """One post as the prompt gives it: its number there, its search hit and its sentences."""

    number: int
    hit: Hit
    # The prose sentences of the post's best passages, in reading order (the sources for checking).
    sources: list[SourceSentence] = field(default_factory=list)

    @property
    def sentences(self) -> list[str]:
        """The texts of `sources`."""
        return [source.text for source in self.sources]


def relevance(question: str, sentences: list[str], similarities: np.ndarray, lexical_weight: float) -> np.ndarray:
    """How well each sentence answers the question: cosine similarity plus `lexical_weight` times the
    share of the question's content words it contains (names and numbers matter to readers,
    embeddings blur them)."""
    wanted = content_words(question)
    overlap = np.array([len(wanted & content_words(s)) / len(wanted) if wanted else 0.0 for s in sentences])
    return np.asarray(similarities) + lexical_weight * overlap


def choose_passages(retriever: Retriever, encode: Encode, question: str, hits: list[Hit],
                    passages_per_post: int) -> tuple[list[PromptPassage], np.ndarray, np.ndarray]:
    """Each post's best passages as sentences in reading order, each passage followed by the next
    one of the post (an answer often goes on there; it only continues extractive answers, never
    starts one, unless it lies between two best passages). Returns the passages, the question's
    vector and one vector per passage sentence (in passage order), which the support check and
    the extractive answer reuse."""
    passages = []
    for number, hit in enumerate(hits, 1):
        in_post = retriever.post_passages(hit.post.id)
        position = {passage.chunk_id: i for i, (passage, _) in enumerate(in_post)}
        best = {position[p.chunk_id] for p in hit.passages[:passages_per_post] if p.chunk_id in position}
        best |= {i + 1 for i in best if i + 2 in best}   # between two best passages: part of what was found
        taken = sorted(best | {i + 1 for i in best if i + 1 < len(in_post)})
        prompt_passage = PromptPassage(number, hit)
        sources = prompt_passage.sources
        block = 0
        for i in taken:
            if i - 1 not in taken:   # adjacent passages read on as one block of text
                block += 1
                after = None         # the sentence a code block would follow
            for is_code, text in prose_and_code(in_post[i][0]):
                if is_code:
                    if after is not None and not sources[after].code:
                        sources[after].code = text
                    continue
                for line in text.split("\n"):
                    for position, sentence in enumerate(split_sentences(line)):
                        if len(sentence.split()) >= 2 and re.search(r"[A-Za-z]{3}", sentence) \
                                and sentence.count("|") < 2 and sentence not in prompt_passage.sentences:
                            sources.append(SourceSentence(sentence, number, number * 1000 + block, i not in best,
                                                          in_item=position > 0 and bool(LIST_ITEM.match(line))))
                            after = len(sources) - 1
        if not sources and hit.snippet:
            sources.append(SourceSentence(hit.snippet, number, number * 1000))
        passages.append(prompt_passage)
    everything = [s for p in passages for s in p.sentences]
    vectors = encode([question] + everything)
    return passages, vectors[0], vectors[1:]


def prose_and_code(passage: Passage) -> list[tuple[bool, str]]:
    """A passage's text in reading order as (is code, text) pieces. A code piece is cut to
    MAX_CODE_LINES lines; its lines are those of the passage text that its prose lacks."""
    prose_lines = set(passage.prose.split("\n"))
    pieces: list[tuple[bool, list[str]]] = []
    for line in passage.text.split("\n"):
        is_code = line not in prose_lines
        if pieces and pieces[-1][0] == is_code:
            pieces[-1][1].append(line)
        else:
            pieces.append((is_code, [line]))
    result = []
    for is_code, lines in pieces:
        if is_code:
            lines = [line for line in lines if line.strip()]
            lines = lines[:MAX_CODE_LINES] + (["…"] if len(lines) > MAX_CODE_LINES else [])
        text = "\n".join(lines).strip("\n")
        if text.strip():
            result.append((is_code, text))
    return result


class EvidenceSelector:
    """Chooses the extractive answer among the sentences of the prompt's passages (`sources`, with
    their `vectors`). `pointer` matches the sentences that only send the reader elsewhere; they are
    left out."""

    def __init__(self, sources: list[SourceSentence], vectors: np.ndarray, encode: Encode,
                 pointer: re.Pattern | None = None):
        self.sources = sources
        self.vectors = vectors
        self.encode = encode
        self.pointer = pointer

    def select(self, question: str, question_vector: np.ndarray, max_words: int, other_posts_score: float,
               anchor_passage: int | None = None, prior: dict[int, float] | None = None,
               context: int = 1, second_run_score: float = 0.0,
               second_run_words: int = 0, *, lexical_weight: float) -> list[list[SupportedSentence]]:
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
        `lexical_weight`: the weight of the question's words a sentence holds (see `relevance`).
        """
        scored = self.ranked(question, question_vector, prior, context, lexical_weight=lexical_weight)
        if not scored:
            return []
        ranked = [i for i, _ in scored]
        score_of = dict(scored)
        anchor = self.first_start(ranked, anchor_passage)
        run = self.run(anchor, max_words)
        runs = [run]
        used = {self.sources[i].text for i in run}
        if anchor_passage is None and second_run_score > 0:
            second = next((i for i in ranked if self.sources[i].block != self.sources[anchor].block), None)
            if second is not None and score_of[second] >= second_run_score * score_of[anchor]:
                # Posts that open with the same words as the first run: the second run reads on after them.
                second_run = list(itertools.dropwhile(lambda i: self.sources[i].text in used,
                                                      self.run(second, second_run_words)))
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
        return self._pieces(runs, run)

    def _pieces(self, runs: list[list[int]], first: list[int]) -> list[list[SupportedSentence]]:
        """The runs (indexes in `sources`; `first` is the first run) as the answer's pieces: their
        sentences, each shown once, with the code they show; a run goes on after code as a new
        piece, with a marker of its own."""
        seen: set[str] = set()
        result = []
        for r in runs:
            sentences = [SupportedSentence(self.sources[i].text, self.sources[i].passage, 1.0,
                                           self.sources[i].code if self._shows_code(i, r, r is first) else "",
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

    def ranked(self, question: str, question_vector: np.ndarray, prior: dict[int, float] | None = None,
               context: int = 1, *, lexical_weight: float) -> list[tuple[int, float]]:
        """The sentences that may start a run (index in `sources`, score), best first; the options as
        in `select`."""
        candidates = [i for i, s in enumerate(self.sources) if not s.follows and len(s.text.split()) >= 4
                      and _reads_as_sentence(s.text) and not self._points_elsewhere(i)]
        if not candidates:
            return []
        similarities = (self.vectors[candidates] if context <= 1
                        else self.encode([self._reading(i, context) for i in candidates])) @ question_vector
        scores = relevance(question, [self.sources[i].text for i in candidates], similarities, lexical_weight)
        if prior:
            scores = scores + np.array([prior.get(self.sources[i].passage, 0.0) for i in candidates])
        return [(candidates[i], float(scores[i])) for i in np.argsort(-scores)]

    def first_start(self, ranked: list[int], anchor_passage: int | None = None) -> int:
        """The sentence the first run starts at: the best-ranked one (of `anchor_passage`, if given)."""
        return next((i for i in ranked if anchor_passage is None or self.sources[i].passage == anchor_passage),
                    ranked[0])

    def first_run_text(self, anchor: int, max_words: int) -> str:
        """The words a first run from `anchor` shows: its sentences and the code it shows."""
        run = self.run(anchor, max_words)
        return " ".join(self.sources[i].text + (" " + self.sources[i].code if self._shows_code(i, run, True) else "")
                        for i in run)

    def _shows_code(self, index: int, run: list[int], first: bool) -> bool:
        """Runs show the code their sentences announce; the first one also the code after its end."""
        return self._announces_code(index) or (first and index == run[-1])

    def run(self, anchor: int, max_words: int) -> list[int]:
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
        # (A run of that one sentence keeps it whatever follows.)
        if self.sources[run[-1]].text.rstrip().endswith(":") and not self._announces_code(run[-1]):
            items = 0
            while same_block(following) and in_list(following) and words < LIST_WORDS * max_words \
                    and (self.sources[following].in_item or items < MAX_LIST_ITEMS):
                items += not self.sources[following].in_item
                run.append(following)
                words += words_of(following)
                following += 1
            if not items and len(run) > 1:
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
