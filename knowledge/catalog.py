"""The blog's posts as a catalog: the newest, those of a period, one by its title, and the
blog's topics (tags, categories and title terms)."""

from __future__ import annotations

import re
from collections import Counter

from rapidfuzz import fuzz, process

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#]*(?:[.-][A-Za-z0-9+#]+)*")
# Title words that say nothing about a topic.
GENERIC_WORDS = set("""
a an and are as at be by can do does for from get getting how i in into is it its my new of on or our
part the to up use used using via vs what when where which who why with without you your about after
all also an another any approach approaches article articles available based basic basics best better
between blog build building built come comes compared create creating day deploy deploying
developing development easy example examples first five four going guide help how-to howto improve
introducing introduction just learn let lets like make making more most next not now one only open
other overview post posts quick run running second simple some start started starting step steps
sample samples than that these this three through tip tips tutorial two update updated way ways
what's will work working write writing year news version versions them they their there here
small large big good great bad really much many less few lot lots top end near quick quickly fast
application applications app apps model models tool tools data service services code system systems
""".split())



def blog_topics(posts) -> dict[str, list[str]]:
    """Topic values of a blog: its tags and categories, and title terms that name something
    (used in two or more titles, or written like a name: "LoRA", "RAG", "Quarkus")."""
    topics: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    named: set[str] = set()
    posts = list(posts)
    for post in posts:
        for label in [*post.tags, *post.categories]:
            label = " ".join(label.lower().replace("_", " ").split())
            if label:
                counts[label] += 1
                topics.setdefault(label, [])
        words = _WORD.findall(post.title)
        seen = set()
        for word in words:
            lower = word.lower()
            if lower in GENERIC_WORDS or len(lower) < 3 or lower in seen:
                continue
            seen.add(lower)
            counts[lower] += 1
            if any(c.isupper() for c in word[1:]) or (word[0].isupper() and post.title.find(word) > 0):
                named.add(lower)
        lowered = [w.lower() for w in words]
        for a, b in zip(lowered, lowered[1:]):
            if a not in GENERIC_WORDS and b not in GENERIC_WORDS and len(a) > 2 and len(b) > 2:
                bigrams[f"{a} {b}"] += 1
    too_common = max(10, len(posts) * 0.3)
    for term, count in counts.items():
        if (count >= 2 or term in named or term in topics) and count <= too_common:
            topics.setdefault(term, [])
    for term, count in bigrams.items():
        if count >= 2:
            topics.setdefault(term, [])
    return {t: s for t, s in topics.items() if counts.get(t, 2) <= too_common}


def topic_counts(posts) -> Counter:
    """How many posts carry each topic value of `blog_topics`."""
    posts = list(posts)
    topics = blog_topics(posts)
    counts: Counter[str] = Counter()
    for post in posts:
        words = [w.lower() for w in _WORD.findall(post.title)]
        terms = {" ".join(t.lower().replace("_", " ").split()) for t in [*post.tags, *post.categories]}
        terms.update(words)
        terms.update(f"{a} {b}" for a, b in zip(words, words[1:]))
        counts.update(t for t in terms if t in topics)
    return counts


def newest(posts, count: int = 5, among: set[str] | None = None) -> list:
    """The `count` newest posts, optionally only those whose permalink is in `among`."""
    chosen = [p for p in posts if among is None or p.permalink in among]
    return sorted(chosen, key=lambda p: (p.date, p.title), reverse=True)[:count]


def in_period(posts, first: str, last: str) -> list:
    """Posts dated from `first` to `last` (ISO dates, inclusive), newest first."""
    return sorted((p for p in posts if first <= p.date <= last), key=lambda p: (p.date, p.title), reverse=True)


def by_title(posts, title: str, min_score: int = 80):
    """The post whose title best matches `title` (fuzzy, ignoring word order), or None."""
    posts = list(posts)
    if not posts or not title.strip():
        return None
    best = process.extractOne(title.lower(), [p.title.lower() for p in posts], scorer=fuzz.token_set_ratio,
                              score_cutoff=min_score)
    return posts[best[2]] if best else None


def by_permalink(posts, permalink: str):
    return next((p for p in posts if p.permalink == permalink), None)
