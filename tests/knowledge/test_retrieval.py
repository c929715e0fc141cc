"""Search over the demo index (built once per session), date windows and the retrieval evaluation."""

from __future__ import annotations

import json

import pytest

from helpers import DEMO_BLOG, DEMO_QUESTIONS
from knowledge.evaluation import evaluate_retrieval, load_questions
from knowledge.search.query_dates import date_window
from knowledge.search.retrieval import QueryError

QUESTIONS = [json.loads(line) for line in DEMO_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
ANSWERABLE = [q for q in QUESTIONS if q["gold_permalinks"]]
QUERIES = [
    "fine-tuning a model on a small GPU",
    "kubernetes",
    "how do I deploy to OpenShift with Helm charts",
    "reciprocal rank fusion k=60",
    "tkn pipelinerun logs --last -f",
]


@pytest.mark.parametrize("question", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_answerable_question_finds_its_post_in_top_3(retriever, question):
    hits = retriever.search(question["question"], k=3)
    assert question["gold_permalinks"][0] in [hit.post.permalink for hit in hits], \
        [(hit.post.permalink, round(hit.score, 3)) for hit in hits]


@pytest.mark.parametrize("query", QUERIES)
def test_each_post_once_ordered_by_score_with_snippet(retriever, query):
    hits = retriever.search(query, k=15)
    permalinks = [hit.post.permalink for hit in hits]
    assert len(permalinks) == len(set(permalinks))
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(hit.snippet.strip() for hit in hits)
    assert all(len(hit.snippet) <= 330 for hit in hits)


def test_k_limits_number_of_hits(retriever):
    assert len(retriever.search("kubernetes", k=2)) == 2
    assert len(retriever.search("kubernetes", k=100, mode="dense")) == 15   # each demo post once


def test_hit_json_fields(retriever):
    [hit] = retriever.search("QLoRA 4-bit NF4 adapters", k=1)
    data = hit.as_json()
    assert set(data) == {"permalink", "url", "title", "date", "score", "snippet"}
    assert data["permalink"] == "/article/lora-qlora-small-gpu/"
    assert data["url"] == "https://blog.example.com/article/lora-qlora-small-gpu/"
    assert data["date"] == "2024-05-01"
    assert data["title"] == "Fine-Tuning a 7B LLM on a 12 GB GPU with LoRA and QLoRA"


def test_best_passage_is_the_matching_one(retriever):
    [hit] = retriever.search("pgvector cosine distance operator vector_cosine_ops", k=1)
    assert hit.post.permalink == "/article/vector-databases-compared/"
    assert "<=>" in hit.passages[0].text or "vector_cosine_ops" in hit.passages[0].text


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_returns_results(retriever, mode):
    hits = retriever.search("Tekton pipeline tasks on Kubernetes", k=5, mode=mode)
    assert hits
    assert hits[0].post.permalink == "/article/tekton-pipelines/"


def test_unknown_mode_raises(retriever):
    with pytest.raises(QueryError, match="mode"):
        retriever.search("kubernetes", mode="semantic")


def test_tag_filter_returns_only_tagged_posts(retriever):
    hits = retriever.search("deploying and fine-tuning things", k=15, tag="kubernetes")
    assert {hit.post.permalink for hit in hits} == {"/article/tekton-pipelines/", "/article/kubernetes-operator-go/"}
    assert all("kubernetes" in hit.post.tags for hit in hits)


def test_tag_filter_matches_categories_case_insensitively(retriever):
    hits = retriever.search("deployment", k=15, tag="devops")
    assert {hit.post.permalink for hit in hits} == {"/article/tekton-pipelines/", "/article/openshift-helm-kustomize/"}


def test_unknown_tag_gives_no_hits(retriever):
    assert retriever.search("kubernetes", tag="sourdough") == []


def test_year_filter(retriever):
    expected = {p.name for p in (DEMO_BLOG / "_posts").glob("2024-*.md")}
    assert len(expected) == 3
    hits = retriever.search("search and language models", k=15, date_from="2024", date_to="2024")
    assert len(hits) == 3
    assert all(hit.post.date.startswith("2024-") for hit in hits)
    assert {hit.post.source.rsplit("/", 1)[-1] for hit in hits} == expected


def test_date_range_filter_with_days(retriever):
    hits = retriever.search("kubernetes", k=15, date_from="2020-11-02", date_to="2021-07")
    assert {hit.post.date for hit in hits} == {"2020-11-02", "2021-07-14"}
    hits = retriever.search("kubernetes", k=15, date_from="2025-06")
    assert {hit.post.date for hit in hits} == {"2025-09-30", "2026-01-20"}


@pytest.mark.parametrize("bad", ["2024/01/01", "last year", "24", "2024-1"])
def test_invalid_date_raises(retriever, bad):
    with pytest.raises(QueryError, match="YYYY"):
        retriever.search("kubernetes", date_from=bad)
    with pytest.raises(QueryError, match="YYYY"):
        retriever.search("kubernetes", date_to=bad)


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query_raises(retriever, query):
    with pytest.raises(QueryError, match="empty"):
        retriever.search(query)


def test_zero_k_raises(retriever):
    with pytest.raises(QueryError):
        retriever.search("kubernetes", k=0)


def test_stopword_only_query_in_bm25_mode_finds_nothing(retriever):
    assert retriever.search("what is the", mode="bm25") == []


def test_year_in_query_prefers_posts_of_that_year(retriever):
    [hit] = retriever.search("what did I write about Kubernetes in 2021", k=1)
    assert hit.post.date.startswith("2021")


# -- date windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("what did he write about agents in 2019", ("2019-01-01", "2019-12-31")),
    ("posts from September 2012 about Bluemix", ("2012-09-01", "2012-10-31")),
    ("the Sep 2012 post", ("2012-09-01", "2012-10-31")),
    ("summer 2016 hackathon", ("2016-06-01", "2016-09-30")),
    ("winter 2016", ("2016-12-01", "2017-01-31")),
    ("December 2020 recap", ("2020-12-01", "2021-01-31")),
    ("May 2021 release", ("2021-05-01", "2021-06-30")),
    ("late 2023", ("2023-09-01", "2024-01-31")),
    ("from 2018 to 2020", ("2018-01-01", "2020-12-31")),
    ("compare 2020 and 2018", ("2018-01-01", "2020-12-31")),
    ("how do I fine-tune a model", None),
    ("a 4096 token context and 1024 dimensions", None),
    # The one date parser (knowledge/dates.py) that the dialogue's sys-date uses too:
    ("what changed since late 2025?", ("2025-09-01", "2026-01-31")),
    ("the rusty days fall, 2020", ("2020-09-01", "2020-12-31")),
    ("FOSDEM on February 2nd, 2020", ("2020-01-01", "2020-12-31")),
    ("the project goals for 2025H2", None),
    ("the Q1 2022 roadmap", ("2022-01-01", "2022-04-30")),
    ("the 2023-05 release", ("2023-05-01", "2023-06-30")),
    ("posts from March 2021 and April 2021", ("2021-03-01", "2021-05-31")),
    ("listen on port 9999-12", None),
    ("what was new last year?", None),
])
def test_date_window(query, expected):
    assert date_window(query) == expected


