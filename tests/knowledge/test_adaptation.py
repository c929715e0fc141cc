"""`blogbot adapt`: the embedding model tuned to the blog, resumable, used by search and ingest,
with the answer checks still on the packaged model's scale. Real model, real index, real training."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading

import pytest
from helpers import BLOGBOT, DEMO_BLOG, DEMO_QUESTIONS, REPO, assert_usage_error, post_text, write_blog

from knowledge.adaptation import TrainingPair, adapt, batches, training_pairs, undo
from knowledge.corpus.embedder import get_embedder
from knowledge.corpus.ingest import ingest
from knowledge.search.retrieval import Retriever
from knowledge.settings import load_settings

pytestmark = pytest.mark.slow     # trains the embedding model

# Small and quick: the demo blog has 15 posts, so no batch can hold more than 15 pairs anyway.
FAST = "adapt:\n  batch_size: 8\n  max_seq_length: 64\n  checkpoint_steps: 1\n"


def fast_settings():
    settings = load_settings()
    settings.adapt.batch_size = 8
    settings.adapt.max_seq_length = 64
    settings.adapt.checkpoint_steps = 1
    return settings


def demo_questions() -> list[dict]:
    return [json.loads(line) for line in DEMO_QUESTIONS.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def adapted(tmp_path_factory, demo_index):
    """A copy of the demo index, adapted once for the module: (data dir, blog copy, report)."""
    root = tmp_path_factory.mktemp("adapted")
    data, blog = root / "data", root / "blog"
    shutil.copytree(demo_index, data)
    shutil.copytree(DEMO_BLOG, blog)
    lines: list[str] = []
    report = adapt(data, fast_settings(), progress=lines.append)
    return data, blog, report, lines


def ranking_model(data) -> str | None:
    with sqlite3.connect(data / "index.sqlite3") as conn:
        row = conn.execute("SELECT value FROM meta WHERE key='ranking_model'").fetchone()
    return row[0] if row else None


def test_pairs_leave_out_anchors_that_several_posts_share(tmp_path, settings):
    blog = write_blog(tmp_path / "blog", {
        f"2024-01-0{i}-post-{i}.md": post_text(f"Post number {i}", f"""
            Opening words of post {i}.

            ## Summary

            What post {i} said.

            ## Tuning knob {i}

            The knob of post {i}.
            """) for i in range(1, 4)})
    ingest(blog, tmp_path / "data", settings)
    from knowledge.corpus import index as store

    conn = store.connect(tmp_path / "data")
    try:
        anchors = sorted(p.anchor for p in training_pairs(conn))
    finally:
        conn.close()
    assert anchors == [f"Post number {i}" for i in range(1, 4)] + [f"Tuning knob {i}" for i in range(1, 4)]


def test_batches_are_repeatable_and_never_hold_two_pairs_of_a_post():
    pairs = [TrainingPair(post, f"anchor {post}-{n}", f"passage {post}-{n}") for post in range(10) for n in range(3)]
    plan = batches(pairs, size=4, epochs=2, seed=7)
    assert plan == batches(pairs, size=4, epochs=2, seed=7)
    assert plan != batches(pairs, size=4, epochs=2, seed=8)
    # At most one pair of a post in a batch; a pair left alone at the end of a pass joins a batch.
    assert all(len({p.post_id for p in batch}) == len(batch) <= 5 for batch in plan)
    seen = [p for batch in plan for p in batch]
    assert sorted(seen, key=lambda p: p.anchor) == sorted(pairs + pairs, key=lambda p: p.anchor)
    half = batches(pairs, size=4, epochs=0.5, seed=7)
    assert half == plan[:len(half)] and 0 < len(half) < len(plan)
    # Pairs of one post cannot share a batch: with no other post, nothing is trained on.
    assert batches([TrainingPair(1, f"a{n}", f"p{n}") for n in range(9)], size=4, epochs=1, seed=0) == []


def test_pairs_mostly_from_one_post_are_refused_cleanly(tmp_path, settings):
    sections = "\n\n".join(f"## Knob {n}\n\nWhat knob {n} of the machine does." for n in range(80))
    blog = write_blog(tmp_path / "blog", {"2024-01-01-one.md": post_text("One long post", sections),
                                          "2024-01-02-two.md": post_text("Another post", "Short text here.")})
    ingest(blog, tmp_path / "data", settings)
    from knowledge.adaptation import AdaptError

    with pytest.raises(AdaptError, match="2 title/heading and passage pairs from different posts"):
        adapt(tmp_path / "data", fast_settings())


def test_adapted_model_ranks_the_demo_questions(adapted, settings):
    data, _, report, lines = adapted
    assert report.trained and report.steps > 1 and report.pairs >= 64
    assert any("step 1/" in line for line in lines) and any("embedded" in line for line in lines)
    folder = data / report.model
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert ranking_model(data) == folder.name
    # The tuned model is a different model, loadable by the embedder as it is.
    tuned = get_embedder(settings.embedder.__class__(**{**settings.embedder.__dict__, "model": str(folder)}))
    packaged = get_embedder(settings.embedder)
    text = "How do I fine-tune a 7B model on a 12 GB card?"
    assert float(tuned.encode([text])[0] @ packaged.encode([text])[0]) < 0.9999

    retriever = Retriever(data, settings)
    try:
        for question in demo_questions():
            if not question.get("gold_permalinks"):
                continue
            hits = retriever.search(question["question"], k=5)
            assert set(question["gold_permalinks"]) & {h.post.permalink for h in hits}, question["question"]
            # The similarity the answer checks compare with thresholds is the packaged model's cosine.
            best = hits[0]
            vector = packaged.encode([question["question"]])[0]
            cosines = [float(v @ vector) for _, v in retriever.post_passages(best.post.id)]
            assert best.similarity == pytest.approx(max(cosines), abs=1e-4)
    finally:
        retriever.close()


def test_search_ranks_with_the_adapted_vectors(tmp_path, adapted, settings):
    data = tmp_path / "data"
    shutil.copytree(adapted[0], data)
    question = "Which operator orders pgvector results by cosine distance?"

    def dense_scores(data_dir, weight):
        settings.retrieval.adapted_weight = weight
        retriever = Retriever(data_dir, settings)
        try:
            return [(h.post.permalink, round(h.score, 6)) for h in retriever.search(question, k=10, mode="dense")]
        finally:
            retriever.close()

    adapted_only, packaged_share = dense_scores(data, 1.0), dense_scores(data, 0.0)
    undo(data)
    packaged = dense_scores(data, 1.0)
    assert packaged_share == packaged            # weight 0: the packaged model's ranking exactly
    assert adapted_only != packaged              # weight 1: the adapted model's own


def test_adapting_again_reuses_the_trained_model(adapted):
    data, _, first, _ = adapted
    again = adapt(data, fast_settings())
    assert not again.trained and again.model == first.model
    assert "already trained" in again.summary()


def test_ingest_embeds_new_posts_with_the_adapted_model(tmp_path, adapted, settings):
    data, blog = tmp_path / "data", tmp_path / "blog"
    shutil.copytree(adapted[0], data)
    shutil.copytree(adapted[1], blog)
    write_blog(blog, {"2025-02-01-zeppelin-mooring.md": post_text("Mooring a zeppelin in crosswinds", """
        A zeppelin mast takes the nose cone; the ground crew walks the tail into the wind.
        """, date="2025-02-01")}, config=None)
    report = ingest(blog, data, settings)
    assert report.indexed == 1 and report.passages_embedded == 1
    with sqlite3.connect(data / "index.sqlite3") as conn:
        chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        ranked = conn.execute("SELECT COUNT(*) FROM ranking_vectors").fetchone()[0]
    assert chunks == ranked
    retriever = Retriever(data, settings)
    try:
        assert retriever.search("how do ground crews moor an airship?", k=1)[0].post.title == "Mooring a zeppelin in crosswinds"
    finally:
        retriever.close()


def test_a_lost_adapted_model_falls_back_to_the_packaged_one(tmp_path, adapted, settings):
    data = tmp_path / "data"
    shutil.copytree(adapted[0], data)
    shutil.rmtree(data / adapted[2].model)
    retriever = Retriever(data, settings)   # still searches, with the packaged vectors
    try:
        assert retriever.search("reciprocal rank fusion constant", k=1)
    finally:
        retriever.close()
    warnings: list[str] = []
    ingest(adapted[1], data, settings, warn=warnings.append)
    assert any("adapted model" in w and "missing" in w for w in warnings), warnings
    assert ranking_model(data) is None


def test_undo_ranks_with_the_packaged_model_again(tmp_path, adapted, settings):
    data = tmp_path / "data"
    shutil.copytree(adapted[0], data)
    assert undo(data)
    assert ranking_model(data) is None and not (data / adapted[2].model).exists()
    assert not undo(data)
    retriever = Retriever(data, settings)
    try:
        assert retriever.search("reciprocal rank fusion constant", k=1)[0].post.permalink == "/article/hybrid-search-rrf/"
    finally:
        retriever.close()


def test_killed_adapt_resumes_from_its_checkpoint(tmp_path, demo_index):
    data = tmp_path / "data"
    shutil.copytree(demo_index, data)
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yml").write_text(FAST)
    env = dict(os.environ, BLOGBOT_CONFIG_DIR=str(config), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([str(BLOGBOT), "adapt", "--data-dir", str(data)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fallback = threading.Timer(300, lambda: proc.send_signal(signal.SIGKILL))
    fallback.start()
    lines: list[str] = []
    try:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if "step 2/" in line:
                proc.send_signal(signal.SIGKILL)
                break
        assert proc.wait(timeout=30) == -signal.SIGKILL, lines
    finally:
        fallback.cancel()
        proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert ranking_model(data) is None   # nothing half-done is used

    result = subprocess.run([str(BLOGBOT), "adapt", "--data-dir", str(data)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    resumed = re.search(r"resumed at step (\d+)", result.stdout)
    assert resumed and int(resumed.group(1)) >= 2, result.stdout   # a checkpoint every step
    assert ranking_model(data) is not None
    assert not [p for p in (data / "models").iterdir() if p.name.startswith("adapting-")]


def test_adapt_refuses_without_an_index_or_with_too_little_text(tmp_path, settings):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([str(BLOGBOT), "adapt", "--data-dir", str(tmp_path / "nothing")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert_usage_error(result, "no index", "blogbot ingest")
    blog = write_blog(tmp_path / "blog", {"2024-01-01-one.md": post_text("One post", "Too little to learn from.")})
    ingest(blog, tmp_path / "data", settings)
    result = subprocess.run([str(BLOGBOT), "adapt", "--data-dir", str(tmp_path / "data")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert_usage_error(result, "0 title/heading and passage pairs", "at least 64")
    result = subprocess.run([str(BLOGBOT), "adapt", "--undo", "--data-dir", str(tmp_path / "nothing")], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    assert_usage_error(result, "no index")
    assert not (tmp_path / "nothing").exists()   # undo creates no empty index


def test_settings_that_cannot_train_are_refused():
    from knowledge.settings import SettingsError, apply_overrides

    with pytest.raises(SettingsError, match="adapt.batch_size must be at least 2"):
        apply_overrides(load_settings(), {"adapt": {"batch_size": 1}})
    with pytest.raises(SettingsError, match="retrieval.adapted_weight must be between 0 and 1"):
        apply_overrides(load_settings(), {"retrieval": {"adapted_weight": 1.5}})


def test_too_small_a_share_of_a_pass_is_refused_before_training(tmp_path, demo_index):
    from knowledge.adaptation import AdaptError

    data = tmp_path / "data"
    shutil.copytree(demo_index, data)
    settings = fast_settings()
    settings.adapt.epochs = 0.01
    with pytest.raises(AdaptError, match="adapt.epochs 0.01 leaves no batch"):
        adapt(data, settings)
    assert ranking_model(data) is None
