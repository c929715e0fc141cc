"""The intent classifier: logistic regression (scikit-learn) on sentence embeddings of the
example utterances in `config/intents.yml`.

The examples' embeddings are cached in `<data dir>/nlu/`, keyed by the examples and the
embedding model, so a restart trains in well under a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from knowledge.settings import SettingsError, config_dir, read_config_file

log = logging.getLogger(__name__)


@dataclass
class Intent:
    name: str
    label: str
    examples: list[str]


def load_intents(path: Path | None = None) -> dict[str, Intent]:
    """Read intents.yml; every intent needs a few examples."""
    path = path or config_dir() / "intents.yml"
    raw = read_config_file(path)
    intents = {}
    for name, spec in (raw.get("intents") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("examples"), list):
            raise SettingsError(f"{path}: intent {name} needs a list of examples")
        examples = [str(e).strip() for e in spec["examples"] if str(e).strip()]
        if len(examples) < 3:
            raise SettingsError(f"{path}: intent {name} needs at least 3 examples, has {len(examples)}")
        intents[name] = Intent(name, str(spec.get("label") or name.replace("_", " ")), examples)
    if len(intents) < 2:
        raise SettingsError(f"{path}: at least two intents are needed")
    return intents


class IntentClassifier:
    """Ranks the intents for a text. `encode` maps texts to unit vectors (the embedder)."""

    def __init__(self, intents: dict[str, Intent], encode, cache_dir: Path | None = None,
                 model_name: str = "", regularization: float = 8.0):
        self.intents = intents
        self.encode = encode
        self.regularization = regularization
        self.texts = [e for intent in intents.values() for e in intent.examples]
        self.labels = np.array([intent.name for intent in intents.values() for _ in intent.examples])
        self.vectors = self._example_vectors(cache_dir, model_name)
        self.model = self._fit(self.vectors, self.labels)

    def _example_vectors(self, cache_dir: Path | None, model_name: str) -> np.ndarray:
        key = hashlib.sha256(json.dumps([model_name, self.texts]).encode()).hexdigest()[:16]
        cache = cache_dir / f"intent-examples-{key}.npy" if cache_dir else None
        if cache and cache.exists():
            try:
                vectors = np.load(cache)
                if vectors.shape[0] == len(self.texts):
                    return vectors
            except (OSError, ValueError):
                log.warning("ignoring an unreadable intent cache %s", cache)
        vectors = self.encode(self.texts)
        if cache:
            cache_dir.mkdir(parents=True, exist_ok=True)
            for old in cache_dir.glob("intent-examples-*.npy"):
                old.unlink(missing_ok=True)
            partial = cache.with_suffix(".tmp.npy")
            np.save(partial, vectors)
            partial.replace(cache)
        return vectors

    def _fit(self, vectors: np.ndarray, labels: np.ndarray) -> LogisticRegression:
        model = LogisticRegression(C=self.regularization, max_iter=2000)
        model.fit(vectors, labels)
        return model

    def rank(self, text: str) -> list[tuple[str, float]]:
        """(intent, confidence) for every intent, best first; confidences sum to 1."""
        vector = self.encode([text])
        return self.rank_vectors(vector)[0]

    def rank_vectors(self, vectors: np.ndarray, model: LogisticRegression | None = None) -> list[list[tuple[str, float]]]:
        model = model or self.model
        probabilities = model.predict_proba(vectors)
        order = np.argsort(-probabilities, axis=1)
        return [[(str(model.classes_[j]), float(row[j])) for j in ranks] for row, ranks in zip(probabilities, order)]

    def cross_validate(self, folds: int = 5, seed: int = 0) -> list[tuple[str, str, str, float]]:
        """(text, gold intent, predicted intent, confidence) for every example, each predicted by a
        model trained without its fold."""
        smallest = min(len(i.examples) for i in self.intents.values())
        splitter = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=seed)
        results: list[tuple[str, str, str, float]] = [None] * len(self.texts)  # type: ignore[list-item]
        for train, test in splitter.split(self.vectors, self.labels):
            model = self._fit(self.vectors[train], self.labels[train])
            for index, ranking in zip(test, self.rank_vectors(self.vectors[test], model)):
                results[index] = (self.texts[index], str(self.labels[index]), ranking[0][0], ranking[0][1])
        return results
