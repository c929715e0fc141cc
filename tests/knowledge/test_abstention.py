"""Whether the blog covers a question (knowledge/answers/abstention.py): the names a question uses must be in
the blog, misspelt or spelled out or not; what is missing is said."""

from __future__ import annotations

import pytest

from knowledge.answers.abstention import CoverageCheck, question_names
from knowledge.answers.composer import AnswerComposer
from knowledge.corpus.ingest import ingest
from knowledge.search.retrieval import Retriever
from knowledge.settings import SettingsError, config_dir, load_settings
from knowledge.answers.prompts import load_prompts
from helpers import post_text


@pytest.mark.parametrize("question, names", [
    ("What is Karpenter?", ["Karpenter"]),
    ("How do I run chaos experiments with Chaos Mesh?", ["Chaos Mesh"]),
    ("What's new in Rust 1.99?", ["Rust 1.99"]),
    ("How do I load LLaMA 2 onto an ESP32 board?", ["LLaMA 2", "ESP32"]),
    # A sentence's first word, months and days and function words are not names.
    ("Kubernetes is nice. In March, what did IBM's team do on Monday?", ["IBM"]),
    ("Operators: how do I write one in Go?", ["Go"]),
    ("how do i read the logs of a pipeline run?", []),
    # An abbreviation's period ends no sentence; code and addresses are quoted, not named.
    ("Which Java frameworks, e.g. Quarkus, does he use?", ["Java", "Quarkus"]),
    ("Why does `MyClass.run()` fail on https://Example.org/X?", []),
    ("Was ist ÖBB Scotty?", ["ÖBB Scotty"]),
    ("How do I set up a Tekton-based pipeline?", ["Tekton-based"]),
])
def test_question_names_are_read_from_the_spelling(question, names):
    assert question_names(question) == names


@pytest.fixture(scope="module")
def demo_coverage(demo_index):
    retriever = Retriever(demo_index, load_settings())
    yield CoverageCheck(retriever, retriever.settings.answer)
    retriever.close()


def _gap(coverage: CoverageCheck, question: str):
    return coverage.gap(question, coverage.retriever.search(question, k=coverage.settings.coverage_posts))


@pytest.mark.parametrize("query, names", [
    # Weaviate and Watson are each named in one demo post; "Assistant" is in several, "Can" is no name.
    ("Can Weaviate run inside a Watson Assistant dialog?", ["weaviate", "watson"]),
    # A month is no name, even one that a single post contains ("Update, August 2023").
    ("What did he write in August about QLoRA?", ["qlora"]),
    ("Is bf16 better than fp16?", ["bf16"]),                           # words with digits are names too
    ("what is weaviate?", []),                                         # lowercase: not a name
    ("How do I use Kubernetes with Kafka?", []),                       # in 6 of 15 posts / in none
    ("Which posts mention Helm or Tekton?", []),                       # in 2 posts each: more than 5 %
])
def test_rare_names_are_the_names_few_posts_contain(demo_coverage, query, names):
    assert demo_coverage.rare_names(query) == names


@pytest.mark.parametrize("question, missing", [
    ("How do I autoscale my cluster's nodes with Karpenter?", "Karpenter"),
    ("How do I fine-tune a 7B model on a 12 GB GPU with Unsloth?", "Unsloth"),
    ("How do I trigger the Tekton pipeline from a Jenkins job?", "Jenkins"),
])
def test_a_name_no_post_contains_means_the_blog_does_not_cover_it(demo_coverage, question, missing):
    # The rest of each question is close to a post: similarity alone would answer.
    hits = demo_coverage.retriever.search(question, k=3)
    assert hits[0].similarity >= demo_coverage.settings.abstain_below
    gap = _gap(demo_coverage, question)
    assert gap is not None and gap.kind == "unknown" and gap.name == missing


@pytest.mark.parametrize("question", [
    "How do I start a Tekton pipeline on Kuberntes?",          # Kubernetes, misspelt
    "How do I set up a Tekton-based pipeline?",                # a name's part the blog has
    "How do I load Llama 2 with 4-bit quantization?",          # a version the blog gives
    "How can I add a readiness check to a Quarksu service?",   # Quarkus, misspelt
    "How do I fine-tune a 7B model on a 12 GB GPU with LoRA?",
])
def test_names_the_blog_has_even_misspelt_are_covered(demo_coverage, question):
    assert _gap(demo_coverage, question) is None


def test_short_names_are_not_taken_for_misspellings(demo_coverage):
    # "Tekto" is one letter from "Tekton", but among short words one letter makes another word.
    assert len("Tekto") < demo_coverage.settings.typo_min_letters
    assert not demo_coverage.retriever.near_spelling("Tekto")
    assert demo_coverage.retriever.near_spelling("Kuberntes")
    assert not demo_coverage.retriever.near_spelling("Karpenter")


def test_the_answer_says_what_the_blog_lacks_and_lists_the_closest_posts(demo_index):
    composer = AnswerComposer(demo_index, _extractive_settings())
    answer = composer.answer("How do I autoscale the nodes of my Kubernetes cluster with Karpenter?")
    assert answer.abstained and answer.citations == []
    assert answer.text.startswith("I couldn't find anything about Karpenter in the blog.")
    # The Kubernetes posts come close: they are offered.
    assert answer.related and answer.text.endswith("These posts come closest:")
    assert any("kubernetes" in c.permalink or "tekton" in c.permalink for c in answer.related)


