"""The dialogue commands of `blogbot`: parse, chat, actions, serve, slack, test, eval nlu."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from bot.cli.common import UsageError, checked_settings, data_dir_of, stderr
from knowledge.markup import unicode_problem, valid_unicode


def _logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)


def _nlu(args):
    from bot.nlu.parser import load_nlu
    from knowledge.corpus.index import IndexUnavailable
    from knowledge.search.retrieval import Retriever
    from knowledge.settings import SettingsError

    settings = checked_settings()
    try:
        posts = Retriever(data_dir_of(args), settings).current_posts().values()
    except IndexUnavailable:
        posts = ()       # no blog indexed yet: no topic values, the rest works
    try:
        return load_nlu(data_dir_of(args), settings, posts)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def cmd_parse(args: argparse.Namespace) -> int:
    """`blogbot parse`: print the intent and entities of a text (or of each stdin line, --jsonl)."""
    if args.jsonl and args.text:
        raise UsageError("give either a TEXT or --jsonl (texts on stdin), not both")
    if not args.jsonl and not (args.text or "").strip():
        raise UsageError("parse needs a TEXT (or --jsonl to read texts from stdin)")
    nlu = _nlu(args)
    if not args.jsonl:
        parse = nlu.parse(args.text)
        if args.json:
            print(json.dumps(parse.as_json(), ensure_ascii=False))
            return 0
        print(f"intent: {parse.intent or '(none: anything_else)'} ({parse.confidence:.2f})")
        for name, confidence in parse.intent_ranking[1:4]:
            print(f"  then: {name} ({confidence:.2f})")
        for entity in parse.entities:
            print(f"entity: @{entity.entity}:{entity.value}  \"{parse.text[entity.start:entity.end]}\"")
        return 0
    for line in sys.stdin:
        if line.strip() and unicode_problem(line):
            print(json.dumps({"text": valid_unicode(line.strip()), "error": unicode_problem(line)}), flush=True)
        elif line.strip():
            print(json.dumps(nlu.parse(line.strip()).as_json(), ensure_ascii=False), flush=True)
    return 0


def _assistant(args, remember_tries: bool = False):
    from bot.assistant import build
    from knowledge.corpus.index import IndexUnavailable
    from knowledge.settings import SettingsError

    _logging()
    try:
        return build(data_dir_of(args), checked_settings(), action_endpoint=getattr(args, "action_endpoint", None),
                     remember_tries=remember_tries)
    except (IndexUnavailable, SettingsError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def cmd_chat(args: argparse.Namespace) -> int:
    """`blogbot chat`: hold a conversation in the terminal, optionally saved as a test script."""
    from bot.channels.terminal import chat

    engine = _assistant(args).engine
    recorder = None
    if args.record:
        from bot.testing.recorder import Recorder

        recorder = Recorder(args.record)
    try:
        chat(engine, sender_id=args.sender, on_turn=recorder.add if recorder else (lambda step, result: None))
    finally:
        if recorder and recorder.steps:
            recorder.save()
            stderr(f"saved the conversation as a test script: {args.record}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """`blogbot test`: run the scripted conversations; 1 if any failed."""
    from pathlib import Path

    from bot.testing.runner import Engines, error_result, run_script, write_junit
    from bot.testing.scripts import ScriptError, load_scripts, script_files
    from knowledge.corpus.index import index_path

    paths = [Path(p) for p in (args.paths or ["tests/conversations"])]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    files = script_files(paths)
    if not files:
        raise UsageError(f"no .yml conversation files in {', '.join(map(str, paths))}")
    if not index_path(data_dir_of(args)).exists():
        raise UsageError(f"no index in {data_dir_of(args)}: run 'blogbot ingest PATH' first (or pass --data-dir)")
    checked_settings()          # bad settings (file or environment) stop the run before any script
    _logging()
    engines = Engines(data_dir_of(args))
    results = []
    for file in files:
        try:
            scripts = load_scripts(file)
        except ScriptError as exc:
            scripts = []
            results.append(error_result(exc))
            _report(results[-1], args.json)
        for script in scripts:
            results.append(run_script(script, engines))
            _report(results[-1], args.json)
    if args.junit:
        write_junit(results, Path(args.junit))
    failed = sum(1 for r in results if not r.passed)
    if not args.json:
        print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _report(result, as_json: bool) -> None:
    from bot.testing.runner import format_result

    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
    else:
        print(format_result(result), flush=True)


def cmd_actions(args: argparse.Namespace) -> int:
    """`blogbot actions`: run the rasa-sdk action server until interrupted."""
    from actions import build_executor
    from bot.assistant import build_knowledge
    from bot.dialogue.action_server import serve_actions
    from knowledge.corpus.index import IndexUnavailable

    _logging()
    logging.getLogger("bot").setLevel(logging.INFO)
    try:
        knowledge = build_knowledge(data_dir_of(args), checked_settings(), remember_tries=True)   # loaded before it listens
    except IndexUnavailable as exc:
        raise UsageError(str(exc)) from None
    serve_actions(build_executor(knowledge), args.host, args.port,
                  ready=lambda: stderr(f"action server listening on http://{args.host}:{args.port}/webhook"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`blogbot serve`: run the web chat API, widget, demo page (and Slack events) until interrupted."""
    from bot.assistant import build
    from bot.channels.server import build_app, serve, thread_budget
    from knowledge.corpus.index import IndexUnavailable
    from knowledge.settings import SettingsError

    from bot.channels.metrics import configure_turn_log

    _logging()
    settings = thread_budget(checked_settings())
    configure_turn_log(settings.web.turn_log)
    host = args.host or settings.web.host
    port = args.port or settings.web.port
    try:
        app = build_app(build(data_dir_of(args), settings, action_endpoint=args.action_endpoint, remember_tries=True))
    except (IndexUnavailable, SettingsError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    slack = ("Slack events at /slack/events" if os.environ.get("SLACK_BOT_TOKEN") and
             os.environ.get("SLACK_SIGNING_SECRET") else "Slack off: SLACK_BOT_TOKEN/SLACK_SIGNING_SECRET unset")
    serve(app, host, port, ready=lambda: stderr(f"blogbot is ready: open http://{shown}:{port}/ "
                                                   f"(widget: http://{shown}:{port}/widget.js; {slack})"),
          web=settings.web)
    return 0


def cmd_slack(args: argparse.Namespace) -> int:
    """`blogbot slack --socket`: run the Slack app in Socket Mode until interrupted."""
    if not args.socket:
        raise UsageError("Slack's HTTP mode runs inside `blogbot serve` (POST /slack/events); "
                         "use `blogbot slack --socket` for Socket Mode")
    token, app_token = os.environ.get("SLACK_BOT_TOKEN"), os.environ.get("SLACK_APP_TOKEN")
    if not token or not app_token:
        raise UsageError("Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…) in the environment")
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.channels.slack.app import create_slack_app

    from bot.channels.metrics import Metrics

    assistant = _assistant(args, remember_tries=True)
    app = create_slack_app(assistant.engine, assistant.feedback, token, None, os.environ.get("SLACK_API_URL"),
                           metrics=Metrics.of_assistant(assistant))
    stderr("blogbot: connected to Slack in Socket Mode (Ctrl-C stops)")
    SocketModeHandler(app, app_token).start()
    return 0


def cmd_eval_nlu(args: argparse.Namespace) -> int:
    """`blogbot eval nlu`: score the NLU by cross-validation (and on held-out utterances, if given)."""
    from bot.nlu.evaluation import UtteranceFileError, cross_validate, evaluate_nlu, load_utterances

    try:
        utterances = load_utterances(args.utterances) if args.utterances else None
    except UtteranceFileError as exc:
        raise UsageError(str(exc)) from None
    nlu = _nlu(args)
    results = {}
    if utterances:
        results["held_out"] = evaluate_nlu(nlu, utterances)
    results["cross_validation"] = cross_validate(nlu, args.folds)
    if args.json:
        print(json.dumps(results))
        return 0
    for name, scored in results.items():
        line = f"{name}: {scored['utterances']} utterances, accuracy {scored['accuracy']:.3f}"
        if "accuracy_top1" in scored:
            line += f" (top-1 {scored['accuracy_top1']:.3f}, {scored['below_threshold']} below the threshold)"
        print(line)
        print(f"  {'intent':20} {'precision':>9} {'recall':>7} {'n':>4}")
        for intent, m in scored["per_intent"].items():
            precision = "-" if m["precision"] is None else f"{m['precision']:.3f}"
            recall = "-" if m["recall"] is None else f"{m['recall']:.3f}"
            print(f"  {intent:20} {precision:>9} {recall:>7} {m['support']:>4}")
        if scored["confusions"]:
            print("  confusions (gold -> predicted):")
            for c in scored["confusions"][:15]:
                print(f"    {c['gold']} -> {c['predicted']}: {c['count']}")
    return 0


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
                 evaluate_kinds: argparse._SubParsersAction) -> None:
    """Add the dialogue commands to `commands` (the parser's sub-commands) and `eval nlu` to `evaluate_kinds`."""
    parse = commands.add_parser("parse", parents=[common], help="intent and entities of a text (NLU only)")
    parse.add_argument("text", nargs="?")
    parse.add_argument("--json", action="store_true", help="one JSON object")
    parse.add_argument("--jsonl", action="store_true", help="texts from stdin, one JSON line out per text")
    parse.set_defaults(func=cmd_parse)

    chat = commands.add_parser("chat", parents=[common], help="hold a conversation in the terminal")
    chat.add_argument("--sender", default="terminal", help="conversation id (default: terminal)")
    chat.add_argument("--action-endpoint", help="run actions on this `blogbot actions` server (…/webhook)")
    chat.add_argument("--record", metavar="FILE.yml", help="save the conversation as a test script")
    chat.set_defaults(func=cmd_chat)

    test = commands.add_parser("test", parents=[common], help="run scripted conversations")
    test.add_argument("paths", nargs="*", help="files or folders of .yml scripts (default: tests/conversations)")
    test.add_argument("--json", action="store_true", help='one JSON line per conversation: {"name", "file", "passed", "failure"}')
    test.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
    test.set_defaults(func=cmd_test)

    actions = commands.add_parser("actions", parents=[common], help="run the rasa-sdk action server")
    actions.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    actions.add_argument("--port", type=int, default=5055, help="port (default 5055)")
    actions.set_defaults(func=cmd_actions)

    serve = commands.add_parser("serve", parents=[common], help="web chat API, widget and demo page")
    serve.add_argument("--host", help="address to bind (default: web.host in settings, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: web.port in settings, 8000)")
    serve.add_argument("--action-endpoint", help="run actions on this `blogbot actions` server (…/webhook)")
    serve.set_defaults(func=cmd_serve)

    slack = commands.add_parser("slack", parents=[common], help="the Slack app in Socket Mode")
    slack.add_argument("--socket", action="store_true", help="connect with SLACK_APP_TOKEN (no public URL needed)")
    slack.set_defaults(func=cmd_slack)

    nlu = evaluate_kinds.add_parser("nlu", parents=[common], help="intent accuracy, precision/recall, confusions")
    nlu.add_argument("--utterances", help='held-out JSONL file of {"text", "intent"} lines')
    nlu.add_argument("--folds", type=int, default=5, help="cross-validation folds over the configured examples")
    nlu.add_argument("--json", action="store_true")
    nlu.set_defaults(func=cmd_eval_nlu)
