"""The answer composer: retrieve, choose passages, prompt, generate, check, cite.

`stream_answer` yields `Token` events while the generator writes and ends with one `Final`
event holding the checked answer and its citations. The final text can differ from the
streamed tokens (unsupported sentences are dropped), so channels show the final text last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Union

from knowledge.chunking import split_sentences
from knowledge.embedder import get_embedder
from knowledge.generator import GeneratorError, get_generator
from knowledge.grounding import LIST_ITEM, SourceSentence, SupportChecker, SupportedSentence, complete_sentences
from knowledge.markup import valid_unicode
from knowledge.prompts import Prompts, load_prompts
from knowledge.retrieval import Hit, Retriever
from knowledge.settings import Settings
from knowledge.summaries import summarize_post
from knowledge.voice import Voice

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
    # The prose sentences of the post's best passages, in reading order (the sources for checking).
    sources: list[SourceSentence] = field(default_factory=list)

    @property
    def sentences(self) -> list[str]:
        return [source.text for source in self.sources]


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
        self._voice: Voice | None = None

    def generator(self):
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
        for event in self.stream_answer(question):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("stream_answer ended without a Final event")

    def stream_answer(self, question: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """The answer's events: Token pieces as they are ready, then one Final. A set `cancel`
        (nobody reads any more) ends the stream before generation and stops the model at its next token."""
        started = time.perf_counter()
        question = valid_unicode(question)      # a lone surrogate would make the tokenizer raise
        cfg = self.settings.answer
        hits = self.retriever.search(question, k=max(cfg.posts, cfg.coverage_posts, cfg.list_posts))
        timings = {"retrieval_s": time.perf_counter() - started}
        if self._not_covered(question, hits):
            answer = self._abstain(question, hits, timings, started)
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
        if generator is not None:
            streamed = yield from self._generated(generator, question, passages, evidence, checker, question_vector,
                                                  citer, timings, started, cancel)
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
        hits = self.retriever.search(question, k=max(self.settings.answer.posts, self.settings.answer.coverage_posts))
        passages, _, evidence, _ = self._evidence(question, hits, self.prompts.question_kind(question))
        return self._messages(question, passages, evidence)

    def _evidence(self, question: str, hits: list[Hit], kind: str):
        """The passages of the top posts, their support checker, the extractive answer (runs of
        sentences, never empty) and the question's vector."""
        cfg = self.settings.answer
        if kind == "earliest":
            hits = self._earliest_first(question, hits)
        passages, question_vector, sentence_vectors = self._choose_passages(question, hits[:cfg.posts])
        checker = SupportChecker([source for p in passages for source in p.sources],
                                 self._encode, cfg.support_threshold, cfg.support_word_coverage, sentence_vectors,
                                 pointer=self.prompts.pointer_sentence)
        evidence = checker.evidence(question, question_vector, cfg.extractive_words, cfg.other_posts_score,
                                    anchor_passage=1 if kind in ("earliest", "when") else None,
                                    prior={p.number: cfg.post_rank_weight * p.hit.score / max(passages[0].hit.score, 1e-9)
                                           for p in passages},
                                    context=cfg.sentence_context, second_run_score=cfg.second_run_score,
                                    second_run_words=cfg.second_run_words)
        if not evidence:
            fallback = passages[0].sentences[0] if passages[0].sentences else hits[0].snippet
            evidence = [[SupportedSentence(fallback, 1, 0.0)]]
        return passages, checker, evidence, question_vector

    def _generated(self, generator, question: str, passages: list[PromptPassage], evidence, checker: SupportChecker,
                   question_vector, citer: "Citer", timings: dict, started: float,
                   cancel: threading.Event | None = None) -> Iterator[Token]:
        """Streams the generated answer's sentences that the passages support and that speak to the
        question, each with its marker, as soon as the model finishes it. They are held back until
        they add up to `answer.min_generated_words`: with less, too little is left and nothing is
        streamed. Returns whether the generated answer was streamed."""
        cfg = self.settings.answer
        gen_started = time.perf_counter()
        held: list[SupportedSentence] = []
        buffer, pieces, dropped, streaming = "", 0, 0, False

        def accepted(sentence: str) -> SupportedSentence | None:
            # The model speaking as "I" or "we" would put words in the author's mouth: such a
            # sentence is dropped like an unsupported one (the evidence is quoted with attribution).
            if self.voice().first_person(sentence):
                return None
            return checker.check(sentence, question_vector, cfg.answer_similarity)

        def release() -> Iterator[Token]:
            nonlocal held, streaming
            if streaming or sum(len(s.text.split()) for s in held) >= cfg.min_generated_words:
                streaming = True
                for sentence in held:
                    timings.setdefault("first_sentence_s", time.perf_counter() - started)
                    yield Token(citer.add([sentence]))
                held = []

        def out_of_reach() -> bool:
            """Too few tokens are left for the held back sentences to reach `min_generated_words`
            (every word takes at least one token, and a piece at least one token): the reader gets
            the extractive answer now instead of after the model's last token."""
            words = sum(len(s.text.split()) for s in held) + len(buffer.split())
            return not streaming and self.settings.generator.max_new_tokens - pieces < cfg.min_generated_words - words

        try:
            with contextlib.closing(generator.stream(self._messages(question, passages, evidence), cancel)) as stream:
                for piece in stream:
                    pieces += 1
                    if pieces == 1:
                        timings["first_generated_token_s"] = time.perf_counter() - started
                    done, buffer = complete_sentences(buffer + piece)
                    for sentence in done:
                        supported = accepted(sentence)
                        if supported is None:
                            dropped += 1
                            continue
                        held.append(supported)
                        yield from release()
                    if out_of_reach():
                        timings["generation_stopped_early"] = 1
                        buffer = ""
                        break
            if buffer.strip():
                supported = accepted(buffer)
                if supported is None:
                    dropped += 1
                else:
                    held.append(supported)
                    yield from release()
        except GeneratorError as exc:
            log.warning("generation failed%s: %s", "" if streaming else ", answering extractively", exc)
        timings["generation_s"] = time.perf_counter() - gen_started
        timings["generated_pieces"] = pieces
        timings["dropped_sentences"] = dropped
        return streaming

    # -- steps ------------------------------------------------------------------------------

    def _not_covered(self, question: str, hits: list[Hit]) -> bool:
        """True when the blog does not cover the question: the best passage is not similar enough
        (unless the top post shares a specific word with it); the question names things no post has;
        it names something none of the closest posts mention; or the match is weak and the best post
        mentions a thing the question names only in passing."""
        if not hits:
            return True
        cfg = self.settings.answer
        best = max(h.similarity or 0.0 for h in hits[:cfg.posts])
        if best < cfg.abstain_below_with_unknown_terms and self.retriever.unknown_terms(question):
            return True
        for name in self.retriever.rare_names(question):
            counts = [self.retriever.mentions(name, h.post.id) for h in hits[:cfg.coverage_posts]]
            if max(counts) == 0 or (best < cfg.abstain_below_with_names_in_passing and counts[0] < 2):
                return True
        return best < cfg.abstain_below and not self.retriever.specific_terms(question, hits[0])

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
            terms = self.retriever.rare_terms(question, 0.15, ignore=self.prompts.earliest_words)
            about = [h for h in hits[:cfg.coverage_posts]
                     if all(self.retriever.mentions(t, h.post.id) for t in terms)] if terms else hits[:cfg.posts]
            if not about:
                return hits
            earliest = min(about, key=lambda h: h.post.date)
        return [earliest] + [h for h in hits if h.post.id != earliest.post.id]

    def _encode(self, texts: list[str]):
        return self.embedder.encode(texts)

    def _abstain(self, question: str, hits: list[Hit], timings: dict, started: float) -> Answer:
        related = [h for h in hits[:self.settings.answer.posts] if (h.similarity or 0.0) >= self.settings.answer.related_above][:3]
        text = self.prompts.abstain_with_related if related else self.prompts.abstain
        timings["first_token_s"] = timings["total_s"] = time.perf_counter() - started
        return Answer(question=question, text=text, citations=[], abstained=True, mode="abstained",
                      related=[Citation(i, h.post.title, h.post.url, h.post.permalink) for i, h in enumerate(related, 1)],
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
                                                       month_year=_month_year(hit.post.date), summary=summary).rstrip(": "))
            citations.append(Citation(number, hit.post.title, hit.post.url, hit.post.permalink,
                                      "\n".join(split_sentences(hit.passages[0].prose if hit.passages else ""))))
        timings["first_token_s"] = timings["total_s"] = time.perf_counter() - started
        return Answer(question=question, text="\n".join(lines), citations=citations, abstained=False, mode="listed",
                      timings={k: round(v, 4) for k, v in timings.items()}, intro=lines[0])

    def _choose_passages(self, question: str, hits: list[Hit]):
        """Each post's best passages as sentences in reading order, each passage followed by the next
        one of the post (an answer often goes on there; it only continues extractive answers, never
        starts one, unless it lies between two best passages). Returns the passages, the question's
        vector and one vector per passage sentence (in passage order), which the support check and
        the extractive answer reuse."""
        passages = []
        for number, hit in enumerate(hits, 1):
            in_post = self.retriever.post_passages(hit.post.id)
            position = {passage.chunk_id: i for i, (passage, _) in enumerate(in_post)}
            best = {position[p.chunk_id] for p in hit.passages[:self.settings.answer.passages_per_post] if p.chunk_id in position}
            best |= {i + 1 for i in best if i + 2 in best}   # between two best passages: part of what was found
            taken = sorted(best | {i + 1 for i in best if i + 1 < len(in_post)})
            prompt_passage = PromptPassage(number, hit)
            sources = prompt_passage.sources
            block = 0
            for i in taken:
                if i - 1 not in taken:   # adjacent passages read on as one block of text
                    block += 1
                    after = None         # the sentence a code block would follow
                for is_code, text in _prose_and_code(in_post[i][0]):
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
        vectors = self._encode([question] + everything)
        return passages, vectors[0], vectors[1:]

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


