"""Questions made from any blog: `blogbot eval synth`.

Answerable questions ask about one section of a post, worded from its heading rather than the
post's title ("Can you explain model download in Mistral?"), with the post as gold and the section's
most specific words as answer keywords. Not-covered questions are answerable ones whose most
specific word is swapped for a name no post contains, of the same kind: of the names in
config/synthetic.yml, one of those whose swapped question stays closest in meaning to the original
(a database fits where a database was). A share of both is written in lower case, as many readers
type. The output is a question file in the format of ../shared/eval, for `blogbot eval sets`; the
posts can be taken from one half of the blog (a stable split by address), so a set to tune on and
one never looked at share no post.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import string
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from knowledge.files import write_text_whole
from knowledge.search.retrieval import Retriever
from knowledge.settings import SettingsError, config_dir, read_config_file
from knowledge.words import is_calendar_word, is_stopword

CONFIG_FILE = "synthetic.yml"
Encode = Callable[[list[str]], np.ndarray]   # texts -> unit vectors, one row each
# A heading's decoration that no reader types: an anchor id, a list number, an interview's "Q:".
_HEADING_NOISE = re.compile(r"\s*\{#[^}]*\}\s*$|^\s*(?:\d+[.)](?=\s)|[QA]:)\s*")
_WORD = re.compile(r"[^\W_][\w.+#-]*[\w+#]|[^\W_]")
# A word after a word or a comma and a space: not the first of a sentence.
_MID_SENTENCE = re.compile(r"(?<=[\w,] )(?:" + _WORD.pattern + ")")
# A name a reader types as such: a capitalized word or an acronym, with one hyphenated part at most
# (not a code identifier such as "SetupWithManager" or "appsv1.Deployment").
_TYPED_NAME = re.compile(r"[A-Z][a-z0-9]+(?:-[A-Za-z0-9]+)?|[A-Z][A-Z0-9]{1,5}")
# Keywords are plain words (no code, numbers or joined names), long enough to say something.
_KEYWORD = re.compile(r"[a-z]{5,}")


class SynthError(ValueError):
    """The blog or config/synthetic.yml cannot give a question set."""


@dataclass
class SynthConfig:
    """config/synthetic.yml: question forms, shares and the names swapped in."""

    templates: list[str]
    not_covered_share: float
    passing_share: float
    passing_posts: int
    lowercase_share: float
    names: list[str]


def load_synth_config(path: Path | None = None) -> SynthConfig:
    """Read and check config/synthetic.yml (SettingsError naming what is wrong)."""
    path = path or config_dir() / CONFIG_FILE
    if not path.is_file():
        raise SettingsError(f"{path}: missing (`blogbot eval synth` needs its question forms and names)")
    raw = read_config_file(path)
    templates = raw.get("templates")
    if not isinstance(templates, list) or not templates or not all(
            isinstance(t, str) and _fields(t) == {"topic", "context"} for t in templates):
        raise SettingsError(f"{path}: templates must be a list of texts, each with {{topic}} and {{context}} "
                            "and no other {field}")
    names = raw.get("names")
    if not isinstance(names, dict) or not all(isinstance(v, list) and all(isinstance(n, str) for n in v)
                                              for v in names.values()):
        raise SettingsError(f"{path}: names must map each kind to a list of names")
    shares = {}
    for key in ("not_covered_share", "passing_share", "lowercase_share"):
        value = raw.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise SettingsError(f"{path}: {key} must be a number from 0 to 1, not {value!r}")
        shares[key] = float(value)
    passing_posts = raw.get("passing_posts")
    if not isinstance(passing_posts, int) or isinstance(passing_posts, bool) or passing_posts < 1:
        raise SettingsError(f"{path}: passing_posts must be a whole number of at least 1, not {passing_posts!r}")
    unique = list(dict.fromkeys(n.strip() for kind in names.values() for n in kind if n.strip()))
    if not unique:
        raise SettingsError(f"{path}: names must list at least one name")
    return SynthConfig(templates, shares["not_covered_share"], shares["passing_share"], passing_posts,
                       shares["lowercase_share"], unique)


def _fields(template: str) -> set[str] | None:
    """The {fields} a question form uses; None when it is not a valid format string."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError:
        return None


@dataclass
class _Section:
    post_id: int
    heading: str
    prose: str
    post_text: str          # the whole post's prose
    post_names: frozenset   # the words the post writes as names (see _post_names)