# -- evaluation ------------------------------------------------------------------------------------


def test_evaluate_retrieval_on_demo_questions(retriever):
    results = evaluate_retrieval(retriever, load_questions(DEMO_QUESTIONS))
    assert results["questions"] == len(ANSWERABLE) == 10
    assert results["left_out_unanswerable"] == 2
    for mode in ("hybrid", "bm25", "dense"):
        assert set(results[mode]) == {"hit@1", "hit@5", "recall@5", "mrr@10", "missed@5"}
        assert all(0.0 <= results[mode][m] <= 1.0 for m in ("hit@1", "hit@5", "recall@5", "mrr@10"))
    assert results["hybrid"]["hit@5"] == 1.0
    assert results["hybrid"]["missed@5"] == []


def test_evaluation_counts_misses(retriever):
    questions = [{"id": "wrong", "question": "Tekton pipelines on Kubernetes", "gold_permalinks": ["/no/such/post/"]}]
    results = evaluate_retrieval(retriever, questions, modes=("bm25",))
    assert results["bm25"]["hit@5"] == 0.0 and results["bm25"]["missed@5"] == ["wrong"]


# -- names and words of a question ----------------------------------------------------------------


def _post_ids(retriever) -> dict[str, int]:
    return {hit.post.permalink: hit.post.id for hit in retriever.search("blog", k=15, mode="dense")}


