"""The answer composer: retrieve, choose passages, prompt, generate, check, cite.

`stream_answer` yields `Token` events while the generator writes and ends with one `Final`
event holding the checked answer and its citations. The final text can differ from the
streamed tokens (unsupported sentences are dropped), so channels show the final text last.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Union

from knowledge.chunking import split_sentences
from knowledge.embedder import get_embedder
from knowledge.generator import GeneratorError, get_generator
from knowledge.grounding import SourceSentence, SupportChecker, SupportedSentence, complete_sentences, relevance
from knowledge.prompts import Prompts, load_prompts
from knowledge.retrieval import Hit, Retriever
from knowledge.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Citation:
    number: int
    title: str
    url: str
    permalink: str
    passage: str = ""     # the passage of the post the answer drew on, one sentence a line


@dataclass
class Answer:
    """What the reader gets. `mode`: generated, extractive or abstained."""

    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    mode: str
    related: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    intro: str = ""       # the lead-in naming the top post, at the start of `text`

    @property
    def body(self) -> str:
        """The answer's sentences without the lead-in."""
        return self.text[len(self.intro):].strip()

    def as_json(self) -> dict:
        def cite(c: Citation) -> dict:
            return {"title": c.title, "url": c.url, "permalink": c.permalink}

        return {"question": self.question, "answer": self.text, "citations": [cite(c) for c in self.citations],
                "abstained": self.abstained, "mode": self.mode, "related": [cite(c) for c in self.related],
                "timings": self.timings}


@dataclass
class Token:
    text: str


@dataclass
class Final:
    answer: Answer


Event = Union[Token, Final]


@dataclass
class PromptPassage:
    number: int
    hit: Hit
    sentences: list[str]      # all prose sentences of the passage (the sources for checking)
    chosen: list[str]         # the ones closest to the question, in reading order (the prompt)