def _clean_heading(heading: str) -> str:
    return _HEADING_NOISE.sub("", heading).strip().rstrip(":").strip()


def _whole_word(word: str, flags: int = 0) -> re.Pattern:
    return re.compile(rf"(?<![\w.]){re.escape(word)}(?!\w)", flags)


def _post_names(text: str) -> frozenset:
    """The words a text writes as names: with inner capitals or digits among letters ("MetalLB",
    "ESP32"), or always with its capital and at least once in mid-sentence ("Tekton"; not "However",
    which only starts sentences, nor "Model", which is also written "model")."""
    words = set(_WORD.findall(text))
    lower = {w for w in words if w == w.lower()}
    mid_sentence = set(_MID_SENTENCE.findall(text))
    return frozenset(w for w in words if len(w) > 1 and not is_stopword(w) and not is_calendar_word(w) and (
        any(c.isupper() for c in w[1:]) or (any(c.isdigit() for c in w) and any(c.isalpha() for c in w))
        or (w[:1].isupper() and w.lower() not in lower and w in mid_sentence)))


def _read_blog(retriever: Retriever, passing_posts: int) -> tuple[dict[int, list[_Section]], list[str]]:
    """Each post's sections (a long one split into several passages is one section) whose heading no
    other post uses ("Summary" names nothing) and has at least two words that are not function
    words; and the names the blog mentions only in passing: in at most `passing_posts` posts, at most
    twice in each, never in a title or heading, written as a reader would type a name."""
    posts = retriever.current_posts()
    by_heading: dict[str, set[int]] = {}
    candidates: list[_Section] = []
    name_posts: dict[str, int] = {}
    in_titles_and_headings: set[str] = set()
    for post_id in sorted(posts):
        passages = [passage for passage, _ in retriever.post_passages(post_id)]
        post_text = "\n".join(p.prose for p in passages)
        names = _post_names(post_text)
        for name in names:
            passing = len(_whole_word(name).findall(post_text)) <= 2
            name_posts[name] = name_posts.get(name, 0) + 1 if passing else passing_posts + 1
        in_titles_and_headings.update(w.lower() for p in passages for w in _WORD.findall(p.heading))
        in_titles_and_headings.update(w.lower() for w in _WORD.findall(posts[post_id].title))
        prose_of: dict[str, list[str]] = {}
        for passage in passages:
            heading = _clean_heading(passage.heading)
            if heading and passage.prose.strip():
                prose_of.setdefault(heading, []).append(passage.prose)
        for heading, prose in prose_of.items():
            by_heading.setdefault(heading.lower(), set()).add(post_id)
            candidates.append(_Section(post_id, heading, "\n".join(prose), post_text, names))
    sections: dict[int, list[_Section]] = {}
    for section in candidates:
        words = [w for w in _WORD.findall(section.heading) if not is_stopword(w)]
        if (len(by_heading[section.heading.lower()]) == 1 and len(words) >= 2
                and section.heading.lower() != posts[section.post_id].title.lower()):
            sections.setdefault(section.post_id, []).append(section)
    passing = [name for name, count in sorted(name_posts.items()) if count <= passing_posts and _TYPED_NAME.fullmatch(name)
               and name.lower() not in in_titles_and_headings and retriever.posts_containing(name) <= passing_posts]
    return sections, passing


def _as_phrase(heading: str, names: frozenset) -> str:
    """The heading as a phrase inside a sentence: title case is undone for the words the post does
    not write as names ("Model Download" -> "model download"; "Tekton" stays)."""
    def lower(match: re.Match) -> str:
        word = match.group(0)
        return word if word in names or not word[:1].isupper() else word.lower()
    phrase = _WORD.sub(lower, heading)
    return phrase[:-1].rstrip() if phrase.endswith("?") else phrase


def _rarest_name(text: str, names: frozenset, retriever: Retriever) -> tuple[str, int]:
    """The name in `text` (one of the post's `names`) that the fewest posts contain, and how many do;
    ("", 0) when it has none."""
    best, fewest = "", 0
    for word in dict.fromkeys(_WORD.findall(text)):
        if word not in names:
            continue
        count = retriever.posts_containing(word)
        if count and (not best or count < fewest):
            best, fewest = word, count
    return best, fewest


