"""The embedder: MiniLM on plain transformers gives sentence-transformers' vectors."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.corpus.embedder import EmbedderError, get_embedder, model_path
from knowledge.settings import EmbedderSettings

TEXTS = ["How do I fine-tune an LLM on a small GPU?", "Tekton runs each task in a pod. " * 40, "ok",
         "pgvector adds a vector column type to PostgreSQL."]


def test_plain_transformers_path_matches_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(model_path("packaged")), device="cpu").encode(TEXTS, normalize_embeddings=True)
    ours = get_embedder(EmbedderSettings(dtype="float32")).encode(TEXTS)
    assert ours.shape == (4, 384)
    assert np.allclose(np.sum(reference * ours, axis=1), 1.0, atol=1e-4)


def test_vectors_are_unit_length_and_rank_related_texts_higher():
    embedder = get_embedder(EmbedderSettings())
    vectors = embedder.encode(["fine-tuning language models with LoRA", "LoRA adapters for LLM fine-tuning",
                               "baking sourdough bread at home"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EmbedderError, match="no sentence-transformers model"):
        model_path(str(tmp_path))


def test_post_sentences_embedded_once_give_the_same_vectors(settings):
    import numpy as np

    from knowledge.corpus.embedder import CachedEncoder, get_embedder

    embedder = get_embedder(settings.embedder)
    cached = CachedEncoder(embedder, max_entries=3)
    texts = ["Tekton runs pipelines on Kubernetes.", "RRF uses k = 60.", "LoRA trains adapters."]
    first = cached(texts)
    again = cached([texts[1], texts[0]])
    assert cached.hits == 2 and cached.misses == 3
    assert np.allclose(again, first[[1, 0]]) and np.allclose(first, embedder.encode(texts), atol=1e-5)
    again[0] = 0.0                            # a caller's array is its own
    assert np.allclose(cached([texts[1]])[0], first[1])
    cached(["A fourth sentence."])           # the least recently used (texts[2]) goes
    cached([texts[2]])
    assert cached.misses == 5 and len(cached._vectors) == 3
