"""The answer composer: retrieve, choose passages, prompt, generate, check, cite.

`stream_answer` yields `Token` events while the generator writes and ends with one `Final`
event holding the checked answer and its citations. The final text can differ from the
streamed tokens (unsupported sentences are dropped), so channels show the final text last.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Union

from knowledge.answers.abstention import CoverageCheck, Gap
from knowledge.corpus.chunking import split_sentences
from knowledge.answers.citations import Citer, GeneratedSentences
from knowledge.corpus.embedder import CachedEncoder, get_embedder
from knowledge.answers.evidence import EvidenceSelector, PromptPassage, choose_passages
from knowledge.answers.generator import GeneratorError, TextGenerator, get_generator
from knowledge.answers.keep_rate import KeepRate, TryStop, generator_identity
from knowledge.answers.output import Citation, Token, month_year
from knowledge.markup import escape_markdown, valid_unicode
from knowledge.answers.prompts import Prompts, load_prompts
from knowledge.search.retrieval import Hit, Retriever
from knowledge.settings import Settings
from knowledge.answers.summaries import summarize_post
from knowledge.answers.support import SupportChecker, SupportedSentence, complete_sentences
from knowledge.answers.voice import Voice

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


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
        """The answer as `blogbot ask --json` prints it."""
        def cite(c: Citation) -> dict:
            return {"title": c.title, "url": c.url, "permalink": c.permalink}

        return {"question": self.question, "answer": self.text, "citations": [cite(c) for c in self.citations],
                "abstained": self.abstained, "mode": self.mode, "related": [cite(c) for c in self.related],
                "timings": self.timings}


@dataclass
class Final:
    """The last event of an answer's stream: the checked answer with its citations."""

    answer: Answer


Event = Union[Token, Final]