def _keywords(section: _Section, question: str, retriever: Retriever, count: int = 3) -> list[str]:
    """The words that most set the section apart (count in it times the log of how rare they are
    among the posts; in at least two posts: one is a typo or an oddity), that the question does
    not already say."""
    asked = question.lower()
    total = max(len(retriever.current_posts()), 2)
    words = _KEYWORD.findall(section.prose.lower())
    scored = []
    for word in dict.fromkeys(words):
        if is_stopword(word) or word in asked:
            continue
        posts = retriever.posts_containing(word)
        if 2 <= posts < total:
            scored.append((-words.count(word) * math.log(total / posts), word))
    return [word for _, word in sorted(scored)[:count]]


def _answerable(section: _Section, retriever: Retriever, config: SynthConfig, rng: random.Random,
                rare_posts: int) -> tuple[str, str] | None:
    """(question, the name a swap would replace) for one section, or None when neither its heading
    nor its post's title names anything few posts have: such a question names no post in particular."""
    post = retriever.current_posts()[section.post_id]
    topic = _as_phrase(section.heading, section.post_names)
    name, posts = _rarest_name(section.heading, section.post_names, retriever)
    context = ""
    if not name or posts > rare_posts:
        title_name, title_posts = _rarest_name(post.title, section.post_names, retriever)
        if title_name and title_name.lower() not in topic.lower() and (not name or title_posts < posts):
            name, posts, context = title_name, title_posts, f" in {title_name}"
    if not name or posts > rare_posts:
        return None
    if section.heading.endswith("?"):
        question = f"{topic}{context}?"
    else:
        question = rng.choice(config.templates).format(topic=topic, context=context)
    return question[0].upper() + question[1:], name


def _swap_choices(questions: list[tuple[str, str]], names: list[str], encode: Encode) -> list[list[str]]:
    """For each (question, word), the names ordered by how close in meaning the question stays with
    the name in place of the word, less that name's mean closeness over all the questions: a
    well-known name ("Raspberry Pi") fits every sentence a little, a name of the same kind fits this
    one better than the others (a database where "PostgreSQL" was)."""
    closeness = []
    for question, word in questions:
        vectors = encode([question] + [_swap(question, word, name) for name in names])
        closeness.append(vectors[1:] @ vectors[0])
    scores = np.array(closeness)
    if len(questions) > 1:
        scores = scores - scores.mean(axis=0)
    return [[names[i] for i in np.argsort(-row, kind="stable")] for row in scores]


def _swap(question: str, word: str, name: str) -> str:
    """The question with `name` wherever it says `word`."""
    return _whole_word(word, re.IGNORECASE).sub(lambda _: name, question)


def _fits(name: str, word: str, section: _Section) -> bool:
    """Whether swapping `name` for `word` makes a question about `section` one its post does not
    answer: the post never mentions the name, and neither holds the other ("Host-Gateway" for "Host")."""
    low_name, low_word = name.lower(), word.lower()
    return (low_word not in low_name and low_name not in low_word
            and not _whole_word(low_name).search(section.post_text.lower()))


def in_half(permalink: str, half: int | None) -> bool:
    """Whether a post belongs to half 1 or 2 of the blog (a stable split by its address), or `half` is None."""
    return half is None or hashlib.sha1(permalink.encode()).digest()[0] % 2 == half - 1


