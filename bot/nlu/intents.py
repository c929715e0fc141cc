"""The intent classifier: logistic regression (scikit-learn) on sentence embeddings of the
example utterances in `config/intents.yml`.

Counterexamples (intents.yml `counterexamples`, Watson's inputs marked irrelevant) are trained as one
more class, COUNTEREXAMPLES; when it ranks first the input is irrelevant. The rankings shown leave it out.

The classifier's probabilities sum to 1 over the intents it knows, so on a skill with few intents an
input about something else entirely still gets a confident-looking top intent. Confidences are
therefore scaled by how close the input is to the examples, measured against the examples
themselves: each example's similarity to its nearest other example gives the skill's own spread
("how far apart are inputs that do belong"), and an input less close to every example than all but
the `out_of_domain_share` least-close examples are to theirs gets its confidences scaled down in
proportion, to zero below the least close one (with fewer than 1 / out_of_domain_share examples,
that is one step: zero below the least close example, unscaled above). Examples that differ only in
case or punctuation do not count as each other's neighbours. This is Watson's behaviour (low confidence for input
unlike any example) without a list of off-topic texts.

The examples' embeddings are cached in `<data dir>/nlu/`, keyed by the examples and the
embedding model, so a restart trains in well under a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from knowledge.settings import SettingsError, config_dir, read_config_file

log = logging.getLogger(__name__)

COUNTEREXAMPLES = "(counterexamples)"   # the class of the counterexamples; no intent may have this name


@dataclass
class Intent:
    """An intent of intents.yml: its name, a readable label, its example utterances."""

    name: str
    label: str
    examples: list[str]


def load_intents(path: Path | None = None) -> dict[str, Intent]:
    """Read intents.yml; every intent needs a few examples."""
    path = path or config_dir() / "intents.yml"
    raw = read_config_file(path)
    intents = {}
    if not isinstance(raw.get("intents") or {}, dict):
        raise SettingsError(f"{path}: intents must be a mapping of intent names")
    for name, spec in (raw.get("intents") or {}).items():
        name = str(name)
        if name == COUNTEREXAMPLES:
            raise SettingsError(f"{path}: {COUNTEREXAMPLES} is reserved for the counterexamples")
        if not isinstance(spec, dict) or not isinstance(spec.get("examples"), list):
            raise SettingsError(f"{path}: intent {name} needs a list of examples")
        examples = [str(e).strip() for e in spec["examples"] if str(e).strip()]
        if len(examples) < 3:
            raise SettingsError(f"{path}: intent {name} needs at least 3 examples, has {len(examples)}")
        intents[name] = Intent(name, str(spec.get("label") or name.replace("_", " ")), examples)
    if len(intents) < 2:
        raise SettingsError(f"{path}: at least two intents are needed")
    return intents


def load_counterexamples(path: Path | None = None) -> list[str]:
    """The counterexamples of intents.yml (`counterexamples`: texts that match no intent), in order."""
    path = path or config_dir() / "intents.yml"
    raw = read_config_file(path).get("counterexamples") or []
    if not isinstance(raw, list) or any(isinstance(t, (dict, list)) for t in raw):
        raise SettingsError(f"{path}: counterexamples must be a list of texts")
    return list(dict.fromkeys(str(t).strip() for t in raw if t is not None and str(t).strip()))


def nearest_other_similarities(vectors: np.ndarray, texts: list[str], block: int = 1024) -> np.ndarray:
    """For each unit vector, the cosine similarity to its nearest vector of another text, sorted
    ascending. Texts that differ only in case, spacing or punctuation count as one ("When are you
    open?" is not another example of "when are you open"). Computed in blocks of rows, so memory
    stays linear in the number of vectors."""
    keys = np.array([" ".join(re.findall(r"\w+", text.casefold())) for text in texts])
    nearest = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), block):
        similarities = vectors[start:start + block] @ vectors.T
        similarities[keys[start:start + block, None] == keys[None, :]] = -np.inf
        nearest[start:start + block] = similarities.max(axis=1)
    return np.sort(nearest[np.isfinite(nearest)])


class IntentClassifier:
    """Ranks the intents for a text. `encode` maps texts to unit vectors (the embedder); the
    `counterexamples` are trained as the class COUNTEREXAMPLES (their texts come after the examples)."""

    def __init__(self, intents: dict[str, Intent], encode: Callable[[list[str]], np.ndarray],
                 cache_dir: Path | None = None, model_name: str = "", regularization: float = 8.0,
                 counterexamples: list[str] = (), out_of_domain_share: float = 0.0):
        self.intents = intents
        self.encode = encode
        self.regularization = regularization
        self.out_of_domain_share = out_of_domain_share
        self.counterexamples = list(counterexamples)
        self.texts = [e for intent in intents.values() for e in intent.examples] + self.counterexamples
        self.labels = np.array([intent.name for intent in intents.values() for _ in intent.examples]
                               + [COUNTEREXAMPLES] * len(self.counterexamples))
        self.vectors = self._example_vectors(cache_dir, model_name)
        self.model = self._fit(self.vectors, self.labels)
        examples = len(self.texts) - len(self.counterexamples)
        self.example_vectors = self.vectors[:examples]
        self.example_closeness = nearest_other_similarities(self.example_vectors, self.texts[:examples])

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
        """(intent, confidence) for every intent, best first; before the scaling by closeness to the
        examples (see the module's docstring), confidences sum to 1 (less the
        counterexamples' share, when there are counterexamples)."""
        return self.classify(text)[0]

    def classify(self, text: str) -> tuple[list[tuple[str, float]], bool, float]:
        """(the ranking of `rank`, whether the counterexamples came first, the factor the confidences
        were scaled by: `in_domain_factor`, see the module's docstring)."""
        vector = self.encode([text])
        ranking = self.rank_vectors(vector)[0]
        factor = self.in_domain_factor(vector[0])
        return ([(n, c * factor) for n, c in ranking if n != COUNTEREXAMPLES],
                ranking[0][0] == COUNTEREXAMPLES, factor)

    def in_domain_factor(self, vector: np.ndarray) -> float:
        """1 for an input as close to the examples as all but the `out_of_domain_share` least-close
        examples are to their nearest other example; less in proportion below that; 0 below the least
        close one (or always 1 when `out_of_domain_share` is 0)."""
        if self.out_of_domain_share <= 0 or not len(self.example_closeness):
            return 1.0
        closeness = float(np.max(self.example_vectors @ vector))
        share_below = np.searchsorted(self.example_closeness, closeness, side="right") / len(self.example_closeness)
        return float(min(1.0, share_below / self.out_of_domain_share))

    def rank_vectors(self, vectors: np.ndarray, model: LogisticRegression | None = None) -> list[list[tuple[str, float]]]:
        """For each vector, (intent, confidence) of every intent, best first, by `model` (default: the
        trained one); COUNTEREXAMPLES is one of them when there are counterexamples."""
        model = model or self.model
        probabilities = model.predict_proba(vectors)
        order = np.argsort(-probabilities, axis=1)
        return [[(str(model.classes_[j]), float(row[j])) for j in ranks] for row, ranks in zip(probabilities, order)]

    def cross_validate(self, folds: int = 5, seed: int = 0) -> list[tuple[str, str, str, float]]:
        """(text, gold intent, predicted intent, confidence) for every example, each predicted by a
        model trained without its fold (and with all counterexamples: predicted COUNTEREXAMPLES)."""
        smallest = min(len(i.examples) for i in self.intents.values())
        splitter = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=seed)
        examples = len(self.texts) - len(self.counterexamples)
        always = np.arange(examples, len(self.texts))
        results: list[tuple[str, str, str, float]] = [None] * examples  # type: ignore[list-item]
        for train, test in splitter.split(self.vectors[:examples], self.labels[:examples]):
            train = np.concatenate([train, always])
            model = self._fit(self.vectors[train], self.labels[train])
            for index, ranking in zip(test, self.rank_vectors(self.vectors[test], model)):
                results[index] = (self.texts[index], str(self.labels[index]), ranking[0][0], ranking[0][1])
        return results
