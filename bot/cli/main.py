"""The `blogbot` command line. Exit codes: 0 ok, 1 failure, 2 bad usage or bad input."""

from __future__ import annotations

import argparse
import os
import sys

from bot.cli import config_commands, dialogue_commands, knowledge_commands, report_commands, watson_commands
from bot.cli.common import UsageError, stderr
from knowledge.markup import unicode_problem


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="where the index lives (default: $BLOGBOT_DATA_DIR or ./.blogbot)")
    parser = argparse.ArgumentParser(prog="blogbot", description="Chat assistant for a technical blog.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kinds = knowledge_commands.add_commands(commands, common)
    dialogue_commands.add_commands(commands, common, kinds)
    watson_commands.add_commands(commands, common)
    config_commands.add_commands(commands)
    report_commands.add_commands(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command `argv` (default: the process's arguments) names; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="surrogateescape")    # a bad line is refused, not a crash
    try:
        for name, value in vars(args).items():
            if isinstance(value, str) and unicode_problem(value):
                raise UsageError(f"{name}: {unicode_problem(value)}")
        return args.func(args)
    except UsageError as exc:
        stderr(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        stderr("interrupted")
        return 1
    except BrokenPipeError:
        return 0


def run() -> None:
    """Console entry point: run, flush, and leave without the interpreter's teardown of torch
    and transformers (about 1.5 s of every command that loaded a model). Files and the index are
    closed by then."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
