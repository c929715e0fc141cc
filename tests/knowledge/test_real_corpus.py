"""The real blog in ../shared/corpus (about 880 posts): full ingest, re-ingest, one search. Slow (minutes)."""

from __future__ import annotations

import pytest

from knowledge.corpus.ingest import ingest
from knowledge.search.retrieval import Retriever
from knowledge.settings import load_settings

from helpers import CORPUS

pytestmark = pytest.mark.slow


def test_real_corpus_is_indexed(real_index):
    _, report = real_index
    assert report.indexed >= 850, report.summary()
    assert report.skipped <= 5, report.warnings
    assert report.indexed + report.skipped == len(list(CORPUS.glob("*.md")))


def test_real_corpus_reingest_is_all_unchanged(real_index):
    data_dir, first = real_index
    again = ingest(CORPUS, data_dir, load_settings())
    assert (again.indexed, again.removed, again.passages_embedded) == (0, 0, 0), again.summary()
    assert again.unchanged == first.indexed


def test_real_corpus_search_finds_lora_post(real_index):
    data_dir, _ = real_index
    retriever = Retriever(data_dir, load_settings())
    try:
        hits = retriever.search("fine-tuning LLM with LoRA on a small GPU", k=5)
    finally:
        retriever.close()
    permalinks = [hit.post.permalink for hit in hits]
    assert any("lora" in p for p in permalinks), permalinks
    assert len(set(permalinks)) == 5
