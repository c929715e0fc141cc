"""The `blogbot` console script, run as a user runs it: output formats and exit codes."""

from __future__ import annotations

import json

import pytest

from helpers import BLOGBOT, DEMO_QUESTIONS, assert_usage_error, run_blogbot
from knowledge.corpus.ingest import data_dir_lock

pytestmark = pytest.mark.slow     # runs `blogbot` as a process

HIT_FIELDS = {"permalink", "url", "title", "date", "score", "snippet"}



def test_console_script_is_installed():
    assert BLOGBOT.is_file(), f"{BLOGBOT} is missing: install the project into the virtualenv (pip install -e .)"


def test_search_json(demo_index):
    result = run_blogbot("search", "fine-tune a 7B model with LoRA on a 12 GB GPU", "--json", "--k", "3",
                     "--data-dir", str(demo_index))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "fine-tune a 7B model with LoRA on a 12 GB GPU"
    assert len(data["hits"]) == 3
    for hit in data["hits"]:
        assert set(hit) == HIT_FIELDS
        assert hit["snippet"] and hit["url"].endswith(hit["permalink"])
    assert data["hits"][0]["permalink"] == "/article/lora-qlora-small-gpu/"
    assert data["hits"][0]["url"] == "https://blog.example.com/article/lora-qlora-small-gpu/"
    assert data["hits"][0]["date"] == "2024-05-01"


def test_search_jsonl_reads_queries_from_stdin(demo_index):
    queries = ["tekton pipeline logs", "reciprocal rank fusion constant", "soft prompt tuning"]
    result = run_blogbot("search", "--jsonl", "--k", "2", "--data-dir", str(demo_index),
                     stdin="\n".join(queries[:2]) + "\n\n" + queries[2] + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    answers = [json.loads(line) for line in lines]
    assert [a["query"] for a in answers] == queries
    assert all(len(a["hits"]) == 2 and set(a["hits"][0]) == HIT_FIELDS for a in answers)
    assert answers[0]["hits"][0]["permalink"] == "/article/tekton-pipelines/"
    assert answers[1]["hits"][0]["permalink"] == "/article/hybrid-search-rrf/"
    assert answers[2]["hits"][0]["permalink"] == "/2023/05/22/prompt-tuning-vs-fine-tuning/"


def test_search_text_output_with_filters(demo_index):
    result = run_blogbot("search", "kubernetes", "--tag", "kubernetes", "--since", "2021", "--data-dir", str(demo_index))
    assert result.returncode == 0, result.stderr
    assert "Writing a Kubernetes Operator in Go (2021-07-14)" in result.stdout
    assert "https://blog.example.com/article/kubernetes-operator-go/" in result.stdout
    assert "Tekton" not in result.stdout


def test_eval_retrieval_json(demo_index):
    result = run_blogbot("eval", "retrieval", "--questions", "demo/questions.jsonl", "--json", "--data-dir", str(demo_index))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"hybrid", "bm25", "dense"} <= set(data)
    assert data["questions"] == 10
    assert data["hybrid"]["hit@5"] == 1.0


def test_ingest_prints_summary(make_blog, tmp_path):
    blog = make_blog({"2020-01-01-tiny.md": "---\ntitle: Tiny\n---\n\nA tiny post about teapots.\n",
                      "2020-01-02-empty.md": ""})
    result = run_blogbot("ingest", str(blog), "--data-dir", str(tmp_path / "data"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("indexed 1, unchanged 0, removed 0, skipped 1 (")
    assert result.stderr.strip().splitlines() == ["warning: _posts/2020-01-02-empty.md: skipped: empty file"]


# -- usage errors: exit code 2 and one line on stderr -----------------------------------------------


def test_ingest_missing_folder(tmp_path):
    assert_usage_error(run_blogbot("ingest", str(tmp_path / "no-blog-here"), "--data-dir", str(tmp_path / "data")),
                       "no such folder", "no-blog-here")


def test_ingest_empty_folder(tmp_path):
    (tmp_path / "blog").mkdir()
    assert_usage_error(run_blogbot("ingest", str(tmp_path / "blog"), "--data-dir", str(tmp_path / "data")),
                       "no markdown posts")
    assert not (tmp_path / "data" / "index.sqlite3").exists()


def test_search_without_index(tmp_path):
    assert_usage_error(run_blogbot("search", "kubernetes", "--data-dir", str(tmp_path / "empty")),
                       "no index", "blogbot ingest")


def test_search_without_query(demo_index):
    assert_usage_error(run_blogbot("search", "--data-dir", str(demo_index)), "QUERY")


def test_search_query_and_jsonl_together(demo_index):
    assert_usage_error(run_blogbot("search", "kubernetes", "--jsonl", "--data-dir", str(demo_index)), "--jsonl")


@pytest.mark.parametrize("k", ["0", "-3"])
def test_search_k_below_one(demo_index, k):
    assert_usage_error(run_blogbot("search", "kubernetes", f"--k={k}", "--data-dir", str(demo_index)), "--k")


def test_search_bad_date(demo_index):
    assert_usage_error(run_blogbot("search", "kubernetes", "--since", "yesterday", "--data-dir", str(demo_index)),
                       "YYYY")


def test_eval_question_file_with_bad_line(demo_index, tmp_path):
    questions = tmp_path / "questions.jsonl"
    lines = DEMO_QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions.write_text("\n".join([lines[0], '{"question": "unfinished', *lines[1:3]]) + "\n", encoding="utf-8")
    line = assert_usage_error(run_blogbot("eval", "retrieval", "--questions", str(questions), "--data-dir", str(demo_index)))
    assert f"{questions}:2:" in line and "JSON" in line


def test_eval_missing_question_file(demo_index, tmp_path):
    assert_usage_error(run_blogbot("eval", "retrieval", "--questions", str(tmp_path / "nope.jsonl"),
                               "--data-dir", str(demo_index)), "nope.jsonl")


def test_ingest_while_another_runs_fails(make_blog, tmp_path):
    blog = make_blog({"2020-01-01-tiny.md": "---\ntitle: Tiny\n---\n\nA tiny post.\n"})
    data = tmp_path / "data"
    with data_dir_lock(data):
        result = run_blogbot("ingest", str(blog), "--data-dir", str(data))
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"error: another ingest or adapt is running on {data}"
