"""The blog's posts as a catalog: the newest, those of a period, one by its title, the blog's
topics (tags and categories, else groups of posts by meaning) and who writes it."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Callable, Collection, Iterable

import numpy as np
from rapidfuzz import fuzz, process

from knowledge.words import is_stopword

if TYPE_CHECKING:
    from knowledge.corpus.index import PostRecord
    from knowledge.settings import TopicSettings

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



def blog_topics(posts: Iterable[PostRecord]) -> dict[str, list[str]]:
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


def topic_counts(posts: Iterable[PostRecord]) -> Counter[str]:
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


def tagged_share(posts: Iterable[PostRecord]) -> float:
    """The share of posts that carry a tag or a category."""
    posts = list(posts)
    return sum(1 for p in posts if p.tags or p.categories) / len(posts) if posts else 0.0


def topic_list(posts: dict[int, PostRecord], post_vectors: Callable[[], tuple[list[int], np.ndarray]],
               settings: TopicSettings) -> list[tuple[str, int]]:
    """The topics "what do you write about?" lists, most posts or most specific first, with post
    counts: the tags and categories (and title terms, `topic_counts`) when at least
    `settings.tagged_share` of the posts carry some, else `content_topics`. `post_vectors()` gives
    (post ids, whole-post vectors) and is called only for the latter."""
    if not posts:
        return []
    if tagged_share(posts.values()) < settings.tagged_share:
        ids, vectors = post_vectors()
        return list(content_topics(posts, ids, vectors, settings).items())
    counts = topic_counts(posts.values())
    chosen: list[str] = []
    for topic in sorted(counts, key=lambda t: (-counts[t], t)):    # ties by name: the same list every run
        # A two-word topic makes its parts redundant ("ibm bluemix" vs "bluemix"): the most frequent form.
        if not any(topic in other.split() or other in topic.split() for other in chosen):
            chosen.append(topic)
        if len(chosen) >= settings.shown:
            break
    return [(topic, counts[topic]) for topic in chosen]


def content_topics(posts: dict[int, PostRecord], post_ids: list[int], vectors: np.ndarray,
                   settings: TopicSettings) -> Counter[str]:
    """Topics of a blog whose posts carry no tags, read from the posts (`settings`: TopicSettings):
    title words and two-word phrases whose posts are closer in meaning to each other than as many
    posts taken at random, each with its post count, best first. Closeness is the squared length of
    the mean of the posts' unit vectors (their mean pairwise cosine, self-pairs included), which for n
    random posts is about c + (1 - c) / n, with c the blog's mean pairwise cosine. A term must be
    clearly above chance (`min_z`) to count; topics are ranked by the excess times √n, which weighs
    a group's size less than its closeness (ranking by n times the excess put "beta" first)."""
    rows = {pid: i for i, pid in enumerate(post_ids) if pid in posts}
    if len(rows) < 2:
        return Counter()
    titled: dict[str, list[int]] = {}
    for pid, row in rows.items():
        for term in _title_terms(posts[pid].title):
            titled.setdefault(term, []).append(row)
    matrix = vectors[list(rows.values())].astype(np.float64)
    count = len(matrix)
    # The blog's pairwise cosines (i != j), exactly: their mean and spread.
    total = matrix.sum(axis=0)
    mean_cos = (float(total @ total) - count) / (count * (count - 1))
    squares = (float(np.sum((matrix.T @ matrix) ** 2)) - count) / (count * (count - 1))
    spread = math.sqrt(max(squares - mean_cos ** 2, 1e-12))
    most = max(settings.min_posts, settings.max_share * count)
    scores: dict[str, float] = {}
    for term, members in titled.items():
        n = len(members)
        if not settings.min_posts <= n <= most:
            continue
        mean = vectors[members].astype(np.float64).mean(axis=0)
        excess = float(mean @ mean) - (mean_cos + (1 - mean_cos) / n)
        # For n posts drawn at random the closeness varies by about √2·spread/n: a term must be
        # `min_z` of those above chance to be a topic at all.
        if excess * n / (math.sqrt(2) * spread) >= settings.min_z:
            scores[term] = math.sqrt(n) * excess

    def commonness(term: str) -> int:     # of two phrases on the same posts, the one of rarer words says more
        return sum(len(titled.get(word, ())) for word in term.split())

    topics: Counter[str] = Counter()
    covered: set[int] = set()
    for term in sorted(scores, key=lambda t: (-round(scores[t], 9), commonness(t), t)):
        members = set(titled[term])
        if len(members & covered) >= settings.overlap_share * len(members):
            continue        # mostly the posts of a topic already shown ("hangout notes", "community hangout")
        label = term
        if " " not in term:     # shown as the phrase most of its titles share, if there is one
            phrases = [p for p in titled if term in p.split() and " " in p and
                       len(titled[p]) >= settings.overlap_share * len(members)]
            label = min(phrases, key=lambda p: (-len(titled[p]), commonness(p), p), default=term)
        topics[label] = len(titled[label])
        covered |= members
        if len(topics) >= settings.shown:
            break
    return topics


