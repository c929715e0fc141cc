"""The author's sentences in the assistant's voice.

A sentence a post says in the first person ("I've done a couple of changes", "check out my posts")
would read as if the assistant had done it. `Voice.third_person` rewrites the singular first person
with the author's name ("Niklas Heidloff has done a couple of changes") by small grammar rules and
checks the result: the word after "I" must be one the rules know how to turn ("am", "have", "can"),
and no first-person word may be left. What fails the check, and anything said as "we", is quoted with
attribution instead ("Niklas Heidloff writes: “…”").
The words and templates are in prompts.yml `voice`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.words import is_stopword

# A word, with its contraction ("I've"); "I/O", "x-I", "my.cnf" or "my.example.com" are not words of their own.
_TOKEN = re.compile(r"(?<![\w/’'.-])[A-Za-z]+(?:['’][A-Za-z]+)?(?![\w/-]|\.\w)")
# Where a sentence (or a list item) starts: a word put there is capitalized.
_STARTS = re.compile(r"(?:^|[.!?:])\s*[\"“(]?$|^\s*(?:[-*+]|\d+\.)\s+$")


@dataclass
class VoiceRules:
    """prompts.yml `voice`: the first-person words and how each becomes the third person."""

    singular: dict = field(default_factory=dict)      # "my" -> "{author}'s"; "i'm" -> "{author} is"; "" = fail
    plural: frozenset = field(default_factory=frozenset)
    verbs_after_i: dict = field(default_factory=dict)  # "am" -> "is", "have" -> "has"; "" = unchanged
    quote: str = "{author} writes: “{text}”"
    quote_many: str = "{author} write: “{text}”"
    unknown_author: str = "the author"
    several_authors: str = "the authors"
    list_and: str = "and"


class Voice:
    """Turns a post's first-person sentences into the assistant's voice (see the module docstring)."""

    def __init__(self, rules: VoiceRules):
        self.rules = rules

    def author_label(self, authors: list[str], site_author: str) -> tuple[str, bool]:
        """(who to name for a post, whether that is several people)."""
        names = [a for a in authors if a.strip()] or ([site_author] if site_author.strip() else [])
        if not names:
            return self.rules.unknown_author, False
        if len(names) == 1:
            return names[0], False
        if len(names) == 2:
            return f"{names[0]} {self.rules.list_and} {names[1]}", True
        return self.rules.several_authors, True

    def added_phrases(self, authors: list[str], site_author: str) -> list[str]:
        """What this voice may add to a sentence of a post by `authors`: the attribution's opening
        ("Niklas Heidloff writes: “") and the names it says ("Niklas Heidloff", "Niklas"). A check of
        the answer against the post reads the sentence without them."""
        author, several = self.author_label(authors, site_author)
        opening = (self.rules.quote_many if several else self.rules.quote).partition("{text}")[0].format(author=author)
        return [opening[:1].upper() + opening[1:], author, _short(author)]

    def first_person(self, text: str) -> bool:
        """Whether the sentence speaks in the first person (singular or plural)."""
        return any(self._kind(token) for token in _TOKEN.findall(text))

    def _kind(self, token: str) -> str | None:
        lower = token.lower().replace("’", "'")
        if lower in self.rules.plural:
            return "plural"
        if lower in self.rules.singular and (lower != "i" or token == "I"):
            return "singular"
        return None

    def third_person(self, text: str, author: str) -> str | None:
        """The sentence with its singular first person in the third person, or None when the rules
        cannot do it safely (plural first person, an unknown verb form, a word the rules leave out)."""
        tokens = list(_TOKEN.finditer(text))
        out: list[str] = []
        position = 0
        skip_next = False
        for number, match in enumerate(tokens):
            if skip_next:
                skip_next = False
                continue
            token = match.group(0)
            kind = self._kind(token)
            if kind is None:
                continue
            if kind == "plural":
                return None
            lower = token.lower().replace("’", "'")
            replacement = self.rules.singular.get(lower, "")
            if not replacement:
                return None
            end = match.end()
            if lower == "i":      # the verb after "I" agrees with a third-person subject
                verb = tokens[number + 1] if number + 1 < len(tokens) else None
                if verb is None or text[match.end():verb.start()].strip():
                    return None
                changed = self._agree(verb.group(0))
                if changed is None:
                    return None
                replacement = f"{replacement} {changed}"
                end = verb.end()
                skip_next = True
            replacement = replacement.format(author=author if not out else _short(author))
            if _STARTS.search(text[:match.start()]):
                replacement = replacement[:1].upper() + replacement[1:]
            out.append(text[position:match.start()] + replacement)
            position = end
        out.append(text[position:])
        result = "".join(out)
        return result if not self.first_person(result) else None

    def _agree(self, verb: str) -> str | None:
        """The word after "I" as it goes after the author's name, from the rules' table ("am" ->
        "is", "can" stays); None for any other word: "I use" / "I read" / "I thought" cannot be told
        apart by rules this small, so such a sentence is quoted, never turned wrongly."""
        changed = self.rules.verbs_after_i.get(verb.lower().replace("’", "'"))
        return None if changed is None else changed or verb

    def in_voice(self, sentences: list[str], authors: list[str], site_author: str) -> tuple[list[str], str, str]:
        """A run of one post's sentences for the answer, as (sentences, opening, closing): as they are
        when none speaks in the first person; rewritten when every one that does can be; else as they
        are between an attribution's opening ("Niklas Heidloff writes: “") and its closing ("”")."""
        if not any(self.first_person(s) for s in sentences):
            return sentences, "", ""
        author, several = self.author_label(authors, site_author)
        if not several:
            rewritten = [self.third_person(s, author) if self.first_person(s) else s for s in sentences]
            if all(r is not None for r in rewritten):
                return rewritten, "", ""
        template = self.rules.quote_many if several else self.rules.quote
        opening, _, closing = template.partition("{text}")
        opening = opening.format(author=author)
        return sentences, opening[:1].upper() + opening[1:], closing


def _short(author: str) -> str:
    """The name as said again in one sentence: a person's first name ("Niklas"), else all of it
    ("The Rust Release Team")."""
    words = author.split()
    if 2 <= len(words) <= 3 and all(w[:1].isupper() for w in words) and not is_stopword(words[0]):
        return words[0]
    return author
