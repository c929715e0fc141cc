"""The generator engines side by side on the packaged model: llama.cpp and transformers.

Prints one JSON object: for each backend, load time, time to the first piece, whole answer time and
pieces per second (medians over the demo questions' real prompts, each prompt new to the engine),
peak memory of a process that holds only that engine, and whether the two wrote the same text.
Each backend runs in a child process of its own, one after the other, in the same run.
Usage: .venv/bin/python benchmarks/generators.py [--questions N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from knowledge.answers.generator import get_generator
from knowledge.settings import load_settings

backend, prompts, cache = sys.argv[2], json.loads(Path(sys.argv[3]).read_text()), Path(sys.argv[4])
settings = load_settings()
settings.generator.backend = backend
settings.generator.time_budget_s = 120
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
generator = get_generator(settings.generator, cache)
load_s = time.perf_counter() - started
runs = []
for messages in prompts:
    started, first, pieces, text = time.perf_counter(), None, 0, ""
    for piece in generator.stream(messages):
        first = first if first is not None else time.perf_counter() - started
        pieces += 1
        text += piece
    runs.append({"first_s": first or 0.0, "total_s": time.perf_counter() - started, "pieces": pieces, "text": text})
print(json.dumps({"load_s": load_s, "runs": runs,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "rss_before_load_mb": before // 1024}))
"""


def prompts(count: int) -> list:
    """The prompts the composer would send for the first `count` demo questions it answers."""
    sys.path.insert(0, str(REPO))
    from knowledge.answers.composer import AnswerComposer
    from knowledge.corpus.ingest import ingest
    from knowledge.settings import load_settings

    data_dir = Path(tempfile.mkdtemp(prefix="blogbot-bench-"))
    ingest(REPO / "demo" / "blog", data_dir, load_settings())
    composer = AnswerComposer(data_dir, load_settings())
    questions = [json.loads(line)["question"] for line in (REPO / "demo" / "questions.jsonl").read_text().splitlines()
                 if line.strip()]
    return [composer.prompt_messages(q) for q in questions[:count]], data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=8)
    args = parser.parse_args()
    messages, data_dir = prompts(args.questions)
    prompt_file = data_dir / "prompts.json"
    prompt_file.write_text(json.dumps(messages))
    results = {}
    for backend in ("llama_cpp", "local"):
        done = subprocess.run([sys.executable, "-c", CHILD, str(REPO), backend, str(prompt_file), str(data_dir / "models")],
                              capture_output=True, text=True, check=True)
        raw = json.loads(done.stdout.strip().splitlines()[-1])
        runs = raw["runs"]
        results[backend] = {
            "load_s": round(raw["load_s"], 3),
            "first_piece_s_p50": round(statistics.median(r["first_s"] for r in runs), 3),
            "total_s_p50": round(statistics.median(r["total_s"] for r in runs), 3),
            "pieces_per_s_p50": round(statistics.median(r["pieces"] / r["total_s"] for r in runs if r["total_s"]), 1),
            "peak_rss_mb": raw["peak_rss_mb"],
            "texts": [r["text"] for r in runs],
        }
    same = sum(a == b for a, b in zip(results["llama_cpp"].pop("texts"), results["local"].pop("texts")))
    print(json.dumps({"prompts": len(messages), "backends": results, "same_text": same,
                      "speedup_total_p50": round(results["local"]["total_s_p50"] / results["llama_cpp"]["total_s_p50"], 2)},
                     indent=2))


if __name__ == "__main__":
    main()
