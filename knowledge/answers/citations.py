"""Citations: the posts an answer cites, numbered in order of first mention, and the answer's text
with a marker after each run of sentences; a generated answer's sentences held back until there
are enough of them to stream with their markers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from knowledge.answers.evidence import LIST_ITEM, PromptPassage
from knowledge.answers.output import Citation, Token, month_year
from knowledge.answers.support import SupportedSentence
from knowledge.answers.voice import Voice


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
        part = template.format(title=post.title, date=post.date, month_year=month_year(post.date), number=1).strip()
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
        """The cited posts in the order of their markers, each with its sentences (and code) from the prompt."""
        cited = []
        for passage_number, number in sorted(self.order.items(), key=lambda item: item[1]):
            p = self.passages[passage_number]
            passage = "\n".join(f"{s.text}\n{s.code}" if s.code else s.text for s in p.sources)
            cited.append(Citation(p.hit.post.title, p.hit.post.url, p.hit.post.permalink, number, passage))
        return cited


class GeneratedSentences:
    """The generated answer's accepted sentences: held back until they add up to `min_words`, then
    streamed with their markers, and the count of those dropped."""

    def __init__(self, citer: Citer, timings: dict, started: float, min_words: int,
                 may_start: Callable[[], bool] | None = None):
        self.may_start = may_start          # asked once, before the first sentence streams (False: never)
        self.citer = citer
        self.timings = timings
        self.started = started
        self.min_words = min_words
        self.held: list[SupportedSentence] = []
        self.streaming = False
        self.dropped = 0

    def held_words(self) -> int:
        """The words of the sentences held back."""
        return sum(len(s.text.split()) for s in self.held)

    def offer(self, sentence: SupportedSentence | None) -> Iterator[Token]:
        """Hold an accepted sentence (count a dropped one, None) and stream what is held once it is
        enough or streaming has begun."""
        if sentence is None:
            self.dropped += 1
            return
        self.held.append(sentence)
        if self.streaming or self.held_words() >= self.min_words:
            if not self.streaming and self.may_start is not None and not self.may_start():
                self.held = []              # the try gave way: its answer must not begin
                self.may_start = lambda: False
                return
            self.streaming = True
            for held in self.held:
                self.timings.setdefault("first_sentence_s", time.perf_counter() - self.started)
                yield Token(self.citer.add([held]))
            self.held = []
