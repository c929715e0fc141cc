"""The Watson Assistant commands of `blogbot`: import-watson (a dialog skill export as a config
folder) and export-watson (the config folder as a dialog skill)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.common import UsageError, stderr


def cmd_import_watson(args: argparse.Namespace) -> int:
    """`blogbot import-watson SKILL.json --out DIR`: write the config folder, print the report."""
    from bot.watson.importer import OutputNotEmpty, import_skill
    from bot.watson.skill import NotADialogSkill

    try:
        report = import_skill(args.skill, args.out, answer_from_blog=args.answer_from_blog, force=args.force)
    except (NotADialogSkill, OutputNotEmpty) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps({"skill": report.skill, "out": str(report.out_dir), "counts": report.counts,
                          "notes": report.notes}, ensure_ascii=False))
    else:
        print(report.summary())
        stderr(f"run it: BLOGBOT_CONFIG_DIR={report.out_dir} blogbot chat")
    return 0


def cmd_export_watson(args: argparse.Namespace) -> int:
    """`blogbot export-watson --out skill.json`: the config folder as a dialog skill export."""
    from bot.watson.exporter import export_skill
    from knowledge.settings import SettingsError

    try:
        skill = export_skill(name=args.name)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    text = json.dumps(skill, ensure_ascii=False, indent=2)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        stderr(f"wrote {args.out}: {len(skill['intents'])} intents, {len(skill['dialog_nodes'])} dialog nodes")
    return 0


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add import-watson and export-watson to `commands` (the parser's sub-commands)."""
    importing = commands.add_parser("import-watson", parents=[common],
                                    help="a Watson Assistant dialog skill export as a config folder")
    importing.add_argument("skill", help="the skill's JSON (Download skill, or the v1 workspace API)")
    importing.add_argument("--out", required=True, help="the config folder to write (use it with BLOGBOT_CONFIG_DIR)")
    importing.add_argument("--answer-from-blog", action="store_true",
                           help="where the skill's anything_else would answer, the blog answers (dialog.skill_fallback: blog)")
    importing.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    importing.add_argument("--json", action="store_true", help="the report as one JSON object")
    importing.set_defaults(func=cmd_import_watson)

    exporting = commands.add_parser("export-watson", parents=[common],
                                    help="the config folder as a Watson Assistant dialog skill export")
    exporting.add_argument("--out", required=True, help="the JSON file to write (- for standard output)")
    exporting.add_argument("--name", default="blogbot", help="the skill's name (default blogbot)")
    exporting.set_defaults(func=cmd_export_watson)