class AnswerComposer:
    """Answers questions from the index in `data_dir`. Load once, reuse for every question.
    `remember_tries`: the generator's keep record is saved in `data_dir` for the next process."""

    def __init__(self, data_dir: str | Path, settings: Settings, prompts: Prompts | None = None,
                 retriever: Retriever | None = None, progress: Callable[[str], None] = lambda message: None,
                 remember_tries: bool = False):
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.prompts = prompts or load_prompts()
        self.retriever = retriever or Retriever(self.data_dir, settings)
        self.embedder = get_embedder(settings.embedder)
        self._encode = CachedEncoder(self.embedder, settings.answer.sentence_cache_entries)
        self.progress = progress
        self._generator = None
        self._generator_error: str | None = None
        self._voice: Voice | None = None
        self.coverage = CoverageCheck(self.retriever, settings.answer)
        generator_settings = settings.generator
        self.keep_rate = KeepRate(generator_settings.keep_window, generator_settings.min_keep_rate,
                                  generator_settings.explore_every,
                                  self.data_dir / "generator-keep-record.json" if remember_tries else None,
                                  generator_identity(generator_settings))
        self.generations_in_flight = 0       # generator calls running or waiting for the model (metrics)
        self.answers_in_flight = 0           # answers being written now (a generator try waits for 1)
        self._exploring: set[TryStop] = set()  # exploring tries that give way to a new answer
        self._in_flight_lock = threading.Lock()

    def generator(self) -> TextGenerator | None:
        """The configured generator, loaded on first use; None when the configuration names none
        (`backend: none`) or (logged once) when it cannot load."""
        if self.settings.generator.backend == "none":
            return None
        if self._generator is None and self._generator_error is None:
            try:
                self._generator = get_generator(self.settings.generator, self.data_dir / "models", self.progress)
            except GeneratorError as exc:
                self._generator_error = str(exc)
                log.warning("generator unavailable, answering extractively: %s", exc)
        return self._generator

    def voice(self) -> Voice:
        """The rules that put the author's first person into the assistant's voice (prompts.yml `voice`)."""
        if self._voice is None:
            self._voice = Voice(self.prompts.voice)
        return self._voice

    def answer(self, question: str) -> Answer:
        """The whole answer at once: the Final event of `stream_answer`."""
        for event in self.stream_answer(question):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("stream_answer ended without a Final event")

    def stream_answer(self, question: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """The answer's events: Token pieces as they are ready, then one Final. A set `cancel`
        (nobody reads any more) ends the stream before generation and stops the model at its next token."""
        with self._in_flight_lock:
            self.answers_in_flight += 1
            for stop in self._exploring:
                stop.give_way()
        try:
            yield from self._stream_answer(question, cancel)
        finally:
            with self._in_flight_lock:
                self.answers_in_flight -= 1

    def _stream_answer(self, question: str, cancel: threading.Event | None) -> Iterator[Event]:
        started = time.perf_counter()
        question = valid_unicode(question)      # a lone surrogate would make the tokenizer raise
        hits = self.search(question)
        timings = {"retrieval_s": time.perf_counter() - started}
        gap = self.coverage.gap(question, hits)
        if gap is not None:
            answer = self._abstain(question, hits, gap, timings, started)
            yield Token(answer.text)
            yield Final(answer)
            return
        kind = self.prompts.question_kind(question)
        if kind == "list":
            answer = self._list_answer(question, hits, timings, started)
            yield Token(answer.text)
            yield Final(answer)
            return
        passages, checker, evidence, question_vector = self._evidence(question, hits, kind)
        citer = Citer(passages, self.voice(), self.retriever.meta().get("blog_author") or "")
        # The reader sees at once which post the answer comes from, while the answer is written.
        intro = citer.intro(self.prompts.answer_intro_earliest if kind == "earliest" else self.prompts.answer_intro,
                            evidence[0][0].passage)
        first_token = None
        if intro:
            yield Token(intro)
            first_token = time.perf_counter() - started
        mode = "extractive"
        if cancel is not None and cancel.is_set():
            return
        generator = self.generator()
        # Spare CPU matters for a model on this machine, not for a remote one.
        local = self.settings.generator.backend != "remote"
        with self._in_flight_lock:          # decided and registered before another answer can start
            try_now, exploring = self.keep_rate.decide(alone=self.answers_in_flight <= 1 or not local)
            exploring = exploring and local
            stop = TryStop(cancel) if try_now and exploring else cancel
            if isinstance(stop, TryStop):
                self._exploring.add(stop)
        if generator is not None and not try_now:
            timings["generation_skipped"] = 1          # its answers are rarely kept: see keep_rate.py
        elif generator is not None:
            try:
                streamed = yield from self._generated(generator, question, passages, evidence, checker,
                                                      question_vector, citer, timings, started, stop)
            finally:
                with self._in_flight_lock:
                    self._exploring.discard(stop)
            if exploring and stop.gave_way:
                timings["generation_gave_way"] = 1     # not a try: the model was stopped for another answer
            elif not (cancel is not None and cancel.is_set()):
                self.keep_rate.record(streamed)
            if streamed:
                mode = "generated"
                first_token = first_token or timings["first_sentence_s"]
        if mode == "extractive":
            timings["first_sentence_s"] = time.perf_counter() - started
            first_token = first_token or timings["first_sentence_s"]
            for run in evidence:
                yield Token(citer.add(run))
        timings["first_token_s"] = first_token
        timings["total_s"] = time.perf_counter() - started
        yield Final(Answer(question=question, text="".join(citer.parts), citations=citer.citations(), abstained=False,
                           mode=mode, timings={k: round(v, 4) for k, v in timings.items()}, intro=intro))

    def prompt_messages(self, question: str) -> list[dict[str, str]]:
        """The messages the generator gets for a question (for benchmarks and debugging)."""
        hits = self.search(question)
        passages, _, evidence, _ = self._evidence(question, hits, self.prompts.question_kind(question))
        return self._messages(question, passages, evidence)

    def search(self, question: str) -> list[Hit]:
        """The posts an answer is made from, best first: enough for the answer, the coverage check and a list."""
        cfg = self.settings.answer
        return self.retriever.search(question, k=max(cfg.posts, cfg.coverage_posts, cfg.list_posts))

    def evidence_selector(self, question: str, hits: list[Hit], kind: str) -> tuple[
            list[PromptPassage], SupportChecker, EvidenceSelector, np.ndarray, dict[int, float], int | None]:
        """What the extractive answer is chosen from: the passages of the top posts, their support
        checker, the selector over their sentences, the question's vector, each passage's prior (how
        well retrieval ranked its post) and the passage the answer must start in ("when" questions:
        the post whose date the lead-in gives), for `EvidenceSelector.select` and `ranked`."""
        cfg = self.settings.answer
        if kind == "earliest":
            hits = self._earliest_first(question, hits)
        passages, question_vector, sentence_vectors = choose_passages(self.retriever, self._encode, question,
                                                                      hits[:cfg.posts], cfg.passages_per_post)
        sources = [source for p in passages for source in p.sources]
        checker = SupportChecker(sources, self._encode, cfg.support_threshold, cfg.support_word_coverage, sentence_vectors)
        selector = EvidenceSelector(sources, sentence_vectors, self._encode, self.prompts.pointer_sentence)
        prior = {p.number: cfg.post_rank_weight * p.hit.score / max(passages[0].hit.score, 1e-9) for p in passages}
        anchor_passage = 1 if kind in ("earliest", "when") else None
        return passages, checker, selector, question_vector, prior, anchor_passage

    def _evidence(self, question: str, hits: list[Hit], kind: str):
        """The passages of the top posts, their support checker, the extractive answer (runs of
        sentences, never empty) and the question's vector."""
        cfg = self.settings.answer
        passages, checker, selector, question_vector, prior, anchor_passage = self.evidence_selector(question, hits, kind)
        evidence = selector.select(question, question_vector, cfg.extractive_words, cfg.other_posts_score,
                                   anchor_passage=anchor_passage, prior=prior,
                                   context=cfg.sentence_context, second_run_score=cfg.second_run_score,
                                   second_run_words=cfg.second_run_words, lexical_weight=cfg.lexical_weight)
        if not evidence:
            fallback = passages[0].sentences[0] if passages[0].sentences else hits[0].snippet
            evidence = [[SupportedSentence(fallback, 1, 0.0)]]
        return passages, checker, evidence, question_vector

    def _generated(self, generator: TextGenerator, question: str, passages: list[PromptPassage],
                   evidence: list[list[SupportedSentence]], checker: SupportChecker, question_vector: np.ndarray,
                   citer: Citer, timings: dict, started: float,
                   cancel: threading.Event | None = None) -> Iterator[Token]:
        """Streams the generated answer's sentences that the passages support and that speak to the
        question, each with its marker, as soon as the model finishes it. They are held back until
        they add up to `answer.min_generated_words`: with less, too little is left and nothing is
        streamed. Returns whether the generated answer was streamed."""
        gen_started = time.perf_counter()
        sentences = GeneratedSentences(citer, timings, started, self.settings.answer.min_generated_words,
                                       cancel.begin_streaming if isinstance(cancel, TryStop) else None)
        buffer, pieces = "", 0
        with self._in_flight_lock:
            self.generations_in_flight += 1
        try:
            with contextlib.closing(generator.stream(self._messages(question, passages, evidence), cancel)) as stream:
                for piece in stream:
                    pieces += 1
                    if pieces == 1:
                        timings["first_generated_token_s"] = time.perf_counter() - started
                    done, buffer = complete_sentences(buffer + piece)
                    for sentence in done:
                        yield from sentences.offer(self._accepted(sentence, checker, question_vector))
                    if self._out_of_reach(sentences, buffer, pieces):
                        timings["generation_stopped_early"] = 1
                        buffer = ""
                        break
            if buffer.strip():
                yield from sentences.offer(self._accepted(buffer, checker, question_vector))
        except GeneratorError as exc:
            log.warning("generation failed%s: %s", "" if sentences.streaming else ", answering extractively", exc)
        finally:
            with self._in_flight_lock:
                self.generations_in_flight -= 1
        timings["generation_s"] = time.perf_counter() - gen_started
        timings["generated_pieces"] = pieces
        timings["dropped_sentences"] = sentences.dropped
        return sentences.streaming

    def _accepted(self, sentence: str, checker: SupportChecker,
                  question_vector: np.ndarray) -> SupportedSentence | None:
        """A generated sentence as it may stand in the answer, None when it may not: unsupported, off
        the question, or the model speaking as "I" or "we", which would put words in the author's
        mouth (the evidence is quoted with attribution)."""
        if self.voice().first_person(sentence):
            return None
        return checker.check(sentence, question_vector, self.settings.answer.answer_similarity)

    def _out_of_reach(self, sentences: GeneratedSentences, buffer: str, pieces: int) -> bool:
        """Too few tokens are left for the held back sentences to reach `min_generated_words`
        (every word takes at least one token, and a piece at least one token): the reader gets
        the extractive answer now instead of after the model's last token."""
        words = sentences.held_words() + len(buffer.split())
        return (not sentences.streaming
                and self.settings.generator.max_new_tokens - pieces < self.settings.answer.min_generated_words - words)

    # -- steps ------------------------------------------------------------------------------

    def _earliest_first(self, question: str, hits: list[Hit]) -> list[Hit]:
        """The hits with the earliest post about the question's subject first: the oldest post of the
        blog about all the question's words (besides "first", "write"…; any post that mentions them
        for "When did X first come up?"), else the oldest of the closest posts that contain its rarer
        words (or, without such words, of the top few)."""
        cfg = self.settings.answer
        any_mention = self.prompts.earliest_any_mention and self.prompts.earliest_any_mention.search(question)
        about_subject = self.retriever.posts_about(question, ignore=self.prompts.earliest_words,
                                                   min_mentions=1 if any_mention else cfg.about_min_mentions)
        if about_subject:
            earliest = next((h for h in hits if h.post.id == about_subject[0]), None) \
                or self.retriever.hits_for(question, about_subject[:1], hits[0].score)[0]
        else:
            terms = self.retriever.rare_terms(question, cfg.earliest_terms_share, ignore=self.prompts.earliest_words)
            about = [h for h in hits[:cfg.coverage_posts]
                     if all(self.retriever.mentions(t, h.post.id) for t in terms)] if terms else hits[:cfg.posts]
            if not about:
                return hits
            earliest = min(about, key=lambda h: h.post.date)
        return [earliest] + [h for h in hits if h.post.id != earliest.post.id]

    def _abstain(self, question: str, hits: list[Hit], gap: Gap, timings: dict, started: float) -> Answer:
        """The blog does not cover the question: say what it lacks, and list the closest posts if some come close."""
        related = [h for h in hits[:self.settings.answer.posts] if (h.similarity or 0.0) >= self.settings.answer.related_above][:3]
        # The reader's own words, echoed: shown as typed, never as markup.
        if gap.kind == "unknown":
            text = self.prompts.abstain_unknown_name.format(name=escape_markdown(gap.name))
        elif gap.kind == "not_answered":
            text = self.prompts.abstain_name_not_answered.format(name=escape_markdown(gap.name))
        else:
            text = self.prompts.abstain_with_related if related else self.prompts.abstain
        if related and gap.kind != "far":
            text = f"{text} {self.prompts.closest_posts}"
        timings["first_token_s"] = timings["total_s"] = time.perf_counter() - started
        return Answer(question=question, text=text, citations=[], abstained=True, mode="abstained",
                      related=[Citation(h.post.title, h.post.url, h.post.permalink, i) for i, h in enumerate(related, 1)],
                      timings={k: round(v, 4) for k, v in timings.items()})

    def _list_answer(self, question: str, hits: list[Hit], timings: dict, started: float) -> Answer:
        """"Which posts are about X?": at most `list_posts` posts, newest first, each cited with a
        sentence that says what it is about. The posts about X come first (X in the title, then X
        mentioned `about_min_mentions` times), then the closest posts that score at least
        `list_relative_score` of the top one: close scores of similar posts can fall far apart."""
        cfg = self.settings.answer
        best = hits[0].score
        close = {h.post.id: h for h in hits if h.score >= cfg.list_relative_score * best}
        about = self.retriever.posts_titled_about(question, ignore=self.prompts.list_words,
                                                  min_mentions=cfg.about_min_mentions)
        chosen = list(dict.fromkeys(about + sorted(close, key=lambda pid: -close[pid].score)))[:cfg.list_posts]
        listed = [close[pid] for pid in chosen if pid in close]
        listed += self.retriever.hits_for(question, [pid for pid in chosen if pid not in close], 0.0)
        listed.sort(key=lambda h: h.post.date, reverse=True)
        lines = [self.prompts.list_intro.strip()]
        citations = []
        for number, hit in enumerate(listed, 1):
            summary = summarize_post(self.retriever, hit.post.id, sentences=1, max_chars=LIST_SUMMARY_CHARS).text
            lines.append(self.prompts.list_item.format(title=hit.post.title, date=hit.post.date, number=number,
                                                       month_year=month_year(hit.post.date), summary=summary).rstrip(": "))
            citations.append(Citation(hit.post.title, hit.post.url, hit.post.permalink, number,
                                      "\n".join(split_sentences(hit.passages[0].prose if hit.passages else ""))))
        timings["first_token_s"] = timings["total_s"] = time.perf_counter() - started
        return Answer(question=question, text="\n".join(lines), citations=citations, abstained=False, mode="listed",
                      timings={k: round(v, 4) for k, v in timings.items()}, intro=lines[0])

    def _messages(self, question: str, passages: list[PromptPassage],
                  evidence: list[list[SupportedSentence]]) -> list[dict[str, str]]:
        """The prompt: the extractive answer's sentences (the best evidence), one line per post."""
        by_post: dict[int, list[str]] = {}
        for run in evidence:
            by_post.setdefault(run[0].passage, []).extend(s.text for s in run)
        titles = {p.number: p.hit.post.title for p in passages}
        listed = "\n".join(self.prompts.passage.format(number=number, title=titles[number], text=" ".join(texts))
                           for number, texts in by_post.items())
        messages = [{"role": "system", "content": self.prompts.system}] if self.prompts.system.strip() else []
        return messages + [{"role": "user", "content": self.prompts.user.format(passages=listed, question=question)}]


LIST_SUMMARY_CHARS = 220   # a listed post's sentence is cut to about this length
