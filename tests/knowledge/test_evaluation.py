"""Scoring question sets: gold posts named by permalink, public URL or file, and the table over
several sets and indexes (`blogbot eval sets`)."""

from __future__ import annotations

import json
import subprocess
from types import SimpleNamespace

import pytest

from helpers import BLOGBOT, DEMO_QUESTIONS
from knowledge.evaluation import has_gold, resolve_gold


def post(source: str, permalink: str, url: str) -> SimpleNamespace:
    return SimpleNamespace(source=source, permalink=permalink, url=url)


POSTS = [post("content/check-cfg/index.md", "/2024/05/06/check-cfg/", "https://blog.rust-lang.org/2024/05/06/check-cfg/"),
         post("content/other/index.md", "/2024/01/01/other/", "https://blog.rust-lang.org/2024/01/01/other/"),
         post("_posts/2023-03-03-prompt-tuning.md", "/article/prompt-tuning/", "https://heidloff.net/article/prompt-tuning/")]


def test_gold_posts_are_found_by_permalink_url_or_file_path():
    assert resolve_gold({"gold_permalinks": ["/article/prompt-tuning"]}, POSTS) == ({"/article/prompt-tuning/"}, [])
    assert resolve_gold({"gold_urls": ["http://blog.rust-lang.org/2024/05/06/check-cfg"]}, POSTS) == \
        ({"/2024/05/06/check-cfg/"}, [])
    # A page bundle's path names its folder, not every index.md; a bare file name is enough for a post file.
    assert resolve_gold({"gold_posts": ["content/check-cfg/index.md"]}, POSTS) == ({"/2024/05/06/check-cfg/"}, [])
    assert resolve_gold({"gold_posts": ["2023-03-03-prompt-tuning.md"]}, POSTS) == ({"/article/prompt-tuning/"}, [])


def test_gold_posts_missing_from_the_index_are_reported():
    found, missing = resolve_gold({"gold_urls": ["https://blog.rust-lang.org/2024/05/06/check-cfg/",
                                                 "https://blog.rust-lang.org/1999/01/01/gone/"]}, POSTS)
    assert found == {"/2024/05/06/check-cfg/"} and missing == ["https://blog.rust-lang.org/1999/01/01/gone/"]
    assert not has_gold({"question": "not covered", "gold_posts": [], "gold_urls": []})


@pytest.mark.slow
def test_eval_sets_prints_one_table_over_several_sets(demo_index, tmp_path):
    uncovered = tmp_path / "uncovered.jsonl"
    uncovered.write_text(json.dumps({"question": "How do I bake sourdough bread?", "gold_posts": []}) + "\n")
    done = subprocess.run([str(BLOGBOT), "eval", "sets", f"{DEMO_QUESTIONS}@{demo_index}", str(uncovered),
                           "--data-dir", str(demo_index), "--retrieval-only", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["set"] for r in rows] == ["questions", "uncovered"]
    assert rows[0]["hit@5"] >= 0.9 and rows[0]["gold_not_in_index"] == []
    assert rows[1]["questions"] == 1 and rows[1]["answerable"] == 0
    table = subprocess.run([str(BLOGBOT), "eval", "sets", f"{DEMO_QUESTIONS}@{demo_index}", "--retrieval-only"],
                           capture_output=True, text=True, timeout=300)
    assert table.returncode == 0 and table.stdout.startswith("| set | questions | hit@5 | mrr@10 |")
