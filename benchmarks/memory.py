"""Memory over many different questions: does the answering process stay the same size?

Loads the assistant once on an index (default: the demo blog, ingested into a temporary folder),
warms it up, then asks N different questions one at a time through the answer path `blogbot ask`
uses (the configured generator included) and reads the process's resident memory (VmRSS) as it
goes. Prints one JSON object: the RSS curve, RSS after the warm-up, the final RSS, the growth, and
the medians of the composer's answer times. Usage:
  .venv/bin/python benchmarks/memory.py [--data-dir DIR] [--questions 1000] [--configs after,before]

Each configuration runs in a fresh process, one after the other: `after` is blogbot as configured;
`before` is the same with `embedder.kernel_cache_entries: 0`, which leaves oneDNN's kernel caches at
the libraries' defaults (what blogbot did before the bound). Questions are made deterministically
from the index's own titles and headings (posts' words in question templates), each one different
and of varied length; both configurations get the same ones, and the answers are compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(REPO))

TEMPLATES = [
    "What is {a}?",
    "How does {a} work?",
    "What did you write about {a}?",
    "Can you explain {a} and how it relates to {b}?",
    "How do I get started with {a}?",
    "What should I know about {a} before I try {b}?",
    "Is {a} a good idea when {b} matters?",
    "Which post covers {a}, and does it also mention {b}?",
    "What are the common mistakes with {a}?",
    "Why would I pick {a} over {b}?",
    "I am trying {a} in a small project and I keep running into {b}; what do you recommend, and is "
    "there anything about {c} I should check first?",
    "Summarize what the blog says about {a}, {b} and {c}.",
    "What is the difference between {a} and {b}?",
    "Give me one practical tip on {a}.",
    "When is {a} not worth it?",
]
EXTRAS = ["", "", "", " Please keep it short.", " I am new to this.", " Thanks!",
          " We run everything on a single CPU machine.", " A code example would help.",
          " Our team uses Kubernetes for everything else.", " Is this still current?"]


def phrases(data_dir: Path) -> list[str]:
    """Subjects to ask about: the index's post titles, section headings and their halves (split at
    a colon, "with", "and", "or", "vs")."""
    from knowledge.corpus.index import connect

    conn = connect(data_dir)
    try:
        texts = [row[0] for row in conn.execute("SELECT title FROM posts")]
        texts += [row[0] for row in conn.execute("SELECT DISTINCT heading FROM chunks")]
    finally:
        conn.close()
    found: list[str] = []
    for text in texts:
        for candidate in text.split(" > "):
            candidate = re.sub(r"[`*_\"'#]|\(\W*\)|^\d+\.\s*|^Option \d+:\s*", "", candidate).strip(" ?:.!")
            for part in [candidate, *re.split(r":|\?| with | and | or | vs\.? ", candidate)]:
                part = part.strip(" ,?:.!")
                if 1 <= len(part.split()) <= 8 and re.search(r"[A-Za-z]{3}", part):
                    first = part.split()[0]
                    found.append(part[0].lower() + part[1:] if first[1:].islower() else part)
    return sorted(set(found))


def make_questions(data_dir: Path, count: int, seed: int = 16) -> list[str]:
    """`count` different questions, the same ones for the same index and seed."""
    subjects = phrases(data_dir)
    if len(subjects) < 3:
        sys.exit(f"too few titles and headings in {data_dir} to make questions from")
    rng = random.Random(seed)
    questions: list[str] = []
    seen: set[str] = set()
    while len(questions) < count:
        a, b, c = rng.sample(subjects, 3)
        question = rng.choice(TEMPLATES).format(a=a, b=b, c=c) + rng.choice(EXTRAS)
        if question not in seen:
            seen.add(question)
            questions.append(question)
    return questions


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (this benchmark needs Linux)")


def run_one(args) -> dict:
    """One configuration, in this process: warm up, then the questions one at a time."""
    from knowledge.answers.composer import AnswerComposer, Final
    from knowledge.settings import apply_overrides, load_settings

    settings = load_settings()
    if args.kernel_cache_entries is not None:
        settings = apply_overrides(settings, {"embedder": {"kernel_cache_entries": args.kernel_cache_entries}})
    questions = make_questions(args.data_dir, args.warmup + args.questions)
    started = time.perf_counter()
    composer = AnswerComposer(args.data_dir, settings)
    composer.generator()
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()

    def ask(question: str):
        # The path of `blogbot ask`: the composer's stream, read to its final answer.
        for event in composer.stream_answer(question):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("no final answer")

    # Readers take turns (one question at a time), each on its own long-lived thread as the
    # server's worker pool does; a single reader asks from the main thread, as `blogbot ask`.
    turns = [threading.Semaphore(0) for _ in range(args.readers)]
    answers: list = [None] * len(questions)

    failures: list[BaseException] = []

    def reader(number: int) -> None:
        for i in range(number, len(questions), args.readers):
            turns[number].acquire()
            try:
                if not failures:
                    answers[i] = ask(questions[i])
                    curve_step(i)
            except BaseException as exc:   # reported below; the other readers stop too
                failures.append(exc)
            finally:
                turns[(number + 1) % args.readers].release()

    curve: list[dict] = []
    marks: dict = {}

    def curve_step(i: int) -> None:
        done = i + 1 - args.warmup
        if done == 0:
            marks["after_warmup"] = rss_mb()
            marks["warm_started"] = time.perf_counter()
        elif done > 0 and (done % args.every == 0 or done == args.questions):
            curve.append({"questions": done, "rss_mb": round(rss_mb())})
            print(f"… {args.label or 'run'}: {done} questions, RSS {curve[-1]['rss_mb']} MB", file=sys.stderr, flush=True)

    run_started = time.perf_counter()
    if args.readers == 1:
        for i, question in enumerate(questions):
            answers[i] = ask(question)
            curve_step(i)
    else:
        threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(args.readers)]
        for thread in threads:
            thread.start()
        turns[0].release()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
    measured = answers[args.warmup:]
    total = [a.timings["total_s"] for a in measured]
    generated = [a.timings["total_s"] for a in measured if "generation_s" in a.timings]
    first = [a.timings["first_token_s"] for a in measured]
    after_warmup = marks["after_warmup"]
    final = rss_mb()
    return {
        "questions": args.questions, "warmup_questions": args.warmup, "readers": args.readers,
        "env": {k: os.environ[k] for k in ("LRU_CACHE_CAPACITY", "ONEDNN_PRIMITIVE_CACHE_CAPACITY",
                                           "DNNL_PRIMITIVE_CACHE_CAPACITY") if k in os.environ},
        "load_s": round(load_s, 1), "rss_loaded_mb": round(rss_loaded),
        "rss_after_warmup_mb": round(after_warmup), "rss_final_mb": round(final),
        "growth_after_warmup_mb": round(final - after_warmup),
        "rss_max_after_warmup_mb": max([round(after_warmup)] + [p["rss_mb"] for p in curve]),
        "rss_mb_after_n_questions": {str(p["questions"]): p["rss_mb"] for p in curve},
        "modes": dict(Counter(a.mode for a in measured)),
        # Generations cut by generator.time_budget_s (a busy machine): those answers are extractive.
        "generations_over_time_budget": sum(a.timings.get("generation_s", 0) >= settings.generator.time_budget_s
                                            for a in measured),
        "answer_s_median": round(statistics.median(total), 3),
        "answer_s_median_with_generation": round(statistics.median(generated), 3) if generated else None,
        "first_token_s_median": round(statistics.median(first), 3),
        "wall_s": round(time.perf_counter() - run_started, 1),
        "warm_wall_s": round(time.perf_counter() - marks["warm_started"], 1),
        "answers": [{"sha1": hashlib.sha1(a.text.encode()).hexdigest()[:12], "mode": a.mode,
                     "generation_s": a.timings.get("generation_s")} for a in measured],
    }


def start_child(config: str, args) -> subprocess.Popen:
    command = [sys.executable, __file__, "--child", "--label", config, "--data-dir", str(args.data_dir),
               "--questions", str(args.questions), "--warmup", str(args.warmup), "--every", str(args.every),
               "--readers", str(args.readers)]
    if config == "before":
        command += ["--kernel-cache-entries", "0"]
    print(f"… {config}: {args.warmup} warm-up + {args.questions} questions", file=sys.stderr, flush=True)
    # Its progress lines and warnings go to our stderr.
    return subprocess.Popen(command, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.PIPE,
                            text=True)


def finish_child(config: str, child: subprocess.Popen) -> dict:
    out, _ = child.communicate()
    if child.returncode != 0:
        sys.exit(f"the {config} run failed (exit code {child.returncode})")
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="an index (default: the demo blog ingested into a temporary folder)")
    parser.add_argument("--questions", type=int, default=1000, help="different questions after the warm-up (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="different questions asked first, not measured (default 50)")
    parser.add_argument("--every", type=int, default=50, help="RSS is read every this many questions (default 50)")
    parser.add_argument("--readers", type=int, default=1,
                        help="threads taking turns at asking, like the server's workers (default 1)")
    parser.add_argument("--configs", default="after,before", help="after, before or both (default after,before)")
    parser.add_argument("--parallel", action="store_true",
                        help="run the configurations at the same time (on a shared machine both see the same load)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    parser.add_argument("--kernel-cache-entries", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.questions < 1 or args.warmup < 1 or args.every < 1 or args.readers < 1:
        parser.error("--questions, --warmup, --every and --readers must be at least 1")
    if args.child:
        print(json.dumps(run_one(args)))
        return
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if not configs or set(configs) - {"after", "before"}:
        parser.error("--configs takes after, before or after,before")
    if args.data_dir is None:
        args.data_dir = Path(tempfile.mkdtemp(prefix="blogbot-memory-")) / "data"
        subprocess.run([str(Path(sys.executable).parent / "blogbot"), "ingest", str(REPO / "demo" / "blog"),
                        "--data-dir", str(args.data_dir), "--quiet"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if args.parallel:
        children = {config: start_child(config, args) for config in configs}
        results = {config: finish_child(config, child) for config, child in children.items()}
    else:
        results = {config: finish_child(config, start_child(config, args)) for config in configs}
    report = {"data_dir": str(args.data_dir), "machine_cores": os.cpu_count(), "parallel": args.parallel}
    answers = {config: result.pop("answers") for config, result in results.items()}
    report.update(results)
    if len(answers) == 2:
        first, second = answers.values()
        report["same_answer_text"] = f"{sum(x['sha1'] == y['sha1'] for x, y in zip(first, second))}/{len(first)}"
        # Where they differ: a generation cut by the time budget on one side is the usual reason.
        report["different_answers"] = [{"question": i + 1, **{config: {k: v for k, v in answers[config][i].items()
                                                                       if k != "sha1"} for config in answers}}
                                       for i, (x, y) in enumerate(zip(first, second)) if x["sha1"] != y["sha1"]]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
