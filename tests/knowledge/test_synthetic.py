"""`blogbot eval synth`: question sets made from the indexed blog (real index, real embedder)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers import BLOGBOT, assert_usage_error

from knowledge.corpus.embedder import get_embedder
from knowledge.settings import load_settings
from knowledge.synthetic import (_TYPED_NAME, _clean_heading, _post_names, _swap_choices, in_half, load_synth_config,
                                  synthesize)


@pytest.fixture(scope="module")
def encode():
    return get_embedder(load_settings().embedder).encode


def test_questions_ask_about_a_section_and_name_their_post(retriever, encode):
    questions = synthesize(retriever, encode, count=20, seed=0)
    posts = {p.permalink: p for p in retriever.current_posts().values()}
    answerable = [q for q in questions if q["gold_permalinks"]]
    assert len(questions) == 20 and 10 <= len(answerable) < 20
    assert len({q["question"].lower() for q in questions}) == len(questions)   # no section asked twice
    for question in answerable:
        assert question["type"] == "section" and question["gold_permalinks"][0] in posts
        # Its keywords are words the post has and the question does not say.
        assert question["answer_keywords"] and not any(k in question["question"].lower()
                                                       for k in question["answer_keywords"])
    # Most name their post well enough for search to find it.
    found = sum(any(h.post.permalink in q["gold_permalinks"] for h in retriever.search(q["question"], k=5))
                for q in answerable)
    assert found >= 0.7 * len(answerable), (found, len(answerable))


def test_not_covered_questions_swap_in_a_name_the_blog_lacks_or_mentions_in_passing(retriever, encode):
    config = load_synth_config()
    questions = synthesize(retriever, encode, count=20, seed=0)
    swapped = [q for q in questions if not q["gold_permalinks"]]
    assert len(swapped) == round(config.not_covered_share * 20)
    assert {q["type"] for q in swapped} == {"absent_name", "name_in_passing"}
    for question in swapped:
        assert question["missing"].lower() in question["question"].lower()
        if question["type"] == "absent_name":
            assert not retriever.contains(question["missing"]) and question["missing"] in config.names
        else:
            assert 1 <= retriever.posts_containing(question["missing"]) <= config.passing_posts
        # The post the question was made from does not answer it: it never mentions the name.
        source = next(p for p in retriever.current_posts().values() if p.permalink == question["made_from"])
        assert retriever.mentions(question["missing"], source.id) == 0


@pytest.mark.parametrize("heading, cleaned", [
    ("2. Label the target Pod", "Label the target Pod"), ("Q: Any closing thoughts?", "Any closing thoughts?"),
    ("Observation 08: SIG Docs is understaffed {#observation-8}", "Observation 08: SIG Docs is understaffed"),
    ("1.5 Release notes", "1.5 Release notes"), ("Installing:", "Installing"),
])
def test_headings_lose_what_no_reader_types(heading, cleaned):
    assert _clean_heading(heading) == cleaned


def test_names_are_read_as_the_post_writes_them():
    names = _post_names("However, Tekton runs each step in a pod. We use Tekton and MetalLB here. However, the "
                        "Model is small; a model is fine. SetupWithManager registers it. Thanks to Bragi for this.")
    assert {"Tekton", "MetalLB", "SetupWithManager", "Bragi"} <= names
    assert not names & {"However", "Model", "Thanks", "We"}       # sentence starts, or also written in lower case
    assert _TYPED_NAME.fullmatch("Bragi") and not _TYPED_NAME.fullmatch("SetupWithManager")


def test_the_swapped_name_is_of_the_kind_it_replaces(encode):
    names = ["Cassandra", "Raspberry Pi", "Emacs", "Haskell", "Jenkins", "XGBoost", "MariaDB", "Arduino", "Kotlin",
             "CircleCI", "LightGBM", "Vim"]
    questions = [("How do I store vectors in PostgreSQL?", "PostgreSQL"), ("How do I train a classifier with "
                 "scikit-learn?", "scikit-learn"), ("How do I query logs in Elasticsearch?", "Elasticsearch"),
                 ("Which editor plugin for VS Code?", "VS Code"), ("How do I write a macro in Rust?", "Rust")]
    choices = _swap_choices(questions, names, encode)
    assert set(choices[0][:2]) <= {"Cassandra", "MariaDB"}
    assert set(choices[1][:2]) == {"XGBoost", "LightGBM"}


def test_the_same_seed_gives_the_same_set_and_halves_share_no_post(retriever, encode):
    assert synthesize(retriever, encode, 12, seed=3) == synthesize(retriever, encode, 12, seed=3)
    assert synthesize(retriever, encode, 12, seed=3) != synthesize(retriever, encode, 12, seed=4)
    posts = {p.id: p for p in retriever.current_posts().values()}
    halves = [synthesize(retriever, encode, 40, seed=0, half=half) for half in (1, 2)]
    gold = [{g for q in questions for g in q["gold_permalinks"]} for questions in halves]
    assert gold[0] and gold[1] and not gold[0] & gold[1]
    assert 0 < sum(in_half(p.permalink, 1) for p in posts.values()) < len(posts)


def test_a_share_is_written_in_lower_case(retriever, encode):
    questions = synthesize(retriever, encode, count=20, seed=0)
    lower = [q for q in questions if q["lowercase"]]
    assert len(lower) == round(load_synth_config().lowercase_share * 20)
    assert all(q["question"] == q["question"].lower() for q in lower)


@pytest.mark.slow
def test_eval_synth_writes_a_set_that_eval_sets_scores(demo_index, tmp_path):
    out = tmp_path / "synth.jsonl"
    done = subprocess.run([str(BLOGBOT), "eval", "synth", "--data-dir", str(demo_index), "--out", str(out),
                           "--count", "12"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "wrote 12 questions" in done.stderr and "not covered" in done.stderr
    assert len(out.read_text().splitlines()) == 12 and not list(tmp_path.glob("*.partial"))
    scored = subprocess.run([str(BLOGBOT), "eval", "sets", f"{out}@{demo_index}", "--retrieval-only", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert scored.returncode == 0, scored.stderr
    row = json.loads(scored.stdout)
    assert row["set"] == "synth" and row["questions"] == 12 and row["gold_not_in_index"] == []


@pytest.mark.slow
def test_bad_input_is_refused_with_one_line(demo_index, tmp_path):
    out = tmp_path / "synth.jsonl"
    assert_usage_error(subprocess.run([str(BLOGBOT), "eval", "synth", "--data-dir", str(demo_index), "--out",
                                       str(out), "--count", "0"], capture_output=True, text=True, timeout=300),
                       "at least 1")
    config = tmp_path / "config"
    config.mkdir()
    (config / "synthetic.yml").write_text("templates: ['How about it?']\nnames: {tools: [Jenkins]}\n"
                                          "not_covered_share: 0.3\nlowercase_share: 0.2\n")
    env = {**os.environ, "BLOGBOT_CONFIG_DIR": str(config)}
    assert_usage_error(subprocess.run([str(BLOGBOT), "eval", "synth", "--data-dir", str(demo_index), "--out",
                                       str(out)], capture_output=True, text=True, timeout=300, env=env), "templates")
    (config / "synthetic.yml").write_text("templates: ['Why {topic} in {year}{context}?']\nnames: {tools: [Jenkins]}\n"
                                          "not_covered_share: 0.3\nlowercase_share: 0.2\npassing_share: 0.5\n"
                                          "passing_posts: 2\n")
    assert_usage_error(subprocess.run([str(BLOGBOT), "eval", "synth", "--data-dir", str(demo_index), "--out",
                                       str(out)], capture_output=True, text=True, timeout=300, env=env), "templates")
    (config / "synthetic.yml").write_text("templates: ['Why {topic}{context}?']\nnames: {}\nnot_covered_share: 0.3\n"
                                          "lowercase_share: 0.2\npassing_share: 0.5\npassing_posts: 2\n")
    assert_usage_error(subprocess.run([str(BLOGBOT), "eval", "synth", "--data-dir", str(demo_index), "--out",
                                       str(out)], capture_output=True, text=True, timeout=300, env=env), "names")
    assert_usage_error(subprocess.run([str(BLOGBOT), "eval", "synth", "--data-dir", str(tmp_path / "none"),
                                       "--out", str(out)], capture_output=True, text=True, timeout=300), "index")
    assert not out.exists()