MAX_CODE_LINES = 12
LIST_SUMMARY_CHARS = 220   # a listed post's sentence is cut to about this length


def _prose_and_code(passage) -> list[tuple[bool, str]]:
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


def _month_year(date: str) -> str:
    try:
        return dt.date.fromisoformat(date).strftime("%B %Y")
    except ValueError:
        return date


class Citer:
    """Numbers cited posts in order of first mention and puts [n] after each run of sentences."""

    def __init__(self, passages: list[PromptPassage], voice: Voice | None = None, site_author: str = ""):
        self.passages = {p.number: p for p in passages}
        self.voice = voice              # the author's first person in the assistant's voice
        self.site_author = site_author
        self.order: dict[int, int] = {}
        self.parts: list[str] = []
        self.sentences = 0
        self._in_list = False   # the last part ended with a list item

    def intro(self, template: str, passage: int) -> str:
        """The lead-in naming the post the answer starts from (cited as [1]); empty when the template is."""
        if not template.strip():
            return ""
        self.order.setdefault(passage, 1)
        post = self.passages[passage].hit.post
        part = template.format(title=post.title, date=post.date, month_year=_month_year(post.date), number=1).strip()
        self.parts.append(part)
        return part

    def add(self, run: list[SupportedSentence]) -> str:
        """Consecutive sentences of one post, its marker after the last; list items on lines of their own."""
        number = self.order.setdefault(run[0].passage, len(self.order) + 1)
        self.sentences += len(run)
        texts, opening, closing = [" ".join(sentence.text.split()) for sentence in run], "", ""
        if self.voice is not None:
            authors = self.passages[run[0].passage].hit.post.authors
            texts, opening, closing = self.voice.in_voice(texts, authors, self.site_author)
        pieces = []
        for position, sentence in enumerate(run):
            text = texts[position]
            item = LIST_ITEM.match(text)
            if item:
                text = "- " + text[item.end():]
            if position == 0 and opening:       # "Niklas Heidloff writes: “…"
                text = "- " + opening + text[2:] if item else opening + text
            last = position == len(run) - 1
            list_follows = not last and LIST_ITEM.match(run[position + 1].text)
            if last and closing:
                text = f"{text.rstrip(':;,')}{closing} [{number}]"
            elif last:
                end = text[-1] if text[-1:] in (".", "!", "?") else "."
                body = text[:-1].rstrip() if text[-1:] in (".", "!", "?") else text.rstrip(":;,")
                text = f"{body} [{number}]{end}" if not item else f"{body} [{number}]"
            elif not item and not list_follows and not re.search(r"[.!?][\"'\u201d\u2019)\]]*$", text):
                # A line that ran into a code block or quote ("…the generated CRD:") ends as a sentence.
                text = text.rstrip(":;,") + "."
            separator = "\n" if item else (" " if sentence.in_item or not self._in_list else "\n\n")
            pieces.append((separator if (pieces or self.parts) else "") + text)
            self._in_list = bool(item) or (sentence.in_item and self._in_list)
            if sentence.code and last:
                # "Run this command [1]:" and the command, as a code block.
                if pieces[-1].endswith("."):
                    pieces[-1] = pieces[-1][:-1] + ":"
                elif closing:         # “…the command” [1]:
                    pieces[-1] += ":"
                pieces.append(f"\n```\n{sentence.code}\n```")
                self._in_list = True   # what comes next starts a new paragraph
        part = "".join(pieces)
        self.parts.append(part)
        return part

    def citations(self) -> list[Citation]:
        cited = []
        for passage_number, number in sorted(self.order.items(), key=lambda item: item[1]):
            p = self.passages[passage_number]
            passage = "\n".join(f"{s.text}\n{s.code}" if s.code else s.text for s in p.sources)
            cited.append(Citation(number, p.hit.post.title, p.hit.post.url, p.hit.post.permalink, passage))
        return cited
