"""Answer benchmark on the real corpus in ../shared: quality, latency, throughput, start-up, memory.

Prints one JSON object. Usage:
  .venv/bin/python benchmarks/answers.py [--data-dir DIR] [--questions FILE]
Without --data-dir the corpus is ingested into a temporary folder first. Generator throughput is
reported beside a plain `model.generate` on the same prompt, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(REPO))

# Runs `blogbot ask` in a child that reports its own peak memory (ru_maxrss) on the last stderr line.
ASK_WITH_PEAK = (
    "import resource, sys\n"
    "from bot.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n")


def timed_ask(question: str, data_dir: Path) -> tuple[float, float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", ASK_WITH_PEAK, "ask", question, "--json", "--data-dir", str(data_dir)],
                          cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"blogbot ask failed: {done.stderr[-2000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1].split()[1])
    return elapsed, peak_kb / 1024, json.loads(done.stdout)


def generator_throughput(composer, question: str, repeats: int) -> dict:
    """Pieces per second of the streaming generator vs tokens per second of plain model.generate."""
    generator = composer.generator()
    if not hasattr(generator, "model"):   # generator.backend none or remote: no model here to compare
        return {"skipped": f"no local model (generator.backend: {composer.settings.generator.backend})"}
    messages = composer.prompt_messages(question)
    ids = generator.prompt_ids(messages)
    plain, streamed = [], []
    for _ in range(repeats):
        kwargs = generator.generate_kwargs(ids)
        started = time.perf_counter()
        out = generator.model.generate(**kwargs)
        plain.append((out.shape[1] - ids.shape[1]) / (time.perf_counter() - started))
        started = time.perf_counter()
        text = "".join(generator.stream(messages))
        tokens = len(generator.tokenizer(text, add_special_tokens=False)["input_ids"])
        streamed.append(tokens / (time.perf_counter() - started))
    return {"prompt_tokens": int(ids.shape[1]), "plain_generate_tok_s": round(statistics.median(plain), 1),
            "composer_stream_tok_s": round(statistics.median(streamed), 1),
            "ratio_stream_to_plain": round(statistics.median(streamed) / statistics.median(plain), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", help="an index of the corpus (default: ingest into a temporary folder)")
    parser.add_argument("--corpus", default=str(SHARED / "corpus" / "heidloff-blog" / "_posts"))
    parser.add_argument("--questions", default=str(SHARED / "eval" / "questions-dev.jsonl"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from knowledge.answers.composer import AnswerComposer
    from knowledge.evaluation import evaluate_answers, load_questions
    from knowledge.corpus.ingest import ingest
    from knowledge.settings import load_settings

    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="blogbot-answers-"))
    settings = load_settings()
    if not args.data_dir:
        ingest(args.corpus, data_dir, settings)
    questions = load_questions(args.questions)

    # Start-up: the first run converts the model (once); later runs load the cached folder.
    first_run_s, _, _ = timed_ask(questions[0]["question"], data_dir)
    cached = [timed_ask(questions[i % len(questions)]["question"], data_dir) for i in range(args.repeats)]

    composer = AnswerComposer(data_dir, settings)
    composer.answer("warm up")
    results = evaluate_answers(composer, questions)
    per_question = results.pop("per_question")
    print(json.dumps({
        "questions": args.questions,
        "answers": results,
        "start_to_first_answer_s": {"first_run_with_conversion": round(first_run_s, 1),
                                    "cached_model_median": round(statistics.median(c[0] for c in cached), 1)},
        "ask_peak_rss_mb": round(max(c[1] for c in cached)),
        "throughput": generator_throughput(composer, questions[0]["question"], args.repeats),
        "misses": [q for q in per_question if q.get("citation_hit") is False],
    }, indent=2))


if __name__ == "__main__":
    main()