def _title_terms(title: str) -> set[str]:
    """A title's words and two-word phrases, lowercased, function words and numbers left out."""
    words = [w.lower() for w in _WORD.findall(title)]
    kept = [w if len(w) > 1 and not is_stopword(w) and any(c.isalpha() for c in w) else None for w in words]
    terms = {w for w in kept if w}
    terms.update(f"{a} {b}" for a, b in zip(kept, kept[1:]) if a and b)
    return terms


def example_question(headings: list[str], topics: list[str], min_words: int, max_words: int) -> str | None:
    """A question the blog answers in its own words: a section heading that is a question and names
    one of its topics ("What is Cargo?"), the best-ranked topic first, then the shortest. A heading
    that names none ("Why another alpha?") leans on its post and is never chosen."""
    best: tuple | None = None
    for heading in headings:
        words = heading.split()
        if not min_words <= len(words) <= max_words:
            continue
        terms = _title_terms(heading)
        for rank, topic in enumerate(topics):
            if topic in terms:
                key = (rank, len(words), heading)
                best = key if best is None or key < best else best
                break
    return best[2] if best else None


def authors(posts: Collection[PostRecord], site_author: str, main_share: float, shown: int) -> tuple[list[str], int]:
    """Who writes the blog: (the names to say, how many authors there are). The site's own author when
    its config names one; else the name on at least `main_share` of the posts that name anyone; else
    the `shown` most frequent names and the count of all."""
    if site_author.strip():
        return [site_author.strip()], 1
    counts: Counter[str] = Counter(name for post in posts for name in dict.fromkeys(post.authors))
    if not counts:
        return [], 0
    named = sum(1 for post in posts if post.authors)
    ranked = sorted(counts, key=lambda n: (-counts[n], n))
    if counts[ranked[0]] >= main_share * named:
        return ranked[:1], 1
    return ranked[:shown], len(counts)


def newest(posts: Iterable[PostRecord], count: int = 5, among: set[str] | None = None) -> list[PostRecord]:
    """The `count` newest posts, optionally only those whose permalink is in `among`."""
    chosen = [p for p in posts if among is None or p.permalink in among]
    return sorted(chosen, key=lambda p: (p.date, p.title), reverse=True)[:count]


def in_period(posts: Iterable[PostRecord], first: str, last: str) -> list[PostRecord]:
    """Posts dated from `first` to `last` (ISO dates, inclusive), newest first."""
    return sorted((p for p in posts if first <= p.date <= last), key=lambda p: (p.date, p.title), reverse=True)


def by_title(posts: Iterable[PostRecord], title: str, min_score: int = 80) -> PostRecord | None:
    """The post whose title best matches `title` (fuzzy, ignoring word order), or None."""
    posts = list(posts)
    if not posts or not title.strip():
        return None
    best = process.extractOne(title.lower(), [p.title.lower() for p in posts], scorer=fuzz.token_set_ratio,
                              score_cutoff=min_score)
    return posts[best[2]] if best else None
