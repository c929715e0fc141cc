"""How well `blogbot report` groups differently worded questions of one meaning, per cut distance
(analytics.cluster_distance), scored by the adjusted Rand index against known groups: the intents
of Watson skills, whose examples are people's different wordings of one request.

Tuning sets (the distance with the best mean index over them is `best_on_tuning`): every other intent
of the IBM Banking export (../shared/watson), fine-grained, and the cafe test skill, coarse. Held
out: the other half of Banking and the travel test skill (tests/dialogue). Prints one JSON object:
per set and distance the index and the number of groups against the number of intents.
  .venv/bin/python benchmarks/report_clusters.py [--distances 0.3,0.35,...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "dialogue")]

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from bot.analytics.clusters import group_questions  # noqa: E402
from knowledge.corpus.embedder import get_embedder  # noqa: E402
from knowledge.settings import load_settings  # noqa: E402

SHARED = REPO.parent / "shared"


def intents_of(skill: dict) -> dict[str, list[str]]:
    return {i["intent"]: [e["text"] for e in i.get("examples", [])] for i in skill.get("intents", [])}


def sets() -> dict[str, dict[str, list[str]]]:
    import watson_skill
    import watson_travel_skill

    found = {}
    bank = SHARED / "watson" / "bank_simple_workspace.json"
    if bank.exists():
        banking = sorted(intents_of(json.loads(bank.read_text())).items())
        found["banking (even intents): tuning"] = dict(banking[0::2])
        found["banking (odd intents): held out"] = dict(banking[1::2])
    found["travel test skill: held out"] = intents_of(watson_travel_skill.skill())
    found["cafe test skill: tuning"] = intents_of(watson_skill.skill())
    return found


def score(intents: dict[str, list[str]], encode, distance: float) -> dict:
    truth = {text: name for name, texts in intents.items() for text in texts}
    texts = list(truth)
    groups = group_questions(texts, encode, distance)
    found = {question: number for number, g in enumerate(groups) for question in g.questions}
    normal = {" ".join(t.split()): t for t in texts}
    predicted = [found[key] for key in normal]
    expected = [truth[normal[key]] for key in normal]
    return {"ari": round(adjusted_rand_score(expected, predicted), 3), "groups": len(groups), "intents": len(intents)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distances", default="0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.75")
    args = parser.parse_args()
    embedder = get_embedder(load_settings().embedder)
    cache: dict[str, object] = {}

    def encode(texts: list[str]):
        missing = [t for t in texts if t not in cache]
        for text, vector in zip(missing, embedder.encode(missing)):
            cache[text] = vector
        import numpy as np

        return np.stack([cache[t] for t in texts])

    distances = [float(d) for d in args.distances.split(",")]
    results = {name: {str(d): score(intents, encode, d) for d in distances} for name, intents in sets().items()}
    tuning = [name for name in results if "tuning" in name]
    best = max(distances, key=lambda d: sum(results[name][str(d)]["ari"] for name in tuning)) if tuning else None
    print(json.dumps({"best_on_tuning": best, "sets": results}, indent=1))


if __name__ == "__main__":
    main()
