"""The bound on oneDNN's kernel caches (knowledge/kernel_caches.py): set before the first matrix
product, left to the user when they set it, and without effect on the numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from knowledge.kernel_caches import bound_kernel_caches

pytestmark = pytest.mark.slow     # many model runs in subprocesses

CAPACITIES = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY")

# Embeds texts of many lengths (each a new input shape) twice, in a fresh process: the caches'
# capacities are read once per process, so each setting needs its own.
EMBED = """
import json, os, sys
from knowledge.corpus.embedder import get_embedder
from knowledge.settings import EmbedderSettings

entries = int(sys.argv[1])
embedder = get_embedder(EmbedderSettings(kernel_cache_entries=entries))
words = "the reconcile loop of a Kubernetes operator written in Go with the Operator SDK".split()
texts = [" ".join(words[: 1 + i % len(words)] * (1 + i // len(words))) for i in range(40)]
first = [embedder.encode([t]).tolist() for t in texts] + [embedder.encode(texts[i:i + 7]).tolist() for i in range(0, 40, 7)]
again = [embedder.encode([t]).tolist() for t in texts] + [embedder.encode(texts[i:i + 7]).tolist() for i in range(0, 40, 7)]
print(json.dumps({"env": {k: os.environ.get(k) for k in CAPACITIES}, "first": first, "again": again}))
""".replace("CAPACITIES", repr(CAPACITIES))


def _embed(entries: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CAPACITIES} | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", EMBED, str(entries)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_bound_sets_both_caches_unless_the_user_did(monkeypatch):
    for name in CAPACITIES:
        monkeypatch.delenv(name, raising=False)
    bound_kernel_caches(0)
    assert not any(name in os.environ for name in CAPACITIES)
    bound_kernel_caches(32)
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "32" and os.environ["LRU_CACHE_CAPACITY"] == "32"
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY")
    monkeypatch.setenv("DNNL_PRIMITIVE_CACHE_CAPACITY", "500")   # the user's, under oneDNN's older name
    monkeypatch.setenv("LRU_CACHE_CAPACITY", "7")
    bound_kernel_caches(32)
    assert "ONEDNN_PRIMITIVE_CACHE_CAPACITY" not in os.environ
    assert os.environ["DNNL_PRIMITIVE_CACHE_CAPACITY"] == "500" and os.environ["LRU_CACHE_CAPACITY"] == "7"


def test_kernels_made_again_give_the_same_vectors():
    """With room for one kernel, every shape's kernel is made again each time: same vectors, bit for
    bit, as with the libraries' default caches."""
    bounded, unbounded = _embed(1), _embed(0)
    assert bounded["env"]["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "1" and bounded["env"]["LRU_CACHE_CAPACITY"] == "1"
    assert unbounded["env"]["LRU_CACHE_CAPACITY"] is None
    for a, b in [(bounded["first"], bounded["again"]), (bounded["first"], unbounded["first"])]:
        assert len(a) == len(b)
        assert all(np.array_equal(np.array(x), np.array(y)) for x, y in zip(a, b))