def test_a_name_only_posts_far_from_the_question_mention_is_said_so(demo_index):
    # Weaviate is in the hybrid search post only, which is not close to a Quarkus REST client.
    composer = AnswerComposer(demo_index, _extractive_settings())
    answer = composer.answer("How do I call Weaviate from a Quarkus REST client?")
    assert answer.abstained
    assert answer.text.startswith("I couldn't find a post about Weaviate that answers this.")


def test_a_name_mentioned_only_about_something_else_is_not_covered(make_blog, tmp_path):
    blog = make_blog({
        "2024-03-01-lora.md": post_text("Fine-tuning with LoRA on one GPU", """
            LoRA trains two small low-rank matrices per layer and keeps the base weights frozen, so a 7B
            model fits on one 24 GB GPU. After training, merge the adapters into the base weights with
            merge_and_unload() and save the merged model for serving.
            """),
        "2024-04-01-operators.md": post_text("Writing Kubernetes operators in Go", """
            An operator watches custom resources and reconciles the cluster towards the state they
            describe. Kubebuilder generates the project, the CRD and the controller skeleton.

            ## Where I test

            I run the tests on my home server Bragi, an old desktop under the stairs that also keeps
            the family photos and copies them to a disk in the garage every night.
            """),
        "2024-05-01-rag.md": post_text("Retrieval-augmented generation", """
            RAG retrieves passages for a question and lets the model answer from them, with citations.
            """),
    })
    data_dir = tmp_path / "data"
    ingest(blog, data_dir, load_settings())
    retriever = Retriever(data_dir, load_settings())
    coverage = CoverageCheck(retriever, retriever.settings.answer)
    try:
        # The LoRA post answers how to merge adapters; the only word on Bragi is about a test machine.
        gap = _gap(coverage, "How do I merge the adapters into the base weights on Bragi?")
        assert gap is not None and gap.kind == "not_answered" and gap.name == "Bragi"
        assert _gap(coverage, "How do I merge the adapters into the base weights?") is None
        # Where the question is about what the passage says, the mention answers it.
        assert _gap(coverage, "Does he test his Kubernetes operators on his home server Bragi?") is None
    finally:
        retriever.close()


def _extractive_settings():
    settings = load_settings()
    settings.generator.backend = "none"
    return settings


def test_acronyms_and_versions_are_looked_up_in_the_blog_itself(make_blog, tmp_path):
    blog = make_blog({
        "2024-03-01-topic-models.md": post_text("Topic models for support tickets", """
            Latent Dirichlet Allocation finds topics in support tickets without labels. Each ticket
            is a mix of topics and each topic a mix of words; the topics are read from word counts.
            """),
        "2025-09-18-rust-1-90.md": post_text("Announcing Rust 1.90.0", """
            Rust 1.90.0 makes LLD the default linker on x86_64 Linux, which speeds up linking large
            binaries. Update with rustup update stable.
            """),
    })
    data_dir = tmp_path / "data"
    ingest(blog, data_dir, load_settings())
    retriever = Retriever(data_dir, load_settings())
    coverage = CoverageCheck(retriever, retriever.settings.answer)
    try:
        # Never written as "LDA", but spelled out in the post that answers.
        assert coverage.unknown_name("How does LDA find topics in tickets?",
                                     retriever.search("How does LDA find topics in tickets?", k=3)) == ""
        assert coverage.unknown_name("How does NMF find topics in tickets?",
                                     retriever.search("How does NMF find topics in tickets?", k=3)) == "NMF"
        assert coverage.unknown_name("What's new in Rust 1.90?", retriever.search("Rust 1.90", k=3)) == ""
        assert coverage.unknown_name("What's new in Rust 1.99?", retriever.search("Rust 1.99", k=3)) == "Rust 1.99"
        # A name's words near each other in some post, in any order; not words of two different posts.
        question = "Does LLD link faster on Linux x86_64?"
        assert coverage.unknown_name(question, retriever.search(question, k=3)) == ""
        question = "Is there a Dirichlet Rust crate?"
        assert coverage.unknown_name(question, retriever.search(question, k=3)) == "Dirichlet Rust"
        # "90" and "1" are in the blog, but not after "Rust" as 1.9.
        assert coverage.unknown_name("What's new in Rust 1.9?", retriever.search("Rust 1.9", k=3)) == "Rust 1.9"
    finally:
        retriever.close()


def test_abstain_messages_must_name_the_missing_thing(tmp_path):
    source = (config_dir() / "prompts.yml").read_text(encoding="utf-8")
    broken = tmp_path / "prompts.yml"
    broken.write_text(source.replace('abstain_unknown_name: "I couldn\'t find anything about {name} in the blog."',
                                     'abstain_unknown_name: "I couldn\'t find it."'), encoding="utf-8")
    with pytest.raises(SettingsError, match="abstain_unknown_name must contain {name}"):
        load_prompts(broken)
