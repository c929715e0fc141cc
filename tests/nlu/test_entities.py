"""Entity extraction (synonyms, typos, quoted titles, mentions, the blog's topics) and the post catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.nlu.entities import EntityExtractor, load_entity_definitions
from helpers import TODAY
from knowledge.search.catalog import blog_topics, by_title, in_period, newest, topic_counts
from knowledge.settings import SettingsError


@dataclass
class FakePost:
    title: str
    date: str
    permalink: str
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


POSTS = [
    FakePost("Introduction to Kubernetes operators", "2021-03-04", "/k8s-operators/", ["kubernetes"], ["devops"]),
    FakePost("Introduction to Tekton pipelines", "2022-06-10", "/tekton-intro/", ["ci_cd"], ["devops"]),
    FakePost("Using Quarkus with Tekton pipelines", "2022-11-30", "/quarkus-tekton/", [], ["java"]),
    FakePost("Fine-tuning a 7B model with LoRA", "2024-05-01", "/lora/", ["llm"], []),
    FakePost("Hybrid search with RRF", "2023-09-15", "/rrf/", ["search"], []),
    FakePost("Using prompts well", "2023-01-10", "/prompts/", [], []),
]


@pytest.fixture(scope="module")
def topics():
    return blog_topics(POSTS)


@pytest.fixture(scope="module")
def extractor(topics):
    return EntityExtractor(load_entity_definitions(), topics, fuzzy_score=88)


def found(extractor, text: str) -> list[tuple[str, object, str]]:
    """(entity, value, matched text) of every entity in `text`."""
    return [(e.entity, e.value, text[e.start:e.end]) for e in extractor.extract(text, TODAY)]


def values(extractor, text: str, name: str) -> list:
    return [value for entity, value, _ in found(extractor, text) if entity == name]


# -- the blog's topics ---------------------------------------------------------------------------

def test_tags_and_categories_are_topics(topics):
    for label in ("kubernetes", "devops", "java", "llm", "search", "ci cd"):
        assert label in topics, sorted(topics)


def test_repeated_and_named_title_terms_are_topics(topics):
    assert "pipelines" in topics          # in two titles
    assert "tekton pipelines" in topics   # a two-word term in two titles
    assert "lora" in topics and "rrf" in topics and "quarkus" in topics   # written like names
    assert "operators" not in topics      # once, lower case: not a topic


def test_generic_title_words_are_not_topics(topics):
    for word in ("introduction", "using", "with", "model", "well"):
        assert word not in topics, sorted(topics)


def test_topic_counts_count_posts_per_topic():
    counts = topic_counts(POSTS)
    assert counts["devops"] == 2
    assert counts["tekton pipelines"] == 2
    assert counts["kubernetes"] == 1
    assert "introduction" not in counts


def test_blog_topic_found_in_text(extractor):
    assert ("topic", "tekton pipelines", "tekton pipelines") in found(extractor, "posts about tekton pipelines?")
    assert values(extractor, "anything on Quarkus", "topic") == ["quarkus"]


# -- synonyms and typos --------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, surface", [
    ("posts about k8s", "kubernetes", "k8s"),
    ("what have you written on LLM?", "large language models", "LLM"),   # the blog's "llm" tag does not win
    ("explain RAG to me", "retrieval augmented generation", "RAG"),
])
def test_synonyms_map_to_the_configured_value(extractor, text, value, surface):
    assert ("topic", value, surface) in found(extractor, text)


def test_fuzzy_typo_maps_to_the_topic(extractor):
    entities = extractor.extract("anything on kubernets?", TODAY)
    topics = [e for e in entities if e.entity == "topic"]
    assert [(e.value, e.extra) for e in topics] == [("kubernetes", {"fuzzy": True})]


def test_no_fuzzy_match_for_unrelated_words(extractor):
    assert values(extractor, "tell me a joke about bananas", "topic") == []


# -- quoted titles and mentions ------------------------------------------------------------------

@pytest.mark.parametrize("text", ['summarize "Introduction to Tekton pipelines"',
                                  "summarize “Introduction to Tekton pipelines”"])
def test_quoted_title_without_its_topics(extractor, text):
    assert found(extractor, text) == [("quoted_title", "Introduction to Tekton pipelines",
                                       "Introduction to Tekton pipelines")]


def test_single_quoted_title(extractor):
    text = "what is the post 'Hybrid search with RRF' about?"
    assert values(extractor, text, "quoted_title") == ["Hybrid search with RRF"], found(extractor, text)


@pytest.mark.parametrize("text, value", [
    ("summarize the second one", "2"),
    ("show the 3rd post", "3"),
    ("the first one please", "1"),
    ("open number 4", "4"),
    ("the last one", "LAST"),
    ("tell me about it", "IT"),
    ("summarize that post", "IT"),
])
def test_mentions_are_normalized(extractor, text, value):
    assert values(extractor, text, "mention") == [value]


@pytest.mark.parametrize("text", ["posts from the last year", "what is new", "it is great"])
def test_no_mention_in_time_words_or_statements(extractor, text):
    assert values(extractor, text, "mention") == []


def test_entities_come_in_text_order_with_dates(extractor):
    text = "newest posts about k8s from last year"
    assert found(extractor, text) == [("order", "newest", "newest"), ("subject", "k8s", "k8s"),
                                      ("topic", "kubernetes", "k8s"), ("sys-date", "2025-01-01/2025-12-31", "last year")]


@pytest.mark.parametrize("text, subject", [
    ("do you have posts about Rust?", "Rust"),
    ("posts about kafka published in 2020", "kafka"),
    ("what did you write on serverless back in 2018", "serverless"),
    ("anything on vector databases from last year?", "vector databases"),
])
def test_subject_is_what_posts_are_asked_about_without_the_time(extractor, text, subject):
    assert values(extractor, text, "subject") == [subject]


def test_no_subject_for_pronouns(extractor):
    assert values(extractor, "tell me more about it", "subject") == []


# -- entities.yml errors -------------------------------------------------------------------------

def test_entity_definition_errors_name_the_entity(tmp_path):
    path = tmp_path / "entities.yml"
    path.write_text("entities:\n  colour:\n    valeus: {red: [crimson]}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"entity colour: unknown key\(s\) valeus"):
        load_entity_definitions(path)
    path.write_text("entities:\n  code:\n    patterns: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="entity code: bad pattern"):
        load_entity_definitions(path)


# -- the catalog ---------------------------------------------------------------------------------

def test_newest():
    assert [p.permalink for p in newest(POSTS, 2)] == ["/lora/", "/rrf/"]
    assert [p.permalink for p in newest(POSTS, 5, among={"/rrf/", "/k8s-operators/", "/nope/"})] == \
        ["/rrf/", "/k8s-operators/"]


def test_in_period_is_inclusive_and_newest_first():
    assert [p.permalink for p in in_period(POSTS, "2022-06-10", "2023-09-15")] == \
        ["/rrf/", "/prompts/", "/quarkus-tekton/", "/tekton-intro/"]
    assert in_period(POSTS, "2025-01-01", "2025-12-31") == []


def test_by_title():
    assert by_title(POSTS, "hybrid search with rrf").permalink == "/rrf/"
    assert by_title(POSTS, "Tekton pipelines introduction").permalink == "/tekton-intro/"   # word order ignored
    assert by_title(POSTS, "baking sourdough bread at home") is None
    assert by_title(POSTS, "  ") is None
    assert by_title([], "Hybrid search with RRF") is None