class AnswerComposer:
    """Answers questions from the index in `data_dir`. Load once, reuse for every question."""

    def __init__(self, data_dir: str | Path, settings: Settings, prompts: Prompts | None = None,
                 retriever: Retriever | None = None, progress=lambda message: None):
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.prompts = prompts or load_prompts()
        self.retriever = retriever or Retriever(self.data_dir, settings)
        self.embedder = get_embedder(settings.embedder)
        self.progress = progress
        self._generator = None
        self._generator_error: str | None = None

    def generator(self):
        """The configured generator, loaded on first use; None (logged once) when it cannot load."""
        if self._generator is None and self._generator_error is None:
            try:
                self._generator = get_generator(self.settings.generator, self.data_dir / "models", self.progress)
            except GeneratorError as exc:
                self._generator_error = str(exc)
                log.warning("generator unavailable, answering extractively: %s", exc)
        return self._generator

    def answer(self, question: str) -> Answer:
        for event in self.stream_answer(question):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("stream_answer ended without a Final event")

    def stream_answer(self, question: str) -> Iterator[Event]:
        started = time.perf_counter()
        cfg = self.settings.answer
        hits = self.retriever.search(question, k=max(cfg.posts, 3))
        timings = {"retrieval_s": time.perf_counter() - started}
        if self._not_covered(question, hits):
            answer = self._abstain(question, hits, timings, started)
            yield Token(answer.text)
            yield Final(answer)
            return

        passages, question_vector, sentence_vectors = self._choose_passages(question, hits[:cfg.posts])
        checker = SupportChecker([SourceSentence(s, p.number) for p in passages for s in p.sentences],
                                 self._encode, cfg.support_threshold, cfg.support_word_coverage, sentence_vectors)
        citer = Citer(passages)
        # The reader sees where the answer comes from at once, while the answer is written.
        intro = citer.intro(self.prompts.answer_intro)
        first_token = None
        if intro:
            yield Token(intro)
            first_token = time.perf_counter() - started
        mode = "generated"
        generator = self.generator()
        if generator is not None:
            # Only sentences the passages support reach the reader: each one is checked as
            # soon as the model finishes it, then streamed with its citation marker.
            gen_started = time.perf_counter()
            buffer, pieces, dropped = "", 0, 0
            try:
                for piece in generator.stream(self._messages(question, passages)):
                    pieces += 1
                    if pieces == 1:
                        timings["first_generated_token_s"] = time.perf_counter() - started
                    done, buffer = complete_sentences(buffer + piece)
                    for sentence in done:
                        supported = checker.check(sentence)
                        if supported is None:
                            dropped += 1
                            continue
                        timings.setdefault("first_sentence_s", time.perf_counter() - started)
                        first_token = first_token or timings["first_sentence_s"]
                        yield Token(citer.add(supported))
                if buffer.strip() and (supported := checker.check(buffer)) is not None:
                    timings.setdefault("first_sentence_s", time.perf_counter() - started)
                    first_token = first_token or timings["first_sentence_s"]
                    yield Token(citer.add(supported))
                timings["generation_s"] = time.perf_counter() - gen_started
                timings["generated_pieces"] = pieces
                timings["dropped_sentences"] = dropped
            except GeneratorError as exc:
                log.warning("generation failed, answering extractively: %s", exc)
        if not citer.sentences:
            mode = "extractive"
            kept = checker.extractive(question, cfg.extractive_sentences, question_vector) or [
                SupportedSentence(passages[0].sentences[0] if passages[0].sentences else hits[0].snippet, 1, 0.0)]
            timings["first_sentence_s"] = time.perf_counter() - started
            first_token = first_token or timings["first_sentence_s"]
            for sentence in kept:
                yield Token(citer.add(sentence))
        timings["first_token_s"] = first_token
        timings["total_s"] = time.perf_counter() - started
        yield Final(Answer(question=question, text="".join(citer.parts), citations=citer.citations(), abstained=False,
                           mode=mode, timings={k: round(v, 4) for k, v in timings.items()}, intro=intro))

    # -- steps ------------------------------------------------------------------------------

    def _not_covered(self, question: str, hits: list[Hit]) -> bool:
        """True when the blog does not cover the question: the best passage is not similar enough,
        unless the top post shares a specific word with it; or the question names things no post has."""
        if not hits:
            return True
        cfg = self.settings.answer
        best = max(h.similarity or 0.0 for h in hits)
        if best < cfg.abstain_below_with_unknown_terms and self.retriever.unknown_terms(question):
            return True
        return best < cfg.abstain_below and not self.retriever.specific_terms(question, hits[0])

    def _encode(self, texts: list[str]):
        return self.embedder.encode(texts)

    def _abstain(self, question: str, hits: list[Hit], timings: dict, started: float) -> Answer:
        related = [h for h in hits if (h.similarity or 0.0) >= self.settings.answer.related_above][:3]
        text = self.prompts.abstain_with_related if related else self.prompts.abstain
        timings["first_token_s"] = timings["total_s"] = time.perf_counter() - started
        return Answer(question=question, text=text, citations=[], abstained=True, mode="abstained",
                      related=[Citation(i, h.post.title, h.post.url, h.post.permalink) for i, h in enumerate(related, 1)],
                      timings={k: round(v, 4) for k, v in timings.items()})

    def _choose_passages(self, question: str, hits: list[Hit]):
        """Each post's best passages, cut to the sentences that best answer the question: short, clean
        prompts. Returns the passages, the question's vector and one vector per passage sentence (in
        passage order), which the support check reuses."""
        per_passage = self.settings.answer.sentences_per_passage
        passages = []
        for number, hit in enumerate(hits, 1):
            text = "\n".join(p.prose or p.text for p in hit.passages[:self.settings.answer.passages_per_post])
            sentences = list(dict.fromkeys(s for s in split_sentences(text) if re.search(r"[A-Za-z]{3}", s)))
            passages.append(PromptPassage(number, hit, sentences, sentences))
        everything = [s for p in passages for s in p.sentences]
        vectors = self._encode([question] + everything)
        scores = iter(relevance(question, everything, vectors[1:] @ vectors[0]) if everything else [])
        for p in passages:
            ranked = [(next(scores), i) for i in range(len(p.sentences))]
            keep = sorted(i for _, i in sorted(ranked, reverse=True)[:per_passage])
            p.chosen = [p.sentences[i] for i in keep]
        return passages, vectors[0], vectors[1:]

    def _messages(self, question: str, passages: list[PromptPassage]) -> list[dict[str, str]]:
        listed = "\n".join(self.prompts.passage.format(number=p.number, title=p.hit.post.title, text=" ".join(p.chosen))
                           for p in passages)
        messages = [{"role": "system", "content": self.prompts.system}] if self.prompts.system.strip() else []
        return messages + [{"role": "user", "content": self.prompts.user.format(passages=listed, question=question)}]


def _month_year(date: str) -> str:
    try:
        return dt.date.fromisoformat(date).strftime("%B %Y")
    except ValueError:
        return date


class Citer:
    """Numbers cited posts in order of first mention and puts [n] after each sentence."""

    def __init__(self, passages: list[PromptPassage]):
        self.passages = {p.number: p for p in passages}
        self.order: dict[int, int] = {}
        self.parts: list[str] = []
        self.sentences = 0

    def intro(self, template: str) -> str:
        """The lead-in naming the top post (cited as [1]); empty when the template is empty."""
        if not template.strip():
            return ""
        top = min(self.passages)
        self.order.setdefault(top, 1)
        post = self.passages[top].hit.post
        month_year = _month_year(post.date)
        part = template.format(title=post.title, date=post.date, month_year=month_year, number=1).strip()
        self.parts.append(part)
        return part

    def add(self, sentence: SupportedSentence) -> str:
        leading_space = bool(self.parts)
        self.sentences += 1
        number = self.order.setdefault(sentence.passage, len(self.order) + 1)
        text = re.sub(r"^[-*•]\s+", "", sentence.text.strip())   # list items read as plain sentences
        end = text[-1] if text[-1:] in (".", "!", "?") else "."
        body = text[:-1].rstrip() if text[-1:] in (".", "!", "?") else text.rstrip(":;,")
        part = (" " if leading_space else "") + f"{body} [{number}]{end}"
        self.parts.append(part)
        return part

    def citations(self) -> list[Citation]:
        cited = []
        for passage_number, number in sorted(self.order.items(), key=lambda item: item[1]):
            p = self.passages[passage_number]
            cited.append(Citation(number, p.hit.post.title, p.hit.post.url, p.hit.post.permalink, "\n".join(p.sentences)))
        return cited
