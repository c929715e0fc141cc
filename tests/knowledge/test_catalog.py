"""The blog described from its posts: topics read from the posts when they carry no tags, who writes
the blog, and a question it answers (fast: synthetic vectors, no model)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from knowledge.search import catalog
from knowledge.settings import TopicSettings


@dataclass
class FakePost:
    title: str
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    date: str = "2024-01-01"


def _untagged_blog(seed: int = 0):
    """60 posts: 6 about volume snapshots (close in meaning), 8 "moves to beta" posts about anything,
    and most titles name the blog's own subject."""
    rng = np.random.default_rng(seed)
    titles = [f"Kubernetes volume snapshots with {tool}" for tool in ("velero", "restic", "kasten", "trilio", "stash", "csi")]
    titles += [f"Feature {name} moves to beta" for name in "abcdefgh"]
    titles += [f"Kubernetes notes on thing{i}" if i % 3 else f"Thing{i} explained" for i in range(46)]
    vectors = rng.normal(size=(60, 32))
    vectors[:6] = rng.normal(size=32) * 3 + rng.normal(size=(6, 32)) * 0.5
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    posts = {i + 1: FakePost(title) for i, title in enumerate(titles)}
    return posts, list(posts), vectors.astype(np.float32)


def test_topics_from_content_keep_close_posts_and_drop_words_of_any_post():
    posts, ids, vectors = _untagged_blog()
    listed = catalog.topic_list(posts, lambda: (ids, vectors), TopicSettings())
    # One topic for the six close posts; "beta" (posts about anything) and "kubernetes" (most titles) never.
    assert len(listed) == 1 and "volume" in listed[0][0] and listed[0][1] == 6


def test_topics_of_a_tagged_blog_are_its_tags():
    posts = {i: FakePost(f"Post {i}", tags=["python"] if i % 2 else ["rust", "python"]) for i in range(1, 9)}
    listed = catalog.topic_list(posts, lambda: (_ for _ in ()).throw(AssertionError("not needed")), TopicSettings())
    assert listed[:2] == [("python", 8), ("rust", 4)]


def test_who_writes_the_blog():
    one = [FakePost("a", ["Niklas"])] * 9 + [FakePost("guest", ["Guest"])]
    assert catalog.authors(one, "", 0.8, 3) == (["Niklas"], 1)
    many = [FakePost("r", ["Release Team"])] * 3 + [FakePost("c", ["Core Team"])] * 2 + [FakePost("x", ["Ann", "Bob"])]
    assert catalog.authors(many, "", 0.8, 3) == (["Release Team", "Core Team", "Ann"], 4)
    assert catalog.authors(many, "Site Owner", 0.8, 3) == (["Site Owner"], 1)     # the site's config wins
    assert catalog.authors([FakePost("n")], "", 0.8, 3) == ([], 0)


def test_example_question_is_a_heading_that_names_a_topic():
    headings = ["Why another alpha?", "What is Cargo?", "How do we measure?", "Is Cargo the thing that builds my code?",
                "What is the roadmap for the crates.io index next year?"]
    assert catalog.example_question(headings, ["cargo", "crates.io"], 3, 12) == "What is Cargo?"
    assert catalog.example_question(headings, ["crates.io", "cargo"], 3, 12) == \
        "What is the roadmap for the crates.io index next year?"
    assert catalog.example_question(headings, ["tekton"], 3, 12) is None


class FakeRetriever:
    def __init__(self, posts, ids, vectors, headings):
        self.posts, self.ids, self.vectors, self.headings = posts, ids, vectors, headings

    def current_posts(self):
        return self.posts

    def post_vectors(self):
        return self.ids, self.vectors

    def question_headings(self):
        return self.headings


def test_the_blog_of_many_authors_says_so_and_gives_its_own_examples():
    from bot.assistant import blog_context
    from bot.dialogue.config import load_dialog
    from knowledge.settings import load_settings

    posts, ids, vectors = _untagged_blog()
    for number, post in posts.items():
        post.authors = ["Ann"] if number % 3 == 0 else ["Bob", "Cy"] if number % 3 == 1 else [f"Guest {number}"]
    retriever = FakeRetriever(posts, ids, vectors, ["How do we measure?", "How do volume snapshots work?"])
    context = blog_context(retriever, {"blog_title": "Kubernetes", "blog_author": ""}, load_settings(),
                           load_dialog().messages)
    assert context["author"] == "23 authors, most often Ann, Bob and Cy"
    assert context["post_count"] == 60 and context["blog_title"] == "Kubernetes"
    assert "volume" in context["example_topic"]
    assert context["example_question"] == "How do volume snapshots work?"
