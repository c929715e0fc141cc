"""The NLU on the demo blog (real MiniLM embedder): held-out intent accuracy, typical utterances,
gibberish, entities, the example-embedding cache, cross-validation, and `blogbot parse` / `eval nlu`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from bot.nlu.intents import load_intents
from bot.nlu.parser import load_nlu
from bot.nlu.evaluation import NO_INTENT, evaluate_nlu, load_utterances
from helpers import REPO, TODAY, assert_usage_error, run_blogbot
from knowledge.settings import load_settings

HELDOUT = REPO / "tests" / "nlu" / "heldout.jsonl"
TRAINING_TEXTS = {str(example).strip().lower()
                  for intent in yaml.safe_load((REPO / "config" / "intents.yml").read_text(encoding="utf-8"))["intents"].values()
                  for example in intent["examples"]}


@pytest.fixture(scope="module")
def nlu(demo_index, retriever):
    return load_nlu(demo_index, load_settings(), retriever.current_posts().values())


# -- intents ---------------------------------------------------------------------------------------

def test_heldout_utterances_are_not_training_examples():
    overlap = [u["text"] for u in load_utterances(HELDOUT) if u["text"].strip().lower() in TRAINING_TEXTS]
    assert not overlap, f"held-out utterances that are also in config/intents.yml: {overlap}"


def test_heldout_accuracy(nlu):
    results = evaluate_nlu(nlu, load_utterances(HELDOUT))
    summary = {k: results[k] for k in ("accuracy", "accuracy_top1", "below_threshold")}
    assert results["utterances"] == len(load_utterances(HELDOUT))
    assert results["accuracy"] >= 0.85, (summary, results["confusions"][:10])
    out_of_scope = results["per_intent"]["out_of_scope"]
    assert out_of_scope["precision"] >= 0.75, (out_of_scope, results["confusions"][:10])
    assert out_of_scope["recall"] >= 0.75, (out_of_scope, results["confusions"][:10])


TYPICAL = {
    "greeting": "hello there friend",
    "goodbye": "ok, I'm off now, see you",
    "thanks": "cheers, mate",
    "help": "how do I use you",
    "about_author": "who is the person behind the blog",
    "find_posts": "are there any articles about kubernetes?",
    "latest_posts": "what's the most recent thing you posted?",
    "posts_by_date": "which posts did you publish in 2022?",
    "summarize_post": "can you summarize the second one?",
    "list_topics": "which topics does this blog cover?",
    "feedback_positive": "awesome, very helpful",
    "feedback_negative": "that answer was useless",
    "out_of_scope": "can you book me a flight to Paris?",
    "ask_question": "what is QLoRA and why does it save memory?",
}


def test_typical_utterances_cover_every_intent(nlu):
    assert set(TYPICAL) == set(nlu.intents)


@pytest.mark.parametrize("intent, text", TYPICAL.items(), ids=list(TYPICAL))
def test_typical_utterance(nlu, intent, text):
    assert text.lower() not in TRAINING_TEXTS, "pick an utterance that is not a training example"
    parse = nlu.parse(text, TODAY)
    assert parse.intent == intent, (text, parse.intent_ranking[:3])
    assert parse.confidence == parse.intent_ranking[0][1]
    assert abs(sum(c for _, c in parse.intent_ranking) - 1) < 1e-3


@pytest.mark.parametrize("text", ["qwxz plorb", "blarg fnord"])
def test_gibberish_is_not_taken_for_a_blog_intent(nlu, text):
    parse = nlu.parse(text, TODAY)
    assert parse.intent in (None, "out_of_scope"), (text, parse.intent, parse.confidence)
    if parse.intent is None:
        assert parse.confidence < nlu.settings.intent_threshold


def test_empty_text_has_no_intent(nlu):
    parse = nlu.parse("   ", TODAY)
    assert parse.intent is None and parse.entities == []


# -- entities ----------------------------------------------------------------------------------

def test_parse_brings_entities(nlu):
    text = "any posts about k8s from last year?"
    parse = nlu.parse(text, TODAY)
    assert parse.intent in ("find_posts", "posts_by_date")
    assert parse.entity("topic").value == "kubernetes"
    assert text[parse.entity("topic").start:parse.entity("topic").end] == "k8s"
    assert parse.entity("sys-date").value == "2025-01-01/2025-12-31"
    data = parse.as_json()
    assert [(e["entity"], e["value"]) for e in data["entities"]] == [
        ("subject", "k8s"), ("topic", "kubernetes"), ("sys-date", "2025-01-01/2025-12-31")]


def test_topics_come_from_the_demo_blog(nlu):
    # "Quarkus" and "pgvector" are words of the demo blog's posts, not of entities.yml
    assert nlu.parse("posts about Quarkus", TODAY).entity("topic").value == "quarkus"
    assert nlu.parse("anything on pgvector?", TODAY).entity("topic").value == "pgvector"
    assert nlu.parse("posts about sourdough", TODAY).entity("topic") is None


# -- the example-embedding cache and cross-validation ---------------------------------------------

def test_example_embeddings_are_cached_and_reused(nlu, demo_index, retriever):
    caches = list((demo_index / "nlu").glob("intent-examples-*.npy"))
    assert len(caches) == 1, caches
    before = caches[0].stat()
    cached = np.load(caches[0])
    assert cached.shape[0] == len(nlu.classifier.texts)
    again = load_nlu(demo_index, load_settings(), retriever.current_posts().values())
    after = caches[0].stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "the cache was written again"
    assert np.array_equal(again.classifier.vectors, cached)
    assert np.array_equal(again.classifier.vectors, nlu.classifier.vectors)
    assert again.parse("hello there friend").intent == "greeting"


def test_cross_validation_predicts_every_example(nlu):
    results = nlu.classifier.cross_validate(folds=3)
    examples = [(e, name) for name, intent in nlu.intents.items() for e in intent.examples]
    assert [(text, gold) for text, gold, _, _ in results] == examples
    assert all(predicted in nlu.intents and 0 < confidence <= 1 for _, _, predicted, confidence in results)
    right = sum(gold == predicted for _, gold, predicted, _ in results)
    assert right / len(results) >= 0.75


# -- the command line ----------------------------------------------------------------------------


ENTITY_KEYS = {"entity", "value", "start", "end"}


def check_contract(data: dict, text: str) -> None:
    assert set(data) == {"text", "intent", "confidence", "intent_ranking", "entities"}, data
    assert data["text"] == text
    assert data["intent_ranking"] and all(set(r) == {"name", "confidence"} for r in data["intent_ranking"])
    assert data["intent_ranking"][0]["name"] == data["intent"]
    assert data["intent_ranking"][0]["confidence"] == data["confidence"]
    for entity in data["entities"]:
        assert ENTITY_KEYS <= set(entity), entity
        assert text[entity["start"]:entity["end"]], entity


@pytest.mark.slow
def test_cli_parse_json(demo_index):
    text = "posts about kubernetes from 2021"
    result = run_blogbot("parse", text, "--json", "--data-dir", str(demo_index))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    check_contract(data, text)
    assert data["intent"] in ("find_posts", "posts_by_date")
    topic = next(e for e in data["entities"] if e["entity"] == "topic")
    assert set(topic) == ENTITY_KEYS
    assert (topic["value"], topic["start"], topic["end"]) == ("kubernetes", 12, 22)
    date = next(e for e in data["entities"] if e["entity"] == "sys-date")
    assert (date["value"], text[date["start"]:date["end"]]) == ("2021-01-01/2021-12-31", "2021")


@pytest.mark.slow
def test_cli_parse_jsonl_reads_stdin(demo_index):
    result = run_blogbot("parse", "--jsonl", "--data-dir", str(demo_index),
                     stdin="hello there friend\n\nwhich posts did you publish in 2022?\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    first, second = (json.loads(line) for line in lines)
    check_contract(first, "hello there friend")
    check_contract(second, "which posts did you publish in 2022?")
    assert (first["intent"], second["intent"]) == ("greeting", "posts_by_date")
    assert [e["entity"] for e in second["entities"]] == ["sys-date"]


@pytest.mark.parametrize("args", [(), ("   ",)], ids=["no text", "blank text"])
def test_cli_parse_without_text_is_a_usage_error(demo_index, args):
    assert_usage_error(run_blogbot("parse", *args, "--data-dir", str(demo_index)), "TEXT")


def test_cli_parse_text_and_jsonl_is_a_usage_error(demo_index):
    assert_usage_error(run_blogbot("parse", "hello", "--jsonl", "--data-dir", str(demo_index), stdin="hi\n"), "--jsonl")


@pytest.mark.slow
def test_cli_eval_nlu_json(demo_index):
    result = run_blogbot("eval", "nlu", "--utterances", str(HELDOUT), "--json", "--folds", "2",
                     "--data-dir", str(demo_index))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    held_out = data["held_out"]
    assert held_out["utterances"] == len(load_utterances(HELDOUT))
    assert held_out["accuracy"] >= 0.85
    assert {"accuracy_top1", "below_threshold", "per_intent", "confusions", "errors"} <= set(held_out)
    cv = data["cross_validation"]
    assert cv["folds"] == 2
    assert cv["utterances"] == sum(len(intent.examples) for intent in load_intents().values())
    assert set(cv["per_intent"]) == set(load_intents()) and NO_INTENT not in cv["per_intent"]
    assert cv["accuracy"] >= 0.75


@pytest.mark.parametrize("content, where", [
    ('{"text": "hi", "intent": "greeting"}\nnot json\n', ":2: not JSON"),
    ('{"text": "hi", "intent": "greeting"}\n\n{"text": "bye"}\n', ":3:"),
    ("", "no utterances"),
], ids=["not json", "no intent", "empty"])
def test_cli_eval_nlu_bad_utterances_file(demo_index, tmp_path, content, where):
    path = tmp_path / "utterances.jsonl"
    path.write_text(content, encoding="utf-8")
    assert_usage_error(run_blogbot("eval", "nlu", "--utterances", str(path), "--data-dir", str(demo_index)),
                       str(path), where)


def test_cli_eval_nlu_missing_utterances_file(demo_index, tmp_path):
    missing = tmp_path / "missing.jsonl"
    assert_usage_error(run_blogbot("eval", "nlu", "--utterances", str(missing), "--data-dir", str(demo_index)),
                       str(missing))


def test_confidence_is_scaled_by_closeness_to_the_examples():
    """The examples' own nearest-other similarities set the scale: an input as close as the examples
    keeps its confidence, one farther from every example than any example is from its nearest loses it."""
    from bot.nlu.intents import IntentClassifier, Intent, nearest_other_similarities

    axes = np.eye(4, dtype=np.float32)
    words = {"alpha one": axes[0], "alpha two": (axes[0] + 0.3 * axes[1]), "alpha three": (axes[0] + 0.2 * axes[2]),
             "beta one": axes[1], "beta two": (axes[1] + 0.3 * axes[0]), "beta three": (axes[1] + 0.2 * axes[2]),
             "close to alpha": axes[0] + 0.1 * axes[1], "elsewhere": axes[3] + 0.1 * axes[0]}
    unit = {text: vector / np.linalg.norm(vector) for text, vector in words.items()}
    encode = lambda texts: np.array([unit[t] for t in texts])   # noqa: E731
    intents = {"alpha": Intent("alpha", "alpha", ["alpha one", "alpha two", "alpha three"]),
               "beta": Intent("beta", "beta", ["beta one", "beta two", "beta three"])}
    texts = ["alpha one", "alpha two", "beta one"]
    closeness = nearest_other_similarities(encode(texts), texts, block=2)
    pair, beta = unit["alpha two"] @ unit["alpha one"], unit["beta one"] @ unit["alpha two"]
    assert list(closeness) == pytest.approx([beta, pair, pair])
    twins = ["alpha one", "Alpha one?", "alpha two"]      # the same text in other case: not a neighbour
    assert list(nearest_other_similarities(np.array([unit[t] for t in ["alpha one", "alpha one", "alpha two"]]),
                                           twins)) == pytest.approx([pair, pair, pair])
    scaled = IntentClassifier(intents, encode, out_of_domain_share=0.02)
    plain = IntentClassifier(intents, encode, out_of_domain_share=0.0)
    assert scaled.rank("close to alpha") == plain.rank("close to alpha")
    assert plain.rank("elsewhere")[0][1] >= 0.5
    assert [c for _, c in scaled.rank("elsewhere")] == [0.0, 0.0]
