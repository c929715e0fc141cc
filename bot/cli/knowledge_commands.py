"""The knowledge commands of `blogbot`: ingest, adapt, search, ask, eval (retrieval, answers, sets, synth)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge.markup import unicode_problem, valid_unicode


from bot.cli.common import UsageError, checked_settings, data_dir_of, progress, retriever_of, stderr


def cmd_ingest(args: argparse.Namespace) -> int:
    """`blogbot ingest`: index a blog folder (only what changed); 1 if another ingest is running."""
    from knowledge.corpus.blog_reader import BlogError
    from knowledge.corpus.ingest import IngestBusy, ingest

    try:
        report = ingest(args.path, data_dir_of(args), checked_settings(), progress=progress(args.quiet),
                        warn=lambda m: stderr(f"warning: {m}"))
    except BlogError as exc:
        raise UsageError(str(exc)) from None
    except IngestBusy as exc:
        stderr(f"error: {exc}")
        return 1
    print(report.summary())
    return 0


def cmd_adapt(args: argparse.Namespace) -> int:
    """`blogbot adapt`: fine-tune the embedding model to the blog and re-embed (or --undo it); 1 if busy."""
    from knowledge.adaptation import AdaptError, adapt, undo
    from knowledge.corpus.index import IndexUnavailable
    from knowledge.corpus.ingest import IngestBusy

    data_dir = data_dir_of(args)
    if args.undo and args.restart:
        raise UsageError("give --undo or --restart, not both")
    try:
        if args.undo:
            had = undo(data_dir)
            print("search ranks with the packaged model again" if had else "the index had no adapted model")
            return 0
        report = adapt(data_dir, checked_settings(), restart=args.restart, progress=progress(args.quiet))
    except (AdaptError, IndexUnavailable) as exc:
        raise UsageError(str(exc)) from None
    except IngestBusy as exc:
        stderr(f"error: {exc}")
        return 1
    print(report.summary())
    return 0


def _print_hits(query: str, hits, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"query": query, "hits": [h.as_json() for h in hits]}, ensure_ascii=False), flush=True)
        return
    if not hits:
        print("No posts found.")
    for number, hit in enumerate(hits, 1):
        print(f"{number}. {hit.post.title} ({hit.post.date})\n   {hit.post.url}\n   {hit.snippet}\n")


def cmd_search(args: argparse.Namespace) -> int:
    """`blogbot search`: print the posts found for a query (or for each stdin line, --jsonl)."""
    from knowledge.search.retrieval import QueryError

    if args.jsonl and args.query:
        raise UsageError("give either a QUERY or --jsonl (queries on stdin), not both")
    if not args.jsonl and not args.query:
        raise UsageError("search needs a QUERY (or --jsonl to read queries from stdin)")
    retriever = retriever_of(args)
    filters = dict(k=args.k, mode=args.mode, date_from=args.since, date_to=args.until, tag=args.tag)
    if args.k < 1:
        raise UsageError("--k must be at least 1")
    if not args.jsonl:
        try:
            hits = retriever.search(args.query, **filters)
        except QueryError as exc:
            raise UsageError(str(exc)) from None
        _print_hits(args.query, hits, args.json)
        return 0
    for line in sys.stdin:
        query = line.rstrip("\n")
        if not query.strip():
            continue
        if unicode_problem(query):
            print(json.dumps({"query": valid_unicode(query), "hits": [], "error": unicode_problem(query)}), flush=True)
            continue
        try:
            hits = retriever.search(query, **filters)
        except QueryError as exc:
            print(json.dumps({"query": query, "hits": [], "error": str(exc)}), flush=True)
            continue
        _print_hits(query, hits, True)
    return 0


def _questions(args) -> list[dict]:
    from knowledge.evaluation import QuestionFileError, load_questions

    try:
        return load_questions(args.questions)
    except QuestionFileError as exc:
        raise UsageError(str(exc)) from None


def cmd_eval_answers(args: argparse.Namespace) -> int:
    """`blogbot eval answers`: score the answers to a question set."""
    from knowledge.evaluation import evaluate_answers

    questions = _questions(args)
    results = evaluate_answers(_composer(args), questions,
                               progress=lambda n, total: stderr(f"… answered {n}/{total}") if not n % 5 else None)
    if args.json:
        print(json.dumps(results))
        return 0
    for key, value in results.items():
        if key != "per_question":
            print(f"{key:28} {value}")
    return 0


def cmd_eval_sets(args: argparse.Namespace) -> int:
    """`blogbot eval sets`: one table of scores over several question sets, each on its own index."""
    import logging

    from knowledge.evaluation import QuestionFileError, evaluate_sets, format_table, parse_eval_set
    from knowledge.corpus.index import IndexUnavailable

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    sets = [parse_eval_set(spec, data_dir_of(args)) for spec in args.sets]
    try:
        rows = evaluate_sets(sets, checked_settings(), answers=not args.retrieval_only, progress=lambda m: stderr(f"… {m}"))
    except (QuestionFileError, IndexUnavailable) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    print(format_table(rows))
    for row in rows:
        if row["gold_not_in_index"]:
            print(f"{row['set']}: {len(row['gold_not_in_index'])} gold posts not in the index, e.g. "
                  f"{row['gold_not_in_index'][0]}")
    return 0


def cmd_eval_synth(args: argparse.Namespace) -> int:
    """`blogbot eval synth`: write a question set made from the indexed blog."""
    from knowledge.corpus.embedder import get_embedder
    from knowledge.settings import SettingsError
    from knowledge.synthetic import SynthError, load_synth_config, synthesize, write_questions

    settings = checked_settings()
    try:
        config = load_synth_config()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    retriever = retriever_of(args)
    try:
        embedder = get_embedder(settings.embedder)
        questions = synthesize(retriever, embedder.encode, args.count, args.seed, config,
                               rare_share=settings.answer.name_posts_share, half=args.half,
                               progress=progress(args.quiet))
    except SynthError as exc:
        raise UsageError(str(exc)) from None
    finally:
        retriever.close()
    write_questions(questions, Path(args.out))
    covered = sum(1 for q in questions if q["gold_permalinks"])
    stderr(f"wrote {len(questions)} questions to {args.out}: {covered} answerable, "
            f"{len(questions) - covered} not covered by the blog")
    if len(questions) < args.count:
        stderr(f"note: {args.count} were asked for; the {'half of the ' if args.half else ''}blog has "
                f"sections for {len(questions)}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """`blogbot eval retrieval`: score each search mode on a question set."""
    from knowledge.evaluation import evaluate_retrieval

    results = evaluate_retrieval(retriever_of(args), _questions(args))
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{results['questions']} answerable questions ({results['left_out_unanswerable']} without gold left out)")
    print(f"{'':10}" + "".join(f"{m:>10}" for m in ("hybrid", "bm25", "dense")))
    for metric in ("hit@1", "hit@5", "recall@5", "mrr@10"):
        print(f"{metric:10}" + "".join(f"{results[m][metric]:>10.3f}" for m in ("hybrid", "bm25", "dense")))
    return 0


def _composer(args):
    import logging

    from knowledge.answers.composer import AnswerComposer
    from knowledge.corpus.index import IndexUnavailable
    from knowledge.settings import SettingsError

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    try:
        return AnswerComposer(data_dir_of(args), checked_settings(), progress=lambda m: stderr(f"… {m}"))
    except (IndexUnavailable, SettingsError) as exc:
        raise UsageError(str(exc)) from None


def _print_answer(answer, as_json: bool, streamed: bool) -> None:
    if as_json:
        print(json.dumps(answer.as_json(), ensure_ascii=False), flush=True)
        return
    if streamed:
        print("\r\033[K", end="")   # replace the streamed draft with the checked answer
    print(answer.text)
    for citation in answer.citations:
        print(f"  [{citation.number}] {citation.title} — {citation.url}")
    for citation in answer.related:
        print(f"  - {citation.title} — {citation.url}")


def cmd_ask(args: argparse.Namespace) -> int:
    """`blogbot ask`: answer a question from the blog, with citations (or each stdin line, --jsonl)."""
    from knowledge.answers.composer import Final, Token

    if args.jsonl and args.question:
        raise UsageError("give either a QUESTION or --jsonl (questions on stdin), not both")
    if not args.jsonl and not (args.question or "").strip():
        raise UsageError("ask needs a QUESTION (or --jsonl to read questions from stdin)")
    composer = _composer(args)
    if not args.jsonl:
        stream = not args.json and sys.stdout.isatty()
        for event in composer.stream_answer(args.question):
            if isinstance(event, Token) and stream:
                print(event.text.replace("\n", " "), end="", flush=True)
            elif isinstance(event, Final):
                _print_answer(event.answer, args.json, stream)
        return 0
    for line in sys.stdin:
        question = line.strip()
        if question and unicode_problem(question):
            print(json.dumps({"question": valid_unicode(question), "error": unicode_problem(question)}), flush=True)
        elif question:
            _print_answer(composer.answer(question), True, False)
    return 0


def add_commands(commands: argparse._SubParsersAction,
                 common: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """Add the knowledge commands to `commands` (the parser's sub-commands); returns `eval`'s kinds,
    to which the dialogue commands add `eval nlu`."""
    ingest = commands.add_parser("ingest", parents=[common], help="index a blog folder (incremental)")
    ingest.add_argument("path", help="a Jekyll site root, its _posts/ folder, a Hugo site or a folder of markdown")
    ingest.add_argument("--quiet", action="store_true", help="no progress lines")
    ingest.set_defaults(func=cmd_ingest)

    adapt = commands.add_parser("adapt", parents=[common],
                                help="fine-tune the embedding model to the indexed blog and re-embed the index (resumable)")
    adapt.add_argument("--restart", action="store_true", help="discard an interrupted training instead of resuming it")
    adapt.add_argument("--undo", action="store_true", help="rank with the packaged model again and delete the adapted one")
    adapt.add_argument("--quiet", action="store_true", help="no progress lines")
    adapt.set_defaults(func=cmd_adapt)

    search = commands.add_parser("search", parents=[common], help="find posts")
    search.add_argument("query", nargs="?")
    search.add_argument("--k", type=int, default=5, help="number of posts (default 5)")
    search.add_argument("--json", action="store_true", help="one JSON object")
    search.add_argument("--jsonl", action="store_true", help="queries from stdin, one JSON line out per query")
    search.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    search.add_argument("--since", help="only posts from this date on (YYYY, YYYY-MM or YYYY-MM-DD)")
    search.add_argument("--until", help="only posts up to this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    search.add_argument("--tag", help="only posts with this tag or category")
    search.set_defaults(func=cmd_search)

    ask = commands.add_parser("ask", parents=[common], help="answer a question from the blog, with citations")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="one JSON object")
    ask.add_argument("--jsonl", action="store_true", help="questions from stdin, one JSON line out per question")
    ask.set_defaults(func=cmd_ask)

    return _add_eval_commands(commands, common)


def _add_eval_commands(commands: argparse._SubParsersAction,
                       common: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """Add `eval` and its kinds (retrieval, answers, sets, synth) to `commands`; returns the kinds."""
    evaluate = commands.add_parser("eval", help="measure quality on a question set")
    kinds = evaluate.add_subparsers(dest="kind", required=True, metavar="KIND")
    retrieval = kinds.add_parser("retrieval", parents=[common], help="hit@1, hit@5, recall@5, MRR@10 per search mode")
    retrieval.add_argument("--questions", required=True, help="JSONL file in the format of questions-dev.jsonl")
    retrieval.add_argument("--json", action="store_true")
    retrieval.set_defaults(func=cmd_eval)
    answers = kinds.add_parser("answers", parents=[common], help="citation hit, keyword recall, abstention, support, latency")
    answers.add_argument("--questions", required=True, help="JSONL file in the format of questions-dev.jsonl")
    answers.add_argument("--json", action="store_true")
    answers.set_defaults(func=cmd_eval_answers)
    sets = kinds.add_parser("sets", parents=[common],
                            help="one table over several question sets, each on its own index")
    sets.add_argument("sets", nargs="+", metavar="QUESTIONS[@DATA_DIR]",
                      help="a question file, scored on the index in DATA_DIR (default: --data-dir)")
    sets.add_argument("--retrieval-only", action="store_true", help="hit@5 and MRR@10 only (no answers)")
    sets.add_argument("--json", action="store_true", help="one JSON line per set")
    sets.set_defaults(func=cmd_eval_sets)

    synth = kinds.add_parser("synth", parents=[common],
                             help="make a question set from the indexed blog (answerable and not covered)")
    synth.add_argument("--out", required=True, help="the JSONL file to write (the format of questions-dev.jsonl)")
    synth.add_argument("--count", type=int, default=100, help="number of questions (default 100)")
    synth.add_argument("--seed", type=int, default=0,
                       help="picks the posts and forms: another seed gives another split (default 0)")
    synth.add_argument("--half", type=int, choices=[1, 2],
                       help="ask about this half of the posts only (a stable split by address): tune on one "
                            "half, report the other (default: all posts)")
    synth.add_argument("--quiet", action="store_true", help="no progress lines")
    synth.set_defaults(func=cmd_eval_synth)
    return kinds