def test_rare_words_are_those_of_few_posts(retriever):
    # Helm and Tekton are in 2 of the 15 demo posts each, Kubernetes in 6, Kafka in none.
    assert retriever.rare_words(["Helm", "Tekton", "Kubernetes", "Kafka"], 0.2) == ["helm", "tekton"]
    assert retriever.rare_words(["Helm", "Tekton"], 0.05) == []



def test_rare_terms_are_any_words_few_posts_contain(retriever):
    assert retriever.rare_terms("When did he first write about pgvector?", 0.15) == ["pgvector"]
    assert retriever.rare_terms("When did he first write about pgvector?", 0.15, ignore=frozenset({"pgvector"})) == []
    assert retriever.rare_terms("When did he first write about quantization?", 0.15) == []   # in 3 posts
    assert retriever.rare_terms("When did he first write about sourdough?", 0.15) == []      # in none


def test_mentions_counts_whole_words_in_any_case_and_the_title_twice(retriever):
    ids = _post_ids(retriever)
    hybrid, lora = ids["/article/hybrid-search-rrf/"], ids["/article/lora-qlora-small-gpu/"]
    assert retriever.mentions("weaviate", hybrid) == retriever.mentions("Weaviate", hybrid) == 1
    assert retriever.mentions("weaviate", ids["/article/watson-assistant-dialogs/"]) == 0
    # "or LoRA, which sits in between": once in the body of the prompt-tuning post.
    assert retriever.mentions("lora", ids["/2023/05/22/prompt-tuning-vs-fine-tuning/"]) == 1
    # QLoRA: in the title ("... with LoRA and QLoRA", counted twice) and 4 times in the body; the
    # image file qlora-memory.png does not count, and neither does QLoRA as a mention of LoRA.
    assert retriever.mentions("qlora", lora) == 2 + 4
    assert retriever.mentions("lora", lora) == 2 + 6


def test_posts_about_a_subject_are_those_with_it_in_the_title_or_mentioning_it_often(retriever):
    earliest_words = frozenset({"first", "write", "about"})
    about = [retriever.posts[i].permalink
             for i in retriever.posts_about("When did he first write about Kubernetes?", ignore=earliest_words)]
    # Oldest first. The welcome post and two others mention Kubernetes once or twice in passing.
    assert about == ["/2020/04/15/quarkus-microprofile-rest-client/", "/article/tekton-pipelines/",
                     "/article/kubernetes-operator-go/"]
    # Every word counts, in singular or plural ("Writing a Kubernetes Operator in Go").
    about = retriever.posts_about("When did he first write about Kubernetes operators?", ignore=earliest_words)
    assert [retriever.posts[i].permalink for i in about] == ["/article/kubernetes-operator-go/"]
    assert retriever.posts_about("When did he first write about sourdough?", ignore=earliest_words) == []
    assert retriever.posts_about("When did he first write about?", ignore=earliest_words) == []
    # Newest first, those with the subject in the title before the others.
    titled = [retriever.posts[i].permalink for i in retriever.posts_titled_about("Kubernetes", ignore=earliest_words)]
    assert titled == ["/article/kubernetes-operator-go/", "/article/tekton-pipelines/",
                      "/2020/04/15/quarkus-microprofile-rest-client/"]