def synthesize(retriever: Retriever, encode: Encode, count: int, seed: int = 0, config: SynthConfig | None = None,
               rare_share: float = 0.05, half: int | None = None,
               progress: Callable[[str], None] = lambda message: None) -> list[dict]:
    """`count` questions about the indexed blog (see the module docstring), in the eval format:
    `question`, `gold_permalinks` (none for not-covered ones), `answer_keywords`, `type`
    ("section", or for not-covered ones "absent_name" or "name_in_passing"), `lowercase`, and for
    not-covered ones `missing` (the name swapped in).
    `encode` embeds texts as unit vectors. `rare_share`: a heading word in at most this share of the
    posts says which post a question is about without the title's word (answer.name_posts_share).
    `half` (1 or 2): questions about that half of the posts only, so the two halves never share a post."""
    config = config or load_synth_config()
    if count < 1:
        raise SynthError("the number of questions must be at least 1")
    posts = retriever.current_posts()
    if not posts:
        raise SynthError("the index has no posts")
    all_sections, passing = _read_blog(retriever, config.passing_posts)
    if not all_sections:
        raise SynthError("no post has a section heading of its own to ask about")
    by_post = {post_id: sections for post_id, sections in all_sections.items()
               if in_half(posts[post_id].permalink, half)}
    if not by_post:
        raise SynthError(f"half {half} of the blog has no post with a section heading of its own to ask about")
    rng = random.Random(seed)
    drafts = _drafts(by_post, retriever, config, rng, max(1, int(rare_share * len(posts))), count)
    if not drafts:
        raise SynthError("no section names anything that few posts have: no question would point to one post")
    choices = _swaps(drafts, passing, retriever, config, rng, encode, progress)
    lowercase = set(rng.sample(range(len(drafts)), round(config.lowercase_share * len(drafts))))
    questions = []
    for number, (section, question, word) in enumerate(drafts):
        item: dict = {"id": f"s{number + 1:03d}"}
        fitting = [name for name in choices.get(number, (None, []))[1] if _fits(name, word, section)][:3]
        if fitting:
            name = rng.choice(fitting)
            item.update(question=_swap(question, word, name), gold_permalinks=[], type=choices[number][0],
                        missing=name, made_from=posts[section.post_id].permalink)
        else:
            item.update(question=question, gold_permalinks=[posts[section.post_id].permalink],
                        answer_keywords=_keywords(section, question, retriever), type="section")
        if number in lowercase:
            item["question"] = item["question"].lower()
        item["lowercase"] = number in lowercase
        questions.append(item)
    return questions


def _drafts(by_post: dict[int, list[_Section]], retriever: Retriever, config: SynthConfig, rng: random.Random,
            rare_posts: int, count: int) -> list[tuple[_Section, str, str]]:
    """Up to `count` answerable questions as (section, question, the name a swap would replace): the
    posts and each post's sections in a random order (shuffled in place), one question per post
    while posts last, then second ones."""
    drafts: list[tuple[_Section, str, str]] = []
    post_ids = sorted(by_post)
    rng.shuffle(post_ids)
    for post_id in post_ids:
        rng.shuffle(by_post[post_id])
    round_number = 0
    while len(drafts) < count and any(len(by_post[p]) > round_number for p in post_ids):
        for post_id in post_ids:
            if len(drafts) < count and len(by_post[post_id]) > round_number:
                section = by_post[post_id][round_number]
                made = _answerable(section, retriever, config, rng, rare_posts)
                if made:
                    drafts.append((section, *made))
        round_number += 1
    return drafts


def _swaps(drafts: list[tuple[_Section, str, str]], passing: list[str], retriever: Retriever, config: SynthConfig,
           rng: random.Random, encode: Encode, progress: Callable[[str], None]) -> dict[int, tuple[str, list[str]]]:
    """The drafts to turn into not-covered questions (`not_covered_share` of them, drawn at random;
    `passing_share` of those swap in a name the blog mentions in passing, the others one it lacks):
    draft index -> (question type, the names to swap in, best first)."""
    not_covered = round(config.not_covered_share * len(drafts))
    absent = [name for name in config.names if not retriever.contains(name)]
    in_passing = round(config.passing_share * not_covered) if passing else 0
    if not_covered - in_passing and not absent:
        raise SynthError(f"every name of {CONFIG_FILE} occurs in the blog: no not-covered question can be made")
    progress(f"{len(drafts)} sections of {len({d[0].post_id for d in drafts})} posts; {not_covered} questions "
             f"swap in a name the blog lacks ({len(absent)} such names) or mentions in passing ({len(passing)})")
    swap_rows = sorted(rng.sample(range(len(drafts)), not_covered))
    passing_rows = set(rng.sample(swap_rows, in_passing))
    choices: dict[int, tuple[str, list[str]]] = {}
    for kind, names in (("absent_name", absent), ("name_in_passing", passing)):
        rows = [i for i in swap_rows if (i in passing_rows) == (kind == "name_in_passing")]
        if rows:
            ordered = _swap_choices([drafts[i][1:] for i in rows], names, encode)
            choices.update((i, (kind, order)) for i, order in zip(rows, ordered))
    return choices


def write_questions(questions: list[dict], out: Path) -> None:
    """The questions as JSON lines, written whole or not at all."""
    write_text_whole(out, "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions))
