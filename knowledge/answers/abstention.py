"""Whether the blog covers a question, and if not, what it lacks.

A question the blog covers names nothing the blog has never written: every name in it (a word
written with capitals or digits mid-sentence, such as "Karpenter", "ESP32", or a version such as
"Rust 1.99") occurs in some post. The names come from the question's own spelling, so no list of
products or tools is needed, and each blog's own text decides. Misspelt names ("Kuberntes") and
acronyms the closest posts write out ("LDA": "Latent Dirichlet Allocation") count as present.
A name that few posts contain must also be what a close post speaks of: a name that the top post
does not mention and the other close posts mention only in passages far from the question ("my home
server Bragi" under a question on LoRA) is mentioned in passing, and the blog does not answer a
question about it. Beyond names, the
best passage must be close enough in meaning (the `abstain_below*` settings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.search.retrieval import Hit, Retriever
from knowledge.settings import AnswerSettings
from knowledge.words import is_calendar_word, is_stopword

# A word of a question: letters, digits and the joiners of technical names (".", "-", "+", "#", "_").
_TOKEN = re.compile(r"[^\W_][\w.+#-]*[\w+#]|[^\W_]")
_NUMBER = re.compile(r"\d+(\.\d+)*")
_ACRONYM = re.compile(r"[A-Z]{2,6}")
# What a question quotes rather than names: code in backticks, addresses.
_QUOTED = re.compile(r"`[^`]*`|\bhttps?://\S+|\bwww\.\S+")
# A period after a one-letter word ("e.g.", "i.e.", "J. Doe") ends no sentence.
_ABBREVIATION = re.compile(r"(?:^|[\s.])[^\W\d_]\.$")


@dataclass
class Gap:
    """Why the blog does not cover a question: `name` is a thing the question names that no post
    contains ("unknown") or that none of the closest posts is about ("not_answered"); without a
    name the posts are just not close enough ("far")."""

    kind: str
    name: str = ""


def _looks_like_name(word: str, sentence_start: bool) -> bool:
    """Capitals after the first letter or digits among letters ("LLaMA", "MetalLB", "ESP32"), or a
    capital first letter where a sentence does not start."""
    inner_capital = any(c.isupper() for c in word[1:])
    digits_and_letters = any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
    return inner_capital or digits_and_letters or (word[0].isupper() and not sentence_start)


def _starts_sentence(before: str) -> bool:
    before = before.rstrip()
    return not before or (before[-1] in ".?!:;" and not _ABBREVIATION.search(before))


def question_names(question: str) -> list[str]:
    """The names a question uses, as written: runs of capitalized words not at a sentence's start
    ("Chaos Mesh", "Azure Functions"), words with inner capitals or digits ("MetalLB", "ESP32"), and
    a number right after a name ("Rust 1.99"). Function words, months and days, code in backticks
    and addresses are not names."""
    question = _QUOTED.sub(" , ", question)
    names: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            names.append(" ".join(run))
            run.clear()

    previous_end = None
    for match in _TOKEN.finditer(question):
        word, start = match.group(0), match.start()
        adjacent = previous_end is not None and not question[previous_end:start].strip()
        previous_end = match.end()
        lower = word.lower()
        is_name = (len(word) > 1 and not _NUMBER.fullmatch(word) and not is_stopword(lower)
                   and not is_calendar_word(lower) and _looks_like_name(word, _starts_sentence(question[:start])))
        if is_name:
            if not adjacent:
                close_run()
            run.append(word)
        elif run and adjacent and _NUMBER.fullmatch(word):
            run.append(word)
            close_run()
        else:
            close_run()
    close_run()
    return list(dict.fromkeys(names))


def _as_written(word: str, question: str) -> str:
    """`word` with the question's capitals ("weaviate" -> "Weaviate")."""
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", question, re.IGNORECASE)
    return match.group(0) if match else word


class CoverageCheck:
    """Decides, from the question and its hits, whether the blog covers it (see the module docstring)."""

    def __init__(self, retriever: Retriever, settings: AnswerSettings):
        self.retriever = retriever
        self.settings = settings

    def gap(self, question: str, hits: list[Hit]) -> Gap | None:
        """None when the blog covers the question, else what it lacks."""
        if not hits:
            return Gap("far")
        cfg = self.settings
        unknown = self.unknown_name(question, hits)
        if unknown:
            return Gap("unknown", unknown)
        best = max(h.similarity or 0.0 for h in hits[:cfg.posts])
        if best < cfg.abstain_below_with_unknown_terms and self.retriever.unknown_terms(question):
            return Gap("far")
        names = self.rare_names(question)
        closest = [h.post.id for h in hits[:cfg.coverage_posts]]
        elsewhere = []   # names the top post does not mention
        for name in names:
            counts = [self.retriever.mentions(name, post_id) for post_id in closest]
            if max(counts) == 0 or (best < cfg.abstain_below_with_names_in_passing and counts[0] < 2):
                return Gap("not_answered", _as_written(name, question))
            if counts[0] == 0:
                elsewhere.append(name)
        # Names the top post lacks, mentioned only where the other posts speak of something else
        # ("unlike Jenkins, ..."): no passage that names them is as close to the question as a passage
        # that covers it must be. (A name the top post has is judged by the rule above.)
        if names and len(elsewhere) == len(names) and all(
                (self.retriever.closest_mention(question, name, closest) or 0.0) < cfg.abstain_below for name in names):
            return Gap("not_answered", _as_written(names[0], question))
        if best < cfg.abstain_below and not self.retriever.specific_terms(question, hits[0].post.id):
            return Gap("far")
        return None

    def rare_names(self, question: str) -> list[str]:
        """The words of the question's names (lower-cased) that at most answer.name_posts_share of
        the posts contain: what the question is specifically about."""
        words = [w for name in question_names(question) for w in name.split() if not _NUMBER.fullmatch(w)]
        return self.retriever.rare_words(words, self.settings.name_posts_share)

    def unknown_name(self, question: str, hits: list[Hit]) -> str:
        """The first name of the question that the blog does not have, or "": a word of it that no
        post contains, a version no post gives ("Rust 1.99" where the blog has "Rust 1.98"), or words
        no post has near each other ("Chaos Mesh" where posts say "chaos" and "service mesh"
        apart). Near, not as written: a blog that writes "x86_64 and aarch64 Linux" knows "Linux x86_64"."""
        for name in question_names(question):
            words = name.split()
            if any(not _NUMBER.fullmatch(w) and not self._known_word(w, hits) for w in words):
                return name
            if len(words) > 1 and _NUMBER.fullmatch(words[-1]) and not self.retriever.contains(" ".join(words[-2:])):
                return name
            named = [w for w in words if not _NUMBER.fullmatch(w)]
            if len(named) > 1 and all(self.retriever.contains(w) for w in named) \
                    and not self.retriever.together(named, self.settings.name_words_within):
                return name
        return ""

    def _known_word(self, word: str, hits: list[Hit]) -> bool:
        """Whether some post has the word; or, for a hyphenated one, each of its parts that is a name
        ("Tekton-based"); or it is a misspelling of the blog's words, or an acronym that one of the
        closest posts writes out."""
        if self.retriever.contains(word):
            return True
        parts = [p for p in word.split("-") if p and _looks_like_name(p, sentence_start=False)]
        if "-" in word and all(self.retriever.contains(p) or self.retriever.near_spelling(p) for p in parts):
            return True
        if _ACRONYM.fullmatch(word) and any(self.retriever.spells_out(word, h.post.id)
                                            for h in hits[:self.settings.coverage_posts]):
            return True
        return self.retriever.near_spelling(word)
